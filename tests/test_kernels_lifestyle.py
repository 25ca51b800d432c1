"""Lifestyle group kernels (PP-29, PP-30, PP-31, PP-32, PK-07) against their oracles.

Same properties as ``test_kernel_oracles`` and ``test_kernel_chunk_invariance``: below
ring / table capacity the bounded kernel agrees exactly with the unbounded oracle (fired
rows, observed value, evidence = newest refs in the window); one batch equals the same
rows in k chunks with state carried; far above capacity a kernel still fires; and exact
boundaries (window edges, thresholds, income bands) behave as documented.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicators import registry
from indicators.columns import CHANNEL_CODE, TXN_CODE
from tests.bits import (
    REF_INMATE_CALL,
    REF_LUXURY,
    REF_RENT,
    REF_SOURCE_JURISDICTION,
    REF_VAGUE_PURPOSE,
)
from tests.kernel_harness import (
    assert_chunk_invariant,
    assert_empty_batch_fires_nothing,
    assert_matches_oracle,
    assert_saturation_fires,
    evidence_refs,
    kernel_settings,
    note_firing,
    run,
)
from tests.kernel_harness import at as _at
from tests.oracles_lifestyle import ORACLES
from tests.strategies import chunk_bounds, columns_from_rows, params_for
from tests.strategies_lifestyle import lifestyle_batches

IDS = ("PP-29", "PP-30", "PP-31", "PP-32", "PK-07")

SETTINGS = kernel_settings(max_examples=60)


def windows(params: dict) -> tuple[int, ...]:
    """The example's window lengths in days (parameters named ``*_days``)."""
    return tuple(int(v) for k, v in params.items() if k.endswith("_days"))


@pytest.mark.parametrize("spec_id", IDS)
@SETTINGS
@given(data=st.data())
def test_kernel_matches_oracle(spec_id: str, data: st.DataObject) -> None:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    edge = data.draw(st.booleans(), label="edge")
    params = data.draw(params_for(spec), label="params")
    columns = data.draw(lifestyle_batches(spec_id, dense=dense, window_days=windows(params),
                                          edge=edge), label="columns")
    note_firing(assert_matches_oracle(spec_id, columns, params, ORACLES[spec_id]))


@pytest.mark.parametrize("spec_id", IDS)
@SETTINGS
@given(data=st.data())
def test_chunked_run_equals_whole_run(spec_id: str, data: st.DataObject) -> None:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    params = data.draw(params_for(spec), label="params")
    columns = data.draw(lifestyle_batches(spec_id, dense=dense, max_per_customer=40,
                                          window_days=windows(params)), label="columns")
    bounds = data.draw(chunk_bounds(len(columns["cust"])), label="chunk bounds")
    assert_chunk_invariant(spec, columns, params, bounds)


@pytest.mark.parametrize("spec_id", IDS)
def test_empty_batch_fires_nothing(spec_id: str) -> None:
    assert_empty_batch_fires_nothing(registry.get(spec_id))


# --------------------------------------------------------------------------- scenarios

_T = TXN_CODE
_CH = CHANNEL_CODE
_SJV = REF_SOURCE_JURISDICTION | REF_VAGUE_PURPOSE


def _profiles(n: int = 1, income: float = float("nan")) -> dict:
    return {"home_city": [0] * n, "profile_flags": [0] * n, "declared_income": [income] * n}


def _columns(rows: list[dict], income: float = float("nan"),
             expected: float = float("nan")) -> dict:
    cols = columns_from_rows(rows, _profiles(income=income))
    cols["expected_monthly"] = np.array([expected], dtype=np.float64)
    return cols


def _lux(ts: int, amount: float, mcc: int = 5944, **kw) -> dict:
    return {"ts": ts, "txn_type": _T["purchase"], "amount": amount, "mcc": mcc, **kw}


def _rent(ts: int, payee: int, kind: str = "emt_out", **kw) -> dict:
    return {"ts": ts, "txn_type": _T[kind], "amount": 1500.0, "counterparty": payee,
            "ref_flags": REF_RENT, **kw}


def _tax(ts: int, payee: int) -> dict:
    return {"ts": ts, "txn_type": _T["bill_payment"], "amount": 900.0, "mcc": 9311,
            "counterparty": payee}


def _tel(ts: int, merchant: int, mcc: int = 4814, **kw) -> dict:
    return {"ts": ts, "txn_type": _T["bill_payment"], "amount": 60.0, "mcc": mcc,
            "merchant": merchant, **kw}


def _intl(ts: int, kind: str = "wire_out", amount: float = 1000.0, flags: int = _SJV,
          **kw) -> dict:
    return {"ts": ts, "txn_type": _T[kind], "amount": amount, "ref_flags": flags,
            "channel": _CH["online"], **kw}


def _credit(ts: int, amount: float, kind: str = "cash_deposit", **kw) -> dict:
    return {"ts": ts, "txn_type": _T[kind], "amount": amount, **kw}


# --------------------------------------------------------------------------- saturation
# Far above ring / table capacity: the kernel must still fire on the last row, never
# report more than the oracle, reach the threshold when the oracle does, and give the
# newest evidence.


def _pp29_dense():
    return _columns([_lux(_at(i / 4), 150.0) for i in range(120)])


def _pp29_wrapping_buckets():
    # Two purchases a day for 200 days: the 92 day buckets wrap twice.
    return _columns([_lux(_at(i / 2), 60.0, mcc=5813) for i in range(400)])


def _pp30_dense():
    # 40 landlords, each paid twice 20 days apart: more payees than table slots.
    rows = [_rent(_at(r + p * 0.1), 1000 + p) for r in (0, 20) for p in range(40)]
    return _columns(rows)


def _pp30_noise():
    # Two landlords paid monthly, with 30 one-off "rent" EMTs to strangers in between.
    rows = [_rent(_at(0), 501), _rent(_at(1), 502)]
    rows += [_rent(_at(2 + i / 2), 2000 + i) for i in range(30)]
    rows += [_rent(_at(30), 501), _rent(_at(31), 502)]
    return _columns(rows)


def _pp30_taxes():
    return _columns([_tax(_at(i / 2), 3000 + i) for i in range(40)])


def _pp31_dense():
    return _columns([_tel(_at(i / 4), 1000 + i) for i in range(60)])


def _pp31_calls():
    return _columns([_tel(_at(i / 4), 700, ref_flags=REF_INMATE_CALL) for i in range(60)])


def _pp32_dense():
    return _columns([_intl(_at(i / 2), amount=100.0) for i in range(80)])


def _pk07_dense():
    return _columns([_credit(_at(i / 4), 100.0) for i in range(110)], expected=500.0)


SATURATION = {
    "PP-29": [_pp29_dense, _pp29_wrapping_buckets],
    "PP-30": [_pp30_dense, _pp30_noise, _pp30_taxes],
    "PP-31": [_pp31_dense, _pp31_calls],
    "PP-32": [_pp32_dense],
    "PK-07": [_pk07_dense],
}


@pytest.mark.parametrize(
    ("spec_id", "scenario"),
    [(i, s) for i in IDS for s in SATURATION[i]],
    ids=lambda v: v if isinstance(v, str) else v.__name__.strip("_"),
)
def test_saturation_never_hides_a_threshold(spec_id, scenario) -> None:
    assert_saturation_fires(registry.get(spec_id), scenario(), ORACLES[spec_id],
                            f"{spec_id} {scenario.__name__}",
                            reaches_threshold=spec_id in ("PP-30", "PP-31", "PP-32"),
                            newest_evidence=spec_id not in ("PP-30",))


def test_day_sums_stay_exact_when_buckets_wrap() -> None:
    """PP-29 and PK-07 keep window sums in day buckets: exact however long the history."""
    for spec_id, columns in (("PP-29", _pp29_wrapping_buckets()),
                             ("PK-07", _columns([_credit(_at(i / 2), 60.0) for i in range(400)],
                                                expected=100.0))):
        assert_matches_oracle(spec_id, columns, registry.get(spec_id).resolve_params(),
                              ORACLES[spec_id])


def test_rent_payees_that_recur_survive_one_off_noise() -> None:
    columns = _pp30_noise()
    out, _, _ = run(registry.get("PP-30"), columns, registry.get("PP-30").resolve_params())
    assert out.fired.tolist() == [0] * 33 + [1]
    assert out.observed[-1] == 2.0
    assert evidence_refs(out.evidence[-1]) == [33, 32]


# --------------------------------------------------------------------------- attempted rows


@pytest.mark.parametrize(("spec_id", "row"), [
    ("PP-29", _lux(0, 20_000.0)),
    ("PP-30", _rent(0, 401)),
    ("PP-31", _tel(0, 301, ref_flags=REF_INMATE_CALL)),
    ("PP-32", _intl(0, amount=50_000.0)),
    ("PK-07", _credit(0, 50_000.0)),
])
def test_attempted_rows_are_ignored(spec_id: str, row: dict) -> None:
    rows = [dict(row, ts=_at(k), counterparty=row.get("counterparty", 0) + k, attempted=1)
            for k in range(5)]
    columns = _columns(rows, income=10_000.0, expected=100.0)
    out = assert_matches_oracle(spec_id, columns, registry.get(spec_id).resolve_params(),
                                ORACLES[spec_id])
    assert not out.fired.any()
    assert not run(registry.get(spec_id), columns, registry.get(spec_id).resolve_params())[1].any()


# --------------------------------------------------------------------------- edge cases
# Exact boundaries the random search reaches only rarely. Each case states the expected
# fired rows and is also checked against the oracle. ``income`` / ``expected`` set the
# single customer's profile.

NAN = float("nan")

EDGE_CASES = [
    # PP-29: thresholds are inclusive; the income band decides which threshold applies.
    ("PP-29", "spend exactly min_spend_cad fires",
     [_lux(_at(0), 4_000.0), _lux(_at(10), 6_000.0)], NAN, NAN, {}, [0, 1]),
    ("PP-29", "income below low_income_cad uses the absolute threshold",
     [_lux(_at(0), 4_000.0), _lux(_at(10), 5_999.75)], 19_999.0, NAN, {}, [0, 0]),
    ("PP-29", "income at low_income_cad uses the share: 0.5 x 20,000 / 4 = 2,500",
     [_lux(_at(0), 2_000.0), _lux(_at(10), 500.0)], 20_000.0, NAN, {}, [0, 1]),
    ("PP-29", "a high income raises the threshold above min_spend_cad",
     [_lux(_at(0), 12_000.0), _lux(_at(1), 6_000.0)], 160_000.0, NAN, {}, [0, 0]),
    ("PP-29", "restaurant and limousine bills count from high_ticket_cad",
     [_lux(_at(0), 299.75, mcc=5812), _lux(_at(1), 300.0, mcc=4121)], NAN, NAN,
     {"min_spend_cad": 500.0}, [0, 0]),
    ("PP-29", "... and reach the threshold together",
     [_lux(_at(0), 300.0, mcc=5812), _lux(_at(1), 300.0, mcc=4121)], NAN, NAN,
     {"min_spend_cad": 500.0}, [0, 1]),
    ("PP-29", "luxury descriptor at any MCC; refunds and pre-auths are not spend",
     [_lux(_at(0), 6_000.0, mcc=5999, ref_flags=REF_LUXURY),
      {**_lux(_at(1), 6_000.0), "txn_type": _T["preauth"]},
      {**_lux(_at(2), 6_000.0), "txn_type": _T["refund"]},
      {**_lux(_at(3), 4_000.0), "txn_type": _T["bill_payment"]}], NAN, NAN, {}, [0, 0, 0, 1]),
    ("PP-29", "a purchase window_days local days old drops out",
     [_lux(_at(0), 5_000.0), _lux(_at(90), 5_000.0), _lux(_at(90, 13), 0.0)], NAN, NAN, {},
     [0, 0, 0]),
    ("PP-29", "unknown amounts are skipped",
     [_lux(_at(0), 9_999.0), _lux(_at(1), NAN), _lux(_at(2), 1.0)], NAN, NAN, {}, [0, 0, 1]),
    # PP-30: recurrence, windows and payee keys.
    ("PP-30", "two landlords paid once each do not fire by default",
     [_rent(_at(0), 401), _rent(_at(5), 402)], NAN, NAN, {}, [0, 0]),
    ("PP-30", "... but do with min_payee_payments = 1",
     [_rent(_at(0), 401), _rent(_at(5), 402)], NAN, NAN, {"min_payee_payments": 1}, [0, 1]),
    ("PP-30", "previous payment exactly recur_days old does not recur",
     [_rent(_at(0), 401), _rent(_at(40), 402), _rent(_at(50), 402), _rent(_at(62), 401)],
     NAN, NAN, {}, [0, 0, 0, 0]),
    ("PP-30", "previous payment one second inside recur_days recurs",
     [_rent(_at(0) + 1, 401), _rent(_at(40), 402), _rent(_at(50), 402), _rent(_at(62), 401)],
     NAN, NAN, {}, [0, 0, 0, 1]),
    ("PP-30", "a payee last paid exactly rent_days ago is out of the window",
     [_rent(_at(0), 401), _rent(_at(1), 402), _rent(_at(30), 401), _rent(_at(31), 402),
      _rent(_at(61), 402)], NAN, NAN, {}, [0, 0, 0, 1, 0]),
    ("PP-30", "MCC 6513 purchases count; rent-memo purchases do not",
     [{**_rent(_at(0), 0, "purchase", merchant=301), "mcc": 6513},
      {**_rent(_at(1), 0, "purchase", merchant=302)}],
     NAN, NAN, {"min_payee_payments": 1}, [0, 0]),
    ("PP-30", "the merchant is the payee when there is no counterparty",
     [{**_rent(_at(0), 0, "bill_payment", merchant=301), "mcc": 6513},
      {**_rent(_at(1), 0, "bill_payment", merchant=302), "mcc": 6513}],
     NAN, NAN, {"min_payee_payments": 1}, [0, 1]),
    ("PP-30", "payments with no payee key are ignored",
     [_rent(_at(0), 0), _rent(_at(1), 401)], NAN, NAN, {"min_payee_payments": 1}, [0, 0]),
    ("PP-30", "incoming rent is not a payment",
     [_rent(_at(0), 401, "emt_in"), _rent(_at(1), 402)], NAN, NAN,
     {"min_payee_payments": 1}, [0, 0]),
    ("PP-30", "a row that is rent and tax reports the rent payees",
     [_rent(_at(0), 404), _tax(_at(1), 401), {**_tax(_at(2), 403), "ref_flags": REF_RENT}],
     NAN, NAN, {"min_payee_payments": 1}, [0, 0, 1]),
    ("PP-30", "property tax to two municipalities within tax_days",
     [_tax(_at(0), 401), _tax(_at(59), 402), _tax(_at(120), 403)], NAN, NAN, {}, [0, 1, 0]),
    ("PP-30", "property tax exactly tax_days apart",
     [_tax(_at(0), 401), _tax(_at(60), 402)], NAN, NAN, {}, [0, 0]),
    # PP-31: distinct providers and inmate calls.
    ("PP-31", "three providers fire, the same provider twice does not add",
     [_tel(_at(0), 301), _tel(_at(1), 301), _tel(_at(2), 302, mcc=4899),
      _tel(_at(3), 303, mcc=4816)], NAN, NAN, {}, [0, 0, 0, 1]),
    ("PP-31", "a row that is telecom and inmate-call reports the providers",
     [_tel(_at(0), 301), _tel(_at(1), 302), _tel(_at(2), 303, ref_flags=REF_INMATE_CALL)],
     NAN, NAN, {}, [0, 0, 1]),
    ("PP-31", "a provider paid exactly window_days ago is out",
     [_tel(_at(0), 301), _tel(_at(10), 302), _tel(_at(30), 303)], NAN, NAN, {}, [0, 0, 0]),
    ("PP-31", "the counterparty is the provider when there is no merchant",
     [_tel(_at(0), 0, counterparty=401), _tel(_at(1), 0, counterparty=402),
      _tel(_at(2), 0, counterparty=403)], NAN, NAN, {}, [0, 0, 1]),
    ("PP-31", "an inmate-call EMT fires on its own; a telecom MCC without a key does not",
     [_tel(_at(0), 0), {"ts": _at(1), "txn_type": _T["emt_out"], "amount": 40.0,
                        "ref_flags": REF_INMATE_CALL, "counterparty": 401}],
     NAN, NAN, {}, [0, 1]),
    ("PP-31", "incoming inmate-call refund does not fire",
     [{"ts": _at(1), "txn_type": _T["emt_in"], "amount": 40.0, "ref_flags": REF_INMATE_CALL}],
     NAN, NAN, {}, [0]),
    # PP-32: both bits, direction, channel, count and total.
    ("PP-32", "three vague transfers fire; source country alone does not count",
     [_intl(_at(0)), _intl(_at(1), flags=REF_SOURCE_JURISDICTION),
      _intl(_at(2), flags=REF_VAGUE_PURPOSE), _intl(_at(3), "eft_out"),
      _intl(_at(4), "emt_out")], NAN, NAN, {}, [0, 0, 0, 0, 1]),
    ("PP-32", "total exactly min_total_cad fires",
     [_intl(_at(0), amount=6_000.0), _intl(_at(1), "wire_in", amount=4_000.0)], NAN, NAN,
     {}, [0, 1]),
    ("PP-32", "transfer_out counts only through an MSB",
     [_intl(_at(0), "transfer_out"), _intl(_at(1), "transfer_out", channel=_CH["msb"]),
      _intl(_at(2), "transfer_out", channel=_CH["msb"]),
      _intl(_at(3), "transfer_in", channel=_CH["msb"])],
     NAN, NAN, {"min_transfers": 2}, [0, 0, 1, 0]),
    ("PP-32", "unknown amounts count as transfers, not towards the total",
     [_intl(_at(0), amount=NAN), _intl(_at(1), amount=9_999.0),
      _intl(_at(2), amount=NAN)], NAN, NAN, {}, [0, 0, 1]),
    ("PP-32", "a transfer exactly window_days old is out",
     [_intl(_at(0)), _intl(_at(45)), _intl(_at(90))], NAN, NAN, {}, [0, 0, 0]),
    # PK-07: baseline choice, floor, strict inequality.
    ("PK-07", "expected_monthly wins over declared income",
     [_credit(_at(0), 3_000.0), _credit(_at(1), 3_001.0)], 240_000.0, 2_000.0, {}, [0, 1]),
    ("PK-07", "declared income / 12 when expected is unknown; strictly above k x base",
     [_credit(_at(0), 6_000.0), _credit(_at(1), 0.25)], 24_000.0, NAN, {}, [0, 1]),
    ("PK-07", "a stated expected activity of zero still wins over income",
     [_credit(_at(0), 3_000.0), _credit(_at(1), 0.25)], 240_000.0, 0.0, {}, [0, 1]),
    ("PK-07", "the floor applies under a zero baseline",
     [_credit(_at(0), 3_000.0), _credit(_at(1), 0.25, "emt_in")], 0.0, NAN, {}, [0, 1]),
    ("PK-07", "no baseline on file, no evaluation",
     [_credit(_at(k), 50_000.0) for k in range(3)], NAN, NAN, {}, [0, 0, 0]),
    ("PK-07", "debits are not credits",
     [_credit(_at(0), 50_000.0, "emt_out"), _credit(_at(0), 50_000.0, "cash_withdrawal")],
     NAN, 100.0, {}, [0, 0]),
    ("PK-07", "a credit window_days local days old drops out",
     [_credit(_at(0), 2_000.0), _credit(_at(30), 2_000.0)], NAN, 0.0, {}, [0, 0]),
]


@pytest.mark.parametrize(
    ("spec_id", "name", "rows", "income", "expected", "overrides", "fired"), EDGE_CASES,
    ids=[f"{c[0]}-{c[1]}" for c in EDGE_CASES],
)
def test_edge_case(spec_id, name, rows, income, expected, overrides, fired) -> None:
    spec = registry.get(spec_id)
    columns = _columns(rows, income=income, expected=expected)
    out = assert_matches_oracle(spec_id, columns, spec.resolve_params(overrides),
                                ORACLES[spec_id])
    assert out.fired.tolist() == fired, name


def test_pk07_observed_is_a_multiple_of_the_baseline() -> None:
    spec = registry.get("PK-07")
    columns = _columns([_credit(_at(0), 4_000.0), _credit(_at(1), 8_000.0)], expected=2_000.0)
    out, _, _ = run(spec, columns, spec.resolve_params())
    assert out.fired.tolist() == [0, 1] and out.observed[1] == 6.0
    floored = _columns([_credit(_at(0), 4_000.0)], expected=100.0)
    out, _, _ = run(spec, floored, spec.resolve_params())
    assert out.fired.tolist() == [1] and out.observed[0] == 4_000.0 / 1_000.0
