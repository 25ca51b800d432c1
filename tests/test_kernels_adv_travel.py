"""adv_travel kernels (PP-02, PP-03, PP-05 ... PP-11) against their oracles, in chunks, and at
the edges.

Below ring capacity each bounded kernel must agree with its unbounded oracle exactly (fired
rows, observed value, evidence = newest refs in the window); one batch must equal the same
rows split into chunks with the state carried; far above capacity a kernel must still fire.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicators import registry
from indicators.columns import CHANNEL_CODE, TXN_CODE
from tests.bits import (
    PROFILE_ENTITY,
    PROFILE_TRAVEL_OCCUPATION,
    REF_AD_PREMIUM,
    REF_ESCORT_AD,
    REF_ESCORT_PROCESSOR,
    REF_PAYMENT_SERVICE,
    REF_SOURCE_JURISDICTION,
)
from tests.kernel_harness import (
    assert_chunk_invariant,
    assert_empty_batch_fires_nothing,
    assert_matches_oracle,
    assert_saturation_fires,
    kernel_settings,
    note_firing,
)
from tests.kernel_harness import at as _at
from tests.oracles_adv_travel import ORACLES
from tests.strategies import chunk_bounds, columns_from_rows, params_for
from tests.strategies_adv_travel import GROUP_IDS, adv_travel_batches

SETTINGS = kernel_settings(max_examples=60)


@pytest.mark.parametrize("spec_id", GROUP_IDS)
@SETTINGS
@given(data=st.data())
def test_kernel_matches_oracle(spec_id: str, data: st.DataObject) -> None:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    columns = data.draw(adv_travel_batches(spec_id, dense=dense), label="columns")
    params = data.draw(params_for(spec), label="params")
    note_firing(assert_matches_oracle(spec_id, columns, params, ORACLES[spec_id]))


@pytest.mark.parametrize("spec_id", GROUP_IDS)
@SETTINGS
@given(data=st.data())
def test_chunked_run_equals_whole_run(spec_id: str, data: st.DataObject) -> None:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    columns = data.draw(adv_travel_batches(spec_id, dense=dense, max_per_customer=40),
                        label="columns")
    params = data.draw(params_for(spec), label="params")
    n = len(columns["cust"])
    bounds = data.draw(chunk_bounds(n), label="chunk bounds")
    assert_chunk_invariant(spec, columns, params, bounds)


@pytest.mark.parametrize("spec_id", GROUP_IDS)
def test_empty_batch_fires_nothing(spec_id: str) -> None:
    assert_empty_batch_fires_nothing(registry.get(spec_id))


# --------------------------------------------------------------------------- scenarios

_T = TXN_CODE
_CH = CHANNEL_CODE
_TRAVEL = {"profile_flags": [PROFILE_TRAVEL_OCCUPATION]}


def _buy(ts: int, mcc: int, amount: float = 20.0, **kw) -> dict:
    return {"ts": ts, "txn_type": _T["purchase"], "amount": amount, "mcc": mcc,
            "channel": _CH["pos"], **kw}


def _row(ts: int, kind: str, amount: float = 100.0, **kw) -> dict:
    return {"ts": ts, "txn_type": _T[kind], "amount": amount, **kw}


def _keyed(rows: list[dict]) -> list[dict]:
    """Give every row a txn_key (1000 + row number) unless it has one."""
    return [{"txn_key": 1000 + i, **r} for i, r in enumerate(rows)]


# Saturation: far above ring capacity the kernel still fires, with the newest evidence.

def _pp02_dense():
    return [_row(_at(i / 8), "emt_in", ref_flags=REF_PAYMENT_SERVICE) for i in range(100)] + \
        [_row(_at(13), "eft_in", ref_flags=REF_ESCORT_PROCESSOR)], None


def _pp03_dense():
    rows = [_buy(_at(i / 4), 7311, 12.0, ref_flags=REF_ESCORT_AD) for i in range(100)]
    return rows + [_buy(_at(25 + i / 8), 4816, 30.0) for i in range(40)], None


def _pp05_dense():
    # Forty rounded motel purchases, one every six hours at different motels.
    return _keyed([_buy(_at(i / 4), 7011, 100.0, merchant=500 + i) for i in range(40)]), None


def _pp06_dense():
    rows = []
    for k in range(40):
        rows += [_buy(_at(k / 2), 7011, 120.0, city=101 + k % 3),
                 _row(_at(k / 2, 14.0), "cash_deposit", 300.0, city=101 + k % 3,
                      channel=_CH["atm"])]
    return rows, None


def _pp07_dense():
    return [_buy(_at(i / 4), 4511, 300.0) for i in range(60)], None


def _pp08_dense():
    return [_buy(_at(i / 24), 4121, 15.0) for i in range(100)], None


def _pp08_parking():
    return [_buy(_at(i / 4), 7523, 5.0) for i in range(100)], None


def _pp09_dense():
    return [_buy(_at(i / 24), 5411, city=200 + i, province=11, channel=_CH["pos"])
            for i in range(60)], {"home_city": [101]}


def _pp10_dense():
    return [_buy(_at(i / 24), 5814, 9.0, channel=_CH["mobile"]) for i in range(100)], None


def _pp11_dense():
    return [_buy(_at(i // 2, 1.0 + i % 2), 7297, 150.0) for i in range(50)], None


SATURATION = {
    "PP-02": [_pp02_dense],
    "PP-03": [_pp03_dense],
    "PP-05": [_pp05_dense],
    "PP-06": [_pp06_dense],
    "PP-07": [_pp07_dense],
    "PP-08": [_pp08_dense, _pp08_parking],
    "PP-09": [_pp09_dense],
    "PP-10": [_pp10_dense],
    "PP-11": [_pp11_dense],
}


@pytest.mark.parametrize(
    ("spec_id", "scenario"),
    [(i, s) for i in GROUP_IDS for s in SATURATION[i]],
    ids=lambda v: v if isinstance(v, str) else v.__name__.strip("_"),
)
def test_saturation_never_hides_a_threshold(spec_id, scenario) -> None:
    rows, profiles = scenario()
    assert_saturation_fires(registry.get(spec_id), columns_from_rows(rows, profiles),
                            ORACLES[spec_id], f"{spec_id} {scenario.__name__}")


# Edge cases: exact boundaries the random search reaches only rarely. Each states the
# expected fired rows and is also checked against the oracle.

_LODGE = {"mcc": 7011, "merchant": 301, "city": 101}
_PARK = {"mcc": 7523}

EDGE_CASES = [
    # PP-02
    ("PP-02", "one escort-processor payment out fires",
     [_row(_at(0), "emt_out", 50.0, ref_flags=REF_ESCORT_PROCESSOR)], None, {}, [1]),
    ("PP-02", "card purchases and refunds through an adult processor do not fire",
     [_buy(_at(0), 5967, 29.99, ref_flags=REF_ESCORT_PROCESSOR),
      _row(_at(1), "refund", 29.99, ref_flags=REF_ESCORT_PROCESSOR),
      _row(_at(2), "preauth", 1.0, ref_flags=REF_ESCORT_PROCESSOR)], None, {}, [0, 0, 0]),
    ("PP-02", "generic processor credits to a business do not fire",
     [_row(_at(k), "eft_in", ref_flags=REF_PAYMENT_SERVICE) for k in range(3)],
     {"profile_flags": [PROFILE_ENTITY]}, {}, [0, 0, 0]),
    ("PP-02", "generic credits ignored when generic_processors = 0",
     [_row(_at(k), "eft_in", ref_flags=REF_PAYMENT_SERVICE) for k in range(3)],
     None, {"generic_processors": 0}, [0, 0, 0]),
    ("PP-02", "processor payments out are not credits",
     [_row(_at(k), "emt_out", ref_flags=REF_PAYMENT_SERVICE) for k in range(3)],
     None, {}, [0, 0, 0]),
    ("PP-02", "a credit exactly window_days old is outside",
     [_row(_at(0), "eft_in", ref_flags=REF_PAYMENT_SERVICE),
      _row(_at(30), "eft_in", ref_flags=REF_PAYMENT_SERVICE),
      _row(_at(30) + 1, "eft_in", ref_flags=REF_PAYMENT_SERVICE)], None, {}, [0, 0, 1]),
    # PP-03
    ("PP-03", "hosting 60 days after the pattern is too late",
     [_buy(_at(0), 7311, 12.0, ref_flags=REF_ESCORT_AD | REF_AD_PREMIUM),
      _buy(_at(60) - 1, 7372, 30.0), _buy(_at(60), 4816, 30.0)], None, {}, [0, 1, 0]),
    ("PP-03", "escort-ad payments at 7311 are not hosting",
     [_buy(_at(k), 7311, 45.0, ref_flags=REF_ESCORT_AD) for k in range(4)], None, {},
     [0, 0, 0, 0]),
    ("PP-03", "ads without the pattern do not count",
     [_buy(_at(0), 7311, 45.0, ref_flags=REF_ESCORT_AD), _buy(_at(1), 4816, 30.0),
      _buy(_at(40), 7311, 45.0, ref_flags=REF_ESCORT_AD)], None, {}, [0, 0, 0]),
    # PP-05
    ("PP-05", "two rounded hotel purchases are not enough; pre-auths are not counted",
     _keyed([_buy(_at(0), 7011, 100.0, merchant=301), _row(_at(1), "preauth", 200.0, **_LODGE),
             _buy(_at(2), 7011, 90.0, merchant=302)]), None, {}, [0, 0, 0]),
    ("PP-05", "rounded hotel purchases of a travelling worker do not fire",
     _keyed([_buy(_at(k), 7011, 100.0, merchant=301 + k) for k in range(4)]), _TRAVEL, {},
     [0, 0, 0, 0]),
    ("PP-05", "same merchant and day, different amounts; not on another day",
     _keyed([_buy(_at(0, 10.0), 7011, 101.5, merchant=301),
             _buy(_at(1, 10.0), 7011, 99.5, merchant=301),
             _buy(_at(1, 11.0), 7011, 99.5, merchant=301),
             _buy(_at(1, 12.0), 7011, 88.25, merchant=301)]), None, {}, [0, 0, 0, 1]),
    ("PP-05", "a purchase settling the earlier pre-auth is not a second room",
     _keyed([_row(_at(0, 10.0), "preauth", 300.0, **_LODGE),
             _row(_at(0, 11.0), "preauth", 150.0, linked=1000, **_LODGE)]), None, {}, [0, 0]),
    ("PP-05", "a refund exactly refund_days later does not match, one second earlier does",
     _keyed([_buy(_at(0), 7512, 77.7, merchant=310), _row(_at(10), "refund", 77.7, merchant=310),
             _buy(_at(20), 3400, 66.6, merchant=311),
             _row(_at(30) - 1, "refund", 66.6, linked=1002)]), None, {}, [0, 0, 0, 1]),
    ("PP-05", "an unsettled pre-auth is reported once, at the first row after settle_days",
     _keyed([_row(_at(0), "preauth", 250.0, **_LODGE),
             _buy(_at(5), 5411, 12.0, merchant=999),
             _row(_at(14), "emt_in", 40.0), _row(_at(15), "emt_in", 40.0)]), None, {},
     [0, 0, 1, 0]),
    ("PP-05", "a purchase at the pre-auth's merchant settles it",
     _keyed([_row(_at(0), "preauth", 250.0, **_LODGE), _buy(_at(2), 7011, 233.3, merchant=301),
             _row(_at(20), "emt_in", 40.0)]), None, {}, [0, 0, 0]),
    ("PP-05", "reversal of a settled pre-auth does not fire, of an unsettled one does",
     _keyed([_row(_at(0), "preauth", 250.0, **_LODGE),
             _buy(_at(1), 7011, 250.0, merchant=301, linked=1000),
             _row(_at(2), "reversal", 250.0, linked=1000, mcc=7011),
             _row(_at(3), "preauth", 180.0, mcc=7011, merchant=302),
             _row(_at(4), "reversal", 180.0, linked=1003)]), None, {}, [0, 0, 0, 0, 1]),
    # PP-06
    ("PP-06", "cash exactly pair_hours after the lodging does not pair",
     [_buy(_at(0), 7011, 120.0, city=101),
      _row(_at(1) - 1, "cash_deposit", city=101, channel=_CH["branch"]),
      _row(_at(1) - 1, "cash_deposit", city=101, channel=_CH["atm"]),
      _row(_at(1), "cash_deposit", city=101, channel=_CH["atm"])],
     None, {}, [0, 0, 1, 0]),
    ("PP-06", "a travelling worker's pairs do not fire",
     [_buy(_at(0), 7011, 120.0, city=101),
      _row(_at(0, 13.0), "cash_deposit", city=101, channel=_CH["atm"]),
      _row(_at(0, 14.0), "cash_deposit", city=101, channel=_CH["atm"])],
     _TRAVEL, {}, [0, 0, 0]),
    ("PP-06", "branch withdrawals are not ATM use",
     [_buy(_at(0), 7011, 120.0, city=101),
      _row(_at(0, 13.0), "cash_withdrawal", city=101, channel=_CH["branch"]),
      _row(_at(0, 14.0), "cash_withdrawal", city=101, channel=_CH["branch"])],
     None, {}, [0, 0, 0]),
    ("PP-06", "matches in two cities with min_pairs raised",
     [_buy(_at(0), 7011, 120.0, city=101),
      _row(_at(0, 13.0), "cash_deposit", city=101, channel=_CH["atm"]),
      _buy(_at(2), 3600, 120.0, city=102),
      _row(_at(2, 13.0), "cash_withdrawal", city=102, channel=_CH["atm"])],
     None, {"min_pairs": 5}, [0, 0, 0, 1]),
    # PP-07
    ("PP-07", "foreign alone or a source country alone is not X7",
     [_buy(_at(0), 4511, 900.0, foreign=1), _buy(_at(40), 4511, 900.0,
                                                 ref_flags=REF_SOURCE_JURISDICTION),
      _buy(_at(80), 3100, 900.0, foreign=1, ref_flags=REF_SOURCE_JURISDICTION)],
     None, {}, [0, 0, 1]),
    ("PP-07", "a travelling worker's tickets do not count, a source-jurisdiction one does",
     [_buy(_at(k), 4511, 300.0) for k in range(3)]
     + [_buy(_at(3), 3100, 900.0, foreign=1, ref_flags=REF_SOURCE_JURISDICTION)],
     _TRAVEL, {}, [0, 0, 0, 1]),
    ("PP-07", "three tickets within 30 days, with a commuter rail MCC not counted",
     [_buy(_at(0), 4112, 50.0), _buy(_at(10), 4111, 5.0), _buy(_at(20), 4131, 40.0),
      _buy(_at(29), 4722, 400.0)], None, {}, [0, 0, 0, 1]),
    # PP-08
    ("PP-08", "parking of exactly max_parking_cad is not low-value",
     [_buy(_at(k), 7523, 20.0) for k in range(10)] + [_buy(_at(11), 7523, 19.99)],
     None, {"min_parking": 2}, [0] * 10 + [0]),
    ("PP-08", "ten low-value parking payments in 30 days",
     [_buy(_at(3 * k), 7523, 4.0) for k in range(10)], None, {},
     [0] * 9 + [1]),
    # PP-09
    ("PP-09", "three non-home cities; home city rows never fire",
     [_buy(_at(0), 5411, city=101, province=11), _buy(_at(1), 5411, city=102, province=11),
      _buy(_at(2), 5411, city=103, province=12), _buy(_at(3), 5411, city=104, province=13),
      _buy(_at(4), 5411, city=101, province=11)],
     {"home_city": [101]}, {"min_provinces": 15}, [0, 0, 0, 1, 0]),
    ("PP-09", "province rule needs one more province until the home province is seen",
     [_buy(_at(0), 5411, city=102, province=11), _buy(_at(1), 5411, city=103, province=12),
      _buy(_at(2), 5411, city=101, province=11), _buy(_at(3), 5411, city=103, province=12)],
     {"home_city": [101]}, {"min_cities": 15, "min_provinces": 2}, [0, 0, 0, 0]),
    ("PP-09", "without a home city on file, one more city",
     [_buy(_at(k), 5411, city=101 + k, province=11) for k in range(4)],
     None, {"min_provinces": 15}, [0, 0, 0, 1]),
    ("PP-09", "two non-home provinces once the home province is known",
     [_buy(_at(0), 5411, city=101, province=11), _buy(_at(1), 5411, city=103, province=12),
      _buy(_at(2), 5411, city=104, province=13)],
     {"home_city": [101]}, {"min_cities": 15}, [0, 0, 1]),
    ("PP-09", "online purchases do not count",
     [_buy(_at(k), 5411, city=102 + k, province=12, channel=_CH["online"]) for k in range(4)],
     {"home_city": [101]}, {}, [0, 0, 0, 0]),
    ("PP-09", "travel occupation suppresses",
     [_buy(_at(k), 5411, city=102 + k, province=12 + k) for k in range(4)],
     {"home_city": [101], **_TRAVEL}, {}, [0, 0, 0, 0]),
    # PP-10
    ("PP-10", "fast food: the window is local days, not 7 x 24 h",
     [_buy(_at(0, 23.0), 5814, 9.0), _buy(_at(1, 12.0), 5814, 9.0),
      _buy(_at(7, 1.0), 5814, 9.0)], None, {"min_fast_food": 3}, [0, 0, 0]),
    ("PP-10", "three delivery orders on three days",
     [_buy(_at(d, 10.0 + h), 5814, 14.0, channel=_CH["mobile"])
      for d in (0, 5, 9) for h in range(3)], None, {}, [0] * 8 + [1]),
    ("PP-10", "delivery at the counter is not delivery",
     [_buy(_at(d, 10.0 + h), 5814, 14.0, channel=_CH["pos"]) for d in (0, 5, 9) for h in range(3)],
     None, {}, [0] * 9),
    ("PP-10", "the baseline raises the bar",
     [_buy(_at(k), 5912, 10.0) for k in range(60)] + [_buy(_at(60 + k / 4), 5912, 10.0)
                                                      for k in range(8)],
     None, {"baseline_days": 30}, [0] * 5 + [1] * 35 + [0] * 28),
    # PP-11
    ("PP-11", "06:00 is not after hours, 23:00 is; bars only from 03:00",
     [_buy(_at(0, 6.0), 7297, 100.0), _buy(_at(1, 23.0), 7297, 100.0),
      _buy(_at(2, 2.5), 5813, 100.0), _buy(_at(3, 3.0), 5813, 100.0)],
     None, {}, [0, 0, 0, 1]),
]


@pytest.mark.parametrize(
    ("spec_id", "name", "rows", "profiles", "overrides", "expected"), EDGE_CASES,
    ids=[f"{c[0]}-{c[1]}" for c in EDGE_CASES],
)
def test_edge_case(spec_id, name, rows, profiles, overrides, expected) -> None:
    spec = registry.get(spec_id)
    columns = columns_from_rows(rows, profiles)
    params = spec.resolve_params(overrides)
    out = assert_matches_oracle(spec_id, columns, params, ORACLES[spec_id])
    assert out.fired.tolist() == expected, name


def test_attempted_rows_are_ignored() -> None:
    rows = [_row(_at(k), "eft_in", ref_flags=REF_ESCORT_PROCESSOR, attempted=1) for k in range(3)]
    out = assert_matches_oracle("PP-02", columns_from_rows(rows),
                                registry.get("PP-02").resolve_params(), ORACLES["PP-02"])
    assert not out.fired.any()
