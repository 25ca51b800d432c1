"""Each kernel against its slow plain-Python oracle (STYLE item 13), and under saturation.

Below ring capacity the bounded kernel must agree with the unbounded oracle exactly: the
same rows fire, with the same observed value and the same evidence (the most recent events
in the window, newest first). Far above capacity a kernel must still fire: a ring that
saturates may cap a count, never hide a threshold.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicators import registry
from indicators.columns import CHANNEL_CODE, TXN_CODE
from tests.bits import PROFILE_TRAVEL_OCCUPATION, REF_ESCORT_AD
from tests.kernel_harness import (
    KERNEL_IDS,
    KERNEL_SETTINGS,
    assert_empty_batch_fires_nothing,
    assert_matches_oracle,
    assert_saturation_fires,
    note_firing,
)
from tests.kernel_harness import at as _at
from tests.oracles import ORACLES
from tests.strategies import HOUR, batches, columns_from_rows, params_for


@pytest.mark.parametrize("spec_id", KERNEL_IDS)
@KERNEL_SETTINGS
@given(data=st.data())
def test_kernel_matches_oracle(spec_id: str, data: st.DataObject) -> None:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    columns = data.draw(batches(focus=spec_id, dense=dense), label="columns")
    params = data.draw(params_for(spec), label="params")
    note_firing(assert_matches_oracle(spec_id, columns, params, ORACLES[spec_id]))


@pytest.mark.parametrize("spec_id", KERNEL_IDS)
def test_empty_batch_fires_nothing(spec_id: str) -> None:
    assert_empty_batch_fires_nothing(registry.get(spec_id))


def test_every_kernel_has_an_oracle() -> None:
    """Every kernel in the registry is compared with a reference implementation, here or in
    one of the group modules (``test_kernels_*``)."""
    from tests.oracles_adv_travel import ORACLES as ADV_TRAVEL
    from tests.oracles_funnel import ORACLES as FUNNEL
    from tests.oracles_lifestyle import ORACLES as LIFESTYLE
    from tests.oracles_rails import RAILS_ORACLES

    covered = set(ORACLES) | set(ADV_TRAVEL) | set(FUNNEL) | set(LIFESTYLE) | set(RAILS_ORACLES)
    assert sorted(set(registry.REGISTRY) - covered) == []


# --------------------------------------------------------------------------- saturation

_T = TXN_CODE
_CH = CHANNEL_CODE
_TRAVEL = {"profile_flags": [PROFILE_TRAVEL_OCCUPATION]}


def _pp01_dense():
    return [{"ts": _at(i / 6), "txn_type": _T["purchase"], "amount": 45.0,
             "ref_flags": REF_ESCORT_AD, "mcc": 7311} for i in range(120)], None


def _pp04_dense():
    # 120 one-night stays at different hotels, every three hours; velocity rule only.
    return [{"ts": _at(i / 8), "txn_type": _T["purchase"], "amount": 90.0, "mcc": 7011,
             "merchant": 1000 + i, "city": 101 + i % 3} for i in range(120)], _TRAVEL


def _pp04_mixed():
    # One 25-night stay charged four times a day, then three short stays elsewhere.
    rows = [{"ts": _at(i / 4), "txn_type": _T["purchase"], "amount": 40.0, "mcc": 7011,
             "merchant": 501, "city": 101} for i in range(100)]
    rows += [{"ts": _at(26 + 2 * k), "txn_type": _T["purchase"], "amount": 90.0, "mcc": 7011,
              "merchant": 600 + k, "city": 101} for k in range(3)]
    return rows, _TRAVEL


def _pp12_dense():
    return [{"ts": _at(n, h), "txn_type": _T["cash_withdrawal"], "amount": 100.0,
             "channel": _CH["atm"]} for n in range(30) for h in (23.0, 23.5, 24.5, 25.0)], None


def _pp12_mixed():
    # 200 daytime cash transactions, then four late ones: the share is tiny, the count is not.
    rows = [{"ts": _at(i / 8, 12.0), "txn_type": _T["cash_deposit"], "amount": 50.0,
             "channel": _CH["atm"]} for i in range(200)]
    rows += [{"ts": _at(25 + k, 23.5), "txn_type": _T["cash_withdrawal"], "amount": 100.0,
              "channel": _CH["atm"]} for k in range(4)]
    return rows, None


def _pp13_dense():
    return [{"ts": _at(i / 12), "txn_type": _T["cash_deposit"], "amount": 300.0,
             "channel": _CH["atm"], "location": 1000 + i, "city": 101} for i in range(120)], \
        {"home_city": [101]}


def _pp13_mixed():
    rows = [{"ts": _at(i / 8), "txn_type": _T["cash_deposit"], "amount": 300.0,
             "channel": _CH["branch"], "location": 201, "city": 101} for i in range(150)]
    rows += [{"ts": _at(20 + k), "txn_type": _T["cash_deposit"], "amount": 300.0,
              "channel": _CH["atm"], "location": 202 + k, "city": 101} for k in range(2)]
    return rows, {"home_city": [101]}


def _pp16_dense():
    return [{"ts": _at(i / 6), "txn_type": _T["emt_in"], "amount": 100.0,
             "counterparty": 1000 + i} for i in range(120)], None


def _pp16_mixed():
    rows = [{"ts": _at(i / 10), "txn_type": _T["emt_in"], "amount": 100.0, "counterparty": 401}
            for i in range(200)]
    rows += [{"ts": _at(21 + k), "txn_type": _T["emt_in"], "amount": 100.0,
              "counterparty": 402 + k} for k in range(4)]
    return rows, None


def _pass_pair(day: float, amount: float = 500.0) -> list[dict]:
    return [{"ts": _at(day), "txn_type": _T["emt_in"], "amount": amount},
            {"ts": _at(day, 13.0), "txn_type": _T["cash_withdrawal"], "amount": amount,
             "channel": _CH["atm"]}]


def _pp17_dense():
    return [r for i in range(100) for r in _pass_pair(i / 4)], None


def _pp17_mixed():
    # Five fast passes, then a burst of 100 credits never passed (more than the ring holds
    # while they are pending), then one more fast pass after the burst stopped being pending.
    rows = [r for k in range(5) for r in _pass_pair(2 * k)]
    rows += [{"ts": _at(10 + i / 12), "txn_type": _T["emt_in"], "amount": 100.0}
             for i in range(100)]
    rows += _pass_pair(22)
    return rows, None


SATURATION = {
    "PP-01": [_pp01_dense],
    "PP-04": [_pp04_dense, _pp04_mixed],
    "PP-12": [_pp12_dense, _pp12_mixed],
    "PP-13": [_pp13_dense, _pp13_mixed],
    "PP-16": [_pp16_dense, _pp16_mixed],
    "PP-17": [_pp17_dense, _pp17_mixed],
}


@pytest.mark.parametrize(
    ("spec_id", "scenario"),
    [(i, s) for i in KERNEL_IDS for s in SATURATION[i]],
    ids=lambda v: v if isinstance(v, str) else v.__name__.strip("_"),
)
def test_saturation_never_hides_a_threshold(spec_id, scenario) -> None:
    rows, profiles = scenario()
    assert_saturation_fires(registry.get(spec_id), columns_from_rows(rows, profiles),
                            ORACLES[spec_id], f"{spec_id} {scenario.__name__}")


# --------------------------------------------------------------------------- attempted rows


def test_attempted_ad_payments_are_ignored() -> None:
    columns = columns_from_rows([
        {"ts": _at(k), "txn_type": _T["purchase"], "amount": 45.0, "ref_flags": REF_ESCORT_AD,
         "mcc": 7311, "attempted": 1} for k in range(5)])
    out = assert_matches_oracle("PP-01", columns, registry.get("PP-01").resolve_params(),
                                ORACLES["PP-01"])
    assert not out.fired.any()


# --------------------------------------------------------------------------- edge cases
# Exact boundaries the random search reaches only rarely. Each case states the expected
# fired rows and is also checked against the oracle.


def _lodging(ts: int, merchant: int, city: int = 101) -> dict:
    return {"ts": ts, "txn_type": _T["purchase"], "amount": 100.0, "mcc": 7011,
            "merchant": merchant, "city": city}


def _cash(ts: int, kind: str = "cash_withdrawal", **kw) -> dict:
    return {"ts": ts, "txn_type": _T[kind], "amount": 100.0, "channel": _CH["atm"], **kw}


def _flow(ts: int, kind: str, amount: float, **kw) -> dict:
    return {"ts": ts, "txn_type": _T[kind], "amount": amount, **kw}


EDGE_CASES = [
    # PP-04: a row joins a stay at the same merchant within one local day of its last day.
    ("PP-04", "next day joins, two days later does not",
     [_lodging(_at(0), 301), _lodging(_at(1), 301), _lodging(_at(3), 301)],
     None, {"min_stays": 2}, [0, 0, 1]),
    ("PP-04", "a stay exactly stay_days old is outside the window",
     [_lodging(_at(0), 301), _lodging(_at(14), 302)], _TRAVEL, {"min_stays": 2}, [0, 0]),
    ("PP-04", "a stay one second inside the window counts",
     [_lodging(_at(0), 301), _lodging(_at(14) - 1, 302)], _TRAVEL, {"min_stays": 2}, [0, 1]),
    ("PP-04", "a stay keeps the city it started in",
     [_lodging(_at(0), 301, city=101), _lodging(_at(1), 301, city=102),
      _lodging(_at(2), 302, city=102)], None, {"min_cities": 2}, [0, 0, 1]),
    ("PP-04", "spend exactly at the cap does not fire",
     [{**_lodging(_at(k), 300 + k), "amount": 500.0} for k in range(4)], None,
     {"min_stays": 16, "min_cities": 16}, [0, 0, 0, 0]),
    # PP-12: the late window is [start_hour, end_hour) in local time.
    ("PP-12", "end_hour itself is not late, start_hour is",
     [_cash(_at(k, 6.0)) for k in range(4)] + [_cash(_at(k, 22.0)) for k in range(4, 8)],
     None, {"min_share": 1.0}, [0] * 7 + [1]),
    ("PP-12", "a share exactly min_share fires",
     [_cash(_at(0, 12.0)), _cash(_at(1, 12.0)), _cash(_at(2, 23.0)), _cash(_at(3, 23.0))],
     None, {"min_share": 0.5}, [0, 0, 0, 1]),
    # PP-13: any in-person channel; the pair window excludes its far edge.
    ("PP-13", "withdrawal at a branch in another city",
     [_cash(_at(0), "cash_deposit", city=101),
      _cash(_at(1), city=102, channel=_CH["branch"])], None, {}, [0, 1]),
    ("PP-13", "spend exactly pair_hours after the deposit does not pair",
     [_cash(_at(0), "cash_deposit", city=101), _cash(_at(0) + 36 * HOUR, city=102)],
     None, {}, [0, 0]),
    ("PP-13", "spend one second inside pair_hours pairs",
     [_cash(_at(0), "cash_deposit", city=101), _cash(_at(0) + 36 * HOUR - 1, city=102)],
     None, {}, [0, 1]),
    # PP-16: a third-party share exactly min_share fires.
    ("PP-16", "third-party share exactly min_share",
     [_flow(_at(0), "eft_in", 400.0, counterparty=499)]
     + [_flow(_at(k), "emt_in", 200.0, counterparty=401 + k) for k in range(1, 4)],
     None, {}, [0, 0, 0, 1]),
    # PP-17: debits pass the oldest credits first; thresholds are inclusive.
    ("PP-17", "first in, first out",
     [_flow(_at(0, 10.0), "emt_in", 100.0), _flow(_at(0, 11.0), "emt_in", 1000.0),
      _flow(_at(0, 12.0), "emt_out", 500.0)], None, {"min_fast_credits": 1}, [0, 0, 1]),
    ("PP-17", "a credit of exactly min_credit is followed",
     [_flow(_at(0, 10.0), "emt_in", 50.0), _flow(_at(0, 11.0), "cash_withdrawal", 50.0)],
     None, {"min_fast_credits": 1}, [0, 1]),
    ("PP-17", "bill payments are living spend",
     [_flow(_at(0, 10.0), "emt_in", 500.0), _flow(_at(0, 11.0), "bill_payment", 500.0)],
     None, {"min_fast_credits": 1}, [0, 0]),
    ("PP-17", "a credit older than pass_hours cannot be passed",
     [_flow(_at(0), "emt_in", 500.0), _flow(_at(2), "emt_out", 500.0)], None,
     {"min_fast_credits": 1, "fast_hours": 168, "pass_hours": 48}, [0, 0]),
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
