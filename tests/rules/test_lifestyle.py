"""Lifestyle group kernels (PP-29, PP-30, PP-31, PP-32, PK-07) against their oracles.

Same properties as ``test_kernel_oracles`` and ``test_kernel_chunk_invariance``: below
ring / table capacity the bounded kernel agrees exactly with the unbounded oracle (fired
rows, observed value, evidence = newest refs in the window); one batch equals the same
rows in k chunks with state carried; far above capacity a kernel still fires; and exact
boundaries (window edges, thresholds, income bands) behave as documented.

The family's oracles and hypothesis strategies live here too (the sections below).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

import numpy as np
import pytest
from hypothesis import strategies as st

from indicators import registry
from indicators.columns import (
    BATCH_COLUMNS,
    BILL_PAYMENT,
    CASH_DEPOSIT,
    CHANNEL_CODE,
    DAY,
    EFT_IN,
    EFT_OUT,
    EMT_IN,
    EMT_OUT,
    PURCHASE,
    TRANSFER_IN,
    TRANSFER_OUT,
    TXN_CODE,
    WIRE_IN,
    WIRE_OUT,
)
from tests.bits import (
    REF_ESCORT_AD,
    REF_INMATE_CALL,
    REF_LUXURY,
    REF_RENT,
    REF_SOURCE_JURISDICTION,
    REF_VAGUE_PURPOSE,
)
from tests.kernel_harness import (
    assert_matches_oracle,
    assert_saturation_fires,
    evidence_refs,
    kernel_settings,
    run,
)
from tests.kernel_harness import at as _at
from tests.oracles import NOT_FIRED, Event, OracleRow, _known, _rows, in_window
from tests.strategies import (
    FOCUS,
    HOUR,
    T0,
    TZ_OFFSETS,
    Focus,
    batches,
    chunk_bounds,
    columns_from_rows,
    params_for,
)

# ------------------------------------------------------------ oracles
# Slow, obviously correct references for the lifestyle group's kernels (STYLE item 13).
#
# PP-29 (lavish lifestyle), PP-30 (multiple rents / property taxes), PP-31 (telecom excess /
# jail calls), PP-32 (international flows to source jurisdictions) and PK-07 (activity
# inconsistent with the profile). Same conventions as :mod:`tests.oracles`: unbounded
# per-customer Python lists, every window recomputed with a plain loop, one
# :class:`~tests.oracles.OracleRow` per input row whose evidence is every ``(ts, ref)`` event
# the rule reports on in its window.

Oracle = Callable[[Mapping[str, np.ndarray], Mapping[str, float]], list[OracleRow]]

# ---------------------------------------------------------------------------------- PP-29

LUXURY_MCCS = (5511, 5944, 5681, 5813, 8099, 8011, 7298, 7997)
HIGH_TICKET_MCCS = (5812, 4121)


def is_luxury(mcc: int, flags: int, amount: float, high_ticket: float) -> bool:
    return (
        bool(flags & REF_LUXURY)
        or mcc in LUXURY_MCCS
        or (mcc in HIGH_TICKET_MCCS and amount >= high_ticket)
    )


def oracle_pp29(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Luxury spend in a local-day window against the declared income for that window.

    polars: ``df.filter(luxury).rolling(index_column="local_day",
    period=f"{window_days}i", group_by="cust").agg(pl.col("amount").sum())`` joined with
    the threshold from ``declared_income``.
    """
    width = p["window_days"] * DAY
    income_of = np.asarray(columns["declared_income"]).tolist()
    buys: dict[int, list[tuple[int, int, int, float]]] = defaultdict(list)  # ts, ref, day, amt
    out = []
    for c, ref, t, d, tt, a, mcc, flags, att in _rows(
        columns,
        "cust",
        "seq",
        "ts",
        "local_day",
        "txn_type",
        "amount",
        "mcc",
        "ref_flags",
        "attempted",
    ):
        if (
            att
            or tt not in (PURCHASE, BILL_PAYMENT)
            or not _known(a)
            or not is_luxury(mcc, flags, a, p["high_ticket_cad"])
        ):
            out.append(NOT_FIRED)
            continue
        buys[c].append((t, ref, d, a))
        spend = sum(x for _, _, day, x in buys[c] if d - p["window_days"] + 1 <= day <= d)
        income = income_of[c]
        if _known(income) and income >= p["low_income_cad"]:
            threshold = p["income_share"] * (income * (p["window_days"] / 360.0))
        else:
            threshold = p["min_spend_cad"]
        if spend >= threshold:
            recent = frozenset((ts_, r) for ts_, r, _, _ in buys[c] if in_window(ts_, t, width))
            out.append(OracleRow(True, spend, recent))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-30

_PAYMENT_TYPES = (BILL_PAYMENT, EMT_OUT, EFT_OUT, PURCHASE)


def oracle_pp30(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Rent payees (latest payment in the rent window, and recurring) and tax payees.

    polars: per ``(cust, payee)`` the payment times; a payee counts at ``t`` when its latest
    payment is in ``(t - rent_days, t]`` and (``min_payee_payments == 1`` or at least two
    of its payments are in ``(t - recur_days, t]``); tax payees by ``n_unique`` in a
    ``rolling`` window.
    """
    rent_w = p["rent_days"] * DAY
    recur_w = p["recur_days"] * DAY
    tax_w = p["tax_days"] * DAY
    # cust -> payee -> list of (ts, ref) in row order
    rents: dict[int, dict[int, list[Event]]] = defaultdict(dict)
    taxes: dict[int, dict[int, list[Event]]] = defaultdict(dict)

    def latest(payments: list[Event]) -> Event:
        """The payment the table keeps: the last row among those with the largest ts."""
        best = payments[0]
        for e in payments[1:]:
            if e[0] >= best[0]:
                best = e
        return best

    out = []
    for c, ref, t, tt, mcc, merchant, cp, flags, att in _rows(
        columns,
        "cust",
        "seq",
        "ts",
        "txn_type",
        "mcc",
        "merchant",
        "counterparty",
        "ref_flags",
        "attempted",
    ):
        if att or tt not in _PAYMENT_TYPES:
            out.append(NOT_FIRED)
            continue
        rent = mcc == 6513 or (tt != PURCHASE and bool(flags & REF_RENT))
        tax = mcc == 9311
        key = cp if cp != 0 else merchant
        if not (rent or tax) or key == 0:
            out.append(NOT_FIRED)
            continue
        row = NOT_FIRED
        if tax:
            taxes[c].setdefault(key, []).append((t, ref))
            payees = frozenset(latest(pays) for pays in taxes[c].values())
            recent = frozenset(e for e in payees if in_window(e[0], t, tax_w))
            if len(recent) >= p["min_municipalities"]:
                row = OracleRow(True, float(len(recent)), recent)
        if rent:
            rents[c].setdefault(key, []).append((t, ref))
            counted = set()
            for pays in rents[c].values():
                last = latest(pays)
                if not in_window(last[0], t, rent_w):
                    continue
                recurring = sum(in_window(ts_, t, recur_w) for ts_, _ in pays) >= 2
                if p["min_payee_payments"] == 1 or recurring:
                    counted.add(last)
            if len(counted) >= p["min_payees"]:
                row = OracleRow(True, float(len(counted)), frozenset(counted))
        out.append(row)
    return out


# ---------------------------------------------------------------------------------- PP-31

TELECOM_MCCS = (4814, 4812, 4899, 4816)


def oracle_pp31(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Distinct telecom providers and inmate-call payments in a window.

    polars: ``rolling(index_column="ts", period=f"{window_days}d")`` of
    ``provider.n_unique()`` over telecom rows and ``len()`` over inmate-call rows.
    """
    width = p["window_days"] * DAY
    providers: dict[int, dict[int, Event]] = defaultdict(dict)  # provider -> last (ts, ref)
    calls: dict[int, list[Event]] = defaultdict(list)
    out = []
    for c, ref, t, tt, mcc, merchant, cp, flags, att in _rows(
        columns,
        "cust",
        "seq",
        "ts",
        "txn_type",
        "mcc",
        "merchant",
        "counterparty",
        "ref_flags",
        "attempted",
    ):
        bill = tt in (PURCHASE, BILL_PAYMENT)
        telecom = bill and mcc in TELECOM_MCCS
        inmate = (bill or tt in (EMT_OUT, EFT_OUT)) and bool(flags & REF_INMATE_CALL)
        if att or not (telecom or inmate):
            out.append(NOT_FIRED)
            continue
        row = NOT_FIRED
        if inmate:
            calls[c].append((t, ref))
            recent = frozenset(e for e in calls[c] if in_window(e[0], t, width))
            if len(recent) >= p["min_inmate_calls"]:
                row = OracleRow(True, float(len(recent)), recent)
        key = merchant if merchant != 0 else cp
        if telecom and key != 0:
            if key not in providers[c] or t >= providers[c][key][0]:
                providers[c][key] = (t, ref)
            recent = frozenset(e for e in providers[c].values() if in_window(e[0], t, width))
            if len(recent) >= p["min_providers"]:
                row = OracleRow(True, float(len(recent)), recent)
        out.append(row)
    return out


# ---------------------------------------------------------------------------------- PP-32

_MSB = CHANNEL_CODE["msb"]


def oracle_pp32(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Vague-purpose transfers to / from source jurisdictions: count and total in a window.

    polars: ``df.filter(qualifying).rolling(index_column="ts", period=f"{window_days}d",
    group_by="cust").agg(pl.len(), pl.col("amount").fill_nan(0).sum())``.
    """
    width = p["window_days"] * DAY
    transfers: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
    out = []
    for c, ref, t, tt, ch, a, flags, att in _rows(
        columns,
        "cust",
        "seq",
        "ts",
        "txn_type",
        "channel",
        "amount",
        "ref_flags",
        "attempted",
    ):
        qualifying = (
            not att
            and bool(flags & REF_SOURCE_JURISDICTION)
            and bool(flags & REF_VAGUE_PURPOSE)
            and (
                tt in (WIRE_OUT, EFT_OUT, EMT_OUT, WIRE_IN, EFT_IN)
                or (ch == _MSB and tt == TRANSFER_OUT)
            )
        )
        if not qualifying:
            out.append(NOT_FIRED)
            continue
        transfers[c].append((t, ref, a if _known(a) else 0.0))
        recent = [e for e in transfers[c] if in_window(e[0], t, width)]
        total = sum(x for _, _, x in recent)
        if len(recent) >= p["min_transfers"] or total >= p["min_total_cad"]:
            out.append(
                OracleRow(True, float(len(recent)), frozenset((ts_, r) for ts_, r, _ in recent))
            )
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PK-07

_CREDITS = (CASH_DEPOSIT, EMT_IN, TRANSFER_IN, WIRE_IN, EFT_IN)


def oracle_pk07(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Credits in a local-day window against ``max(k x stated baseline, floor)``.

    polars: ``df.filter(credit & amount.is_not_nan()).rolling(index_column="local_day",
    period=f"{window_days}i", group_by="cust").agg(pl.col("amount").sum())`` joined with
    ``coalesce(expected_monthly, declared_income / 12) * window_days / 30``.
    """
    width = p["window_days"] * DAY
    months = p["window_days"] / 30.0
    income_of = np.asarray(columns["declared_income"]).tolist()
    expected_of = np.asarray(columns["expected_monthly"]).tolist()
    credits: dict[int, list[tuple[int, int, int, float]]] = defaultdict(list)
    out = []
    for c, ref, t, d, tt, a, att in _rows(
        columns,
        "cust",
        "seq",
        "ts",
        "local_day",
        "txn_type",
        "amount",
        "attempted",
    ):
        if att or tt not in _CREDITS or not _known(a):
            out.append(NOT_FIRED)
            continue
        credits[c].append((t, ref, d, a))
        if _known(expected_of[c]):
            base = expected_of[c] * months
        elif _known(income_of[c]):
            base = (income_of[c] / 12.0) * months
        else:
            out.append(NOT_FIRED)
            continue
        total = sum(x for _, _, day, x in credits[c] if d - p["window_days"] + 1 <= day <= d)
        if total > max(p["k"] * base, p["min_credits_cad"]):
            recent = frozenset((ts_, r) for ts_, r, _, _ in credits[c] if in_window(ts_, t, width))
            out.append(OracleRow(True, total / max(base, p["min_credits_cad"] / p["k"]), recent))
        else:
            out.append(NOT_FIRED)
    return out


ORACLES: dict[str, Oracle] = {
    "PP-29": oracle_pp29,
    "PP-30": oracle_pp30,
    "PP-31": oracle_pp31,
    "PP-32": oracle_pp32,
    "PK-07": oracle_pk07,
}


# ------------------------------------------------------------ strategies
# Hypothesis strategies for the lifestyle group: PP-29, PP-30, PP-31, PP-32, PK-07.
#
# Registers each rule's :class:`~tests.strategies.Focus` and wraps
# :func:`tests.strategies.batches`: the shared generator draws reference bits from a
# vocabulary without the bits these rules read (luxury, rent, inmate-call, source
# jurisdiction, vague purpose), and profiles without ``expected_monthly``, so
# :func:`lifestyle_batches` redraws ``ref_flags`` per row from the rule's own vocabulary and
# the profile's declared income and expected activity from values that sit on and around
# the rules' thresholds.

SJ_VAGUE = REF_SOURCE_JURISDICTION | REF_VAGUE_PURPOSE

FLAGS: dict[str, tuple[int, ...]] = {
    "PP-29": (0, 0, REF_LUXURY, REF_LUXURY | REF_RENT, REF_ESCORT_AD),
    "PP-30": (0, REF_RENT, REF_RENT, REF_RENT | REF_LUXURY, REF_INMATE_CALL),
    "PP-31": (0, 0, REF_INMATE_CALL, REF_INMATE_CALL | REF_RENT, REF_LUXURY),
    "PP-32": (
        0,
        SJ_VAGUE,
        SJ_VAGUE,
        REF_SOURCE_JURISDICTION,
        REF_VAGUE_PURPOSE,
        SJ_VAGUE | REF_RENT,
    ),
    "PK-07": (0, 0, REF_VAGUE_PURPOSE),
}

# Yearly incomes on and around PP-29's low-income default (20,000) and PK-07's baselines.
INCOMES = (
    float("nan"),
    float("nan"),
    0.0,
    12_000.0,
    19_999.0,
    20_000.0,
    24_000.0,
    36_000.0,
    60_000.0,
    200_000.0,
)
EXPECTED = (float("nan"), float("nan"), 0.0, 250.0, 500.0, 1_000.0, 2_000.0, 5_000.0)

# Day-grid regime: rows a whole number of days apart, so day-bucket windows (PP-29, PK-07)
# and day-multiple ts windows see events exactly ``window_days`` back.
DAY_STEPS = (0, 1, 1, 1, 2, 3, 7)
DAY_HOURS = (0, 1, 12, 23)

_PAYMENTS = ("bill_payment", "emt_out", "eft_out", "purchase")
_OUT = ("wire_out", "eft_out", "emt_out", "transfer_out")
_IN = ("wire_in", "eft_in")

FOCUS.update(
    {
        # Ring 16 (evidence) and 92 day buckets: 15 rows per customer stay below the ring.
        "PP-29": Focus(
            types=("purchase", "purchase", "bill_payment", "preauth", "refund"),
            mccs=(5511, 5944, 5681, 5813, 8099, 8011, 7298, 7997, 5812, 4121, 5411),
            flags=FLAGS["PP-29"],
        ),
        # 16-slot payee and tax tables: at most 15 distinct payees per customer.
        "PP-30": Focus(
            types=_PAYMENTS + ("emt_in",),
            mccs=(6513, 6513, 9311, 9311, 4900, -1),
            flags=FLAGS["PP-30"],
            channels=("online", "mobile", "pos"),
            patterns=(
                (_PAYMENTS,),
                (("emt_out", "bill_payment"),),
                (("bill_payment",), ("emt_out", "eft_out")),
            ),
        ),
        "PP-31": Focus(
            types=("bill_payment", "purchase", "emt_out", "eft_out", "preauth"),
            mccs=(4814, 4812, 4899, 4816, 4900, -1),
            flags=FLAGS["PP-31"],
            channels=("online", "ecom", "pos"),
        ),
        "PP-32": Focus(
            types=_OUT + _IN + ("transfer_in",),
            mccs=(-1,),
            flags=FLAGS["PP-32"],
            channels=("msb", "msb", "online", "branch"),
            patterns=((_OUT,), (_OUT, _IN), (("transfer_out",),)),
        ),
        "PK-07": Focus(
            types=(
                "cash_deposit",
                "emt_in",
                "transfer_in",
                "wire_in",
                "eft_in",
                "emt_out",
                "purchase",
            ),
            mccs=(-1, 5411),
            flags=FLAGS["PK-07"],
            patterns=(
                (("cash_deposit", "emt_in", "eft_in"),),
                (("cash_deposit", "wire_in"), ("emt_out", "purchase")),
            ),
        ),
    }
)


def _vocabulary(draw: st.DrawFn, values: tuple, max_size: int = 4) -> st.SearchStrategy:
    """All of ``values``, or a few of them drawn for this example (as tests.strategies)."""
    narrow = draw(st.lists(st.sampled_from(values), min_size=1, max_size=max_size))
    return st.sampled_from(draw(st.sampled_from((values, tuple(narrow)))))


@st.composite
def lifestyle_batches(
    draw: st.DrawFn,
    focus: str,
    dense: bool = False,
    max_per_customer: int = 15,
    window_days: tuple[int, ...] = (),
    edge: bool = False,
) -> dict[str, np.ndarray]:
    """:func:`tests.strategies.batches` with ``focus``'s reference bits and profile values.

    ``window_days``: the example's window parameters. In the day-grid regime (half the
    examples, every ``edge`` example), each customer's rows step by whole days, including
    exactly a window, which puts events on the window's edge; ``edge`` examples step only
    by 0, 1 or a window at one hour of the day, so most steps land on an edge.
    """
    cols = draw(batches(focus=focus, dense=dense, max_per_customer=max_per_customer))
    flags = _vocabulary(draw, FLAGS[focus])
    n = len(cols["cust"])
    if edge:
        _day_grid(draw, cols, (0, 1) + tuple(window_days) * 2, (12,))
    elif draw(st.booleans()):
        _day_grid(draw, cols, DAY_STEPS + tuple(window_days), DAY_HOURS)
    cols["ref_flags"] = np.array([draw(flags) for _ in range(n)], dtype=np.int64)
    n_cust = len(cols["home_city"])
    incomes = st.one_of(st.sampled_from(INCOMES), st.integers(0, 200_000).map(float))
    expected = st.one_of(st.sampled_from(EXPECTED), st.integers(0, 10_000).map(float))
    cols["declared_income"] = np.array([draw(incomes) for _ in range(n_cust)], dtype=np.float64)
    cols["expected_monthly"] = np.array([draw(expected) for _ in range(n_cust)], dtype=np.float64)
    return cols


def _day_grid(
    draw: st.DrawFn,
    cols: dict[str, np.ndarray],
    day_steps: tuple[int, ...],
    day_hours: tuple[int, ...],
) -> None:
    """Re-time each customer's rows on whole days, then re-sort the batch by time.

    Each customer's rows step by ``day_steps`` days (at a few hours of the day, one or two
    UTC offsets), so one customer's events land exactly a window apart; the rows are then
    merged in time order and ``seq`` renumbered in that order.
    """
    n = len(cols["ts"])
    if n == 0:
        return
    steps = _vocabulary(draw, day_steps)
    hours = _vocabulary(draw, day_hours)
    offsets = _vocabulary(draw, TZ_OFFSETS, max_size=2)
    day: dict[int, int] = {}
    ts = np.empty(n, dtype=np.int64)
    for i, c in enumerate(cols["cust"].tolist()):
        day[c] = day.get(c, 0) + draw(steps)
        ts[i] = T0 + day[c] * DAY + draw(hours) * HOUR
    order = np.argsort(ts, kind="stable")
    for name in BATCH_COLUMNS:
        if name != "seq":
            cols[name] = cols[name][order]
    ts = ts[order]
    local = ts + np.array([draw(offsets) for _ in range(n)], dtype=np.int64)
    cols["ts"] = ts
    cols["local_day"] = (local // DAY).astype(np.int32)
    cols["local_tod"] = (local % DAY).astype(np.int32)
    cols["seq"] = cols["seq"][0] + np.arange(n, dtype=np.int64)


# ------------------------------------------------------------ tests

IDS = ("PP-29", "PP-30", "PP-31", "PP-32", "PK-07")

SETTINGS = kernel_settings(max_examples=60)


def windows(params: dict) -> tuple[int, ...]:
    """The example's window lengths in days (parameters named ``*_days``)."""
    return tuple(int(v) for k, v in params.items() if k.endswith("_days"))


# ------------------------------------------------------------ the generic suite's hooks
# tests/test_kernel_oracles.py runs every kernel against its oracle and in chunks, with
# the cases these functions draw and the settings below.
ORACLE_SETTINGS = CHUNK_SETTINGS = kernel_settings(max_examples=60)


def draw_oracle_case(spec_id: str, data: st.DataObject) -> tuple[dict, dict]:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    edge = data.draw(st.booleans(), label="edge")
    params = data.draw(params_for(spec), label="params")
    columns = data.draw(
        lifestyle_batches(spec_id, dense=dense, window_days=windows(params), edge=edge),
        label="columns",
    )
    return columns, params


def draw_chunk_case(spec_id: str, data: st.DataObject) -> tuple[dict, dict, list[int]]:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    params = data.draw(params_for(spec), label="params")
    columns = data.draw(
        lifestyle_batches(spec_id, dense=dense, max_per_customer=40, window_days=windows(params)),
        label="columns",
    )
    bounds = data.draw(chunk_bounds(len(columns["cust"])), label="chunk bounds")
    return columns, params, bounds


# --------------------------------------------------------------------------- scenarios

_T = TXN_CODE
_CH = CHANNEL_CODE
_SJV = REF_SOURCE_JURISDICTION | REF_VAGUE_PURPOSE


def _profiles(n: int = 1, income: float = float("nan")) -> dict:
    return {"home_city": [0] * n, "profile_flags": [0] * n, "declared_income": [income] * n}


def _columns(
    rows: list[dict], income: float = float("nan"), expected: float = float("nan")
) -> dict:
    cols = columns_from_rows(rows, _profiles(income=income))
    cols["expected_monthly"] = np.array([expected], dtype=np.float64)
    return cols


def _lux(ts: int, amount: float, mcc: int = 5944, **kw) -> dict:
    return {"ts": ts, "txn_type": _T["purchase"], "amount": amount, "mcc": mcc, **kw}


def _rent(ts: int, payee: int, kind: str = "emt_out", **kw) -> dict:
    return {
        "ts": ts,
        "txn_type": _T[kind],
        "amount": 1500.0,
        "counterparty": payee,
        "ref_flags": REF_RENT,
        **kw,
    }


def _tax(ts: int, payee: int) -> dict:
    return {
        "ts": ts,
        "txn_type": _T["bill_payment"],
        "amount": 900.0,
        "mcc": 9311,
        "counterparty": payee,
    }


def _tel(ts: int, merchant: int, mcc: int = 4814, **kw) -> dict:
    return {
        "ts": ts,
        "txn_type": _T["bill_payment"],
        "amount": 60.0,
        "mcc": mcc,
        "merchant": merchant,
        **kw,
    }


def _intl(ts: int, kind: str = "wire_out", amount: float = 1000.0, flags: int = _SJV, **kw) -> dict:
    return {
        "ts": ts,
        "txn_type": _T[kind],
        "amount": amount,
        "ref_flags": flags,
        "channel": _CH["online"],
        **kw,
    }


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
    assert_saturation_fires(
        registry.get(spec_id),
        scenario(),
        ORACLES[spec_id],
        f"{spec_id} {scenario.__name__}",
        reaches_threshold=spec_id in ("PP-30", "PP-31", "PP-32"),
        newest_evidence=spec_id not in ("PP-30",),
    )


def test_day_sums_stay_exact_when_buckets_wrap() -> None:
    """PP-29 and PK-07 keep window sums in day buckets: exact however long the history."""
    for spec_id, columns in (
        ("PP-29", _pp29_wrapping_buckets()),
        ("PK-07", _columns([_credit(_at(i / 2), 60.0) for i in range(400)], expected=100.0)),
    ):
        assert_matches_oracle(
            spec_id, columns, registry.get(spec_id).resolve_params(), ORACLES[spec_id]
        )


def test_rent_payees_that_recur_survive_one_off_noise() -> None:
    columns = _pp30_noise()
    out, _, _ = run(registry.get("PP-30"), columns, registry.get("PP-30").resolve_params())
    assert out.fired.tolist() == [0] * 33 + [1]
    assert out.observed[-1] == 2.0
    assert evidence_refs(out.evidence[-1]) == [33, 32]


# --------------------------------------------------------------------------- attempted rows


@pytest.mark.parametrize(
    ("spec_id", "row"),
    [
        ("PP-29", _lux(0, 20_000.0)),
        ("PP-30", _rent(0, 401)),
        ("PP-31", _tel(0, 301, ref_flags=REF_INMATE_CALL)),
        ("PP-32", _intl(0, amount=50_000.0)),
        ("PK-07", _credit(0, 50_000.0)),
    ],
)
def test_attempted_rows_are_ignored(spec_id: str, row: dict) -> None:
    rows = [
        dict(row, ts=_at(k), counterparty=row.get("counterparty", 0) + k, attempted=1)
        for k in range(5)
    ]
    columns = _columns(rows, income=10_000.0, expected=100.0)
    out = assert_matches_oracle(
        spec_id, columns, registry.get(spec_id).resolve_params(), ORACLES[spec_id]
    )
    assert not out.fired.any()
    assert not run(registry.get(spec_id), columns, registry.get(spec_id).resolve_params())[1].any()


# --------------------------------------------------------------------------- edge cases
# Exact boundaries the random search reaches only rarely. Each case states the expected
# fired rows and is also checked against the oracle. ``income`` / ``expected`` set the
# single customer's profile.

NAN = float("nan")

EDGE_CASES = [
    # PP-29: thresholds are inclusive; the income band decides which threshold applies.
    (
        "PP-29",
        "spend exactly min_spend_cad fires",
        [_lux(_at(0), 4_000.0), _lux(_at(10), 6_000.0)],
        NAN,
        NAN,
        {},
        [0, 1],
    ),
    (
        "PP-29",
        "income below low_income_cad uses the absolute threshold",
        [_lux(_at(0), 4_000.0), _lux(_at(10), 5_999.75)],
        19_999.0,
        NAN,
        {},
        [0, 0],
    ),
    (
        "PP-29",
        "income at low_income_cad uses the share: 0.5 x 20,000 / 4 = 2,500",
        [_lux(_at(0), 2_000.0), _lux(_at(10), 500.0)],
        20_000.0,
        NAN,
        {},
        [0, 1],
    ),
    (
        "PP-29",
        "a high income raises the threshold above min_spend_cad",
        [_lux(_at(0), 12_000.0), _lux(_at(1), 6_000.0)],
        160_000.0,
        NAN,
        {},
        [0, 0],
    ),
    (
        "PP-29",
        "restaurant and limousine bills count from high_ticket_cad",
        [_lux(_at(0), 299.75, mcc=5812), _lux(_at(1), 300.0, mcc=4121)],
        NAN,
        NAN,
        {"min_spend_cad": 500.0},
        [0, 0],
    ),
    (
        "PP-29",
        "... and reach the threshold together",
        [_lux(_at(0), 300.0, mcc=5812), _lux(_at(1), 300.0, mcc=4121)],
        NAN,
        NAN,
        {"min_spend_cad": 500.0},
        [0, 1],
    ),
    (
        "PP-29",
        "luxury descriptor at any MCC; refunds and pre-auths are not spend",
        [
            _lux(_at(0), 6_000.0, mcc=5999, ref_flags=REF_LUXURY),
            {**_lux(_at(1), 6_000.0), "txn_type": _T["preauth"]},
            {**_lux(_at(2), 6_000.0), "txn_type": _T["refund"]},
            {**_lux(_at(3), 4_000.0), "txn_type": _T["bill_payment"]},
        ],
        NAN,
        NAN,
        {},
        [0, 0, 0, 1],
    ),
    (
        "PP-29",
        "a purchase window_days local days old drops out",
        [_lux(_at(0), 5_000.0), _lux(_at(90), 5_000.0), _lux(_at(90, 13), 0.0)],
        NAN,
        NAN,
        {},
        [0, 0, 0],
    ),
    (
        "PP-29",
        "unknown amounts are skipped",
        [_lux(_at(0), 9_999.0), _lux(_at(1), NAN), _lux(_at(2), 1.0)],
        NAN,
        NAN,
        {},
        [0, 0, 1],
    ),
    # PP-30: recurrence, windows and payee keys.
    (
        "PP-30",
        "two landlords paid once each do not fire by default",
        [_rent(_at(0), 401), _rent(_at(5), 402)],
        NAN,
        NAN,
        {},
        [0, 0],
    ),
    (
        "PP-30",
        "... but do with min_payee_payments = 1",
        [_rent(_at(0), 401), _rent(_at(5), 402)],
        NAN,
        NAN,
        {"min_payee_payments": 1},
        [0, 1],
    ),
    (
        "PP-30",
        "previous payment exactly recur_days old does not recur",
        [_rent(_at(0), 401), _rent(_at(40), 402), _rent(_at(50), 402), _rent(_at(62), 401)],
        NAN,
        NAN,
        {},
        [0, 0, 0, 0],
    ),
    (
        "PP-30",
        "previous payment one second inside recur_days recurs",
        [_rent(_at(0) + 1, 401), _rent(_at(40), 402), _rent(_at(50), 402), _rent(_at(62), 401)],
        NAN,
        NAN,
        {},
        [0, 0, 0, 1],
    ),
    (
        "PP-30",
        "a payee last paid exactly rent_days ago is out of the window",
        [
            _rent(_at(0), 401),
            _rent(_at(1), 402),
            _rent(_at(30), 401),
            _rent(_at(31), 402),
            _rent(_at(61), 402),
        ],
        NAN,
        NAN,
        {},
        [0, 0, 0, 1, 0],
    ),
    (
        "PP-30",
        "MCC 6513 purchases count; rent-memo purchases do not",
        [
            {**_rent(_at(0), 0, "purchase", merchant=301), "mcc": 6513},
            {**_rent(_at(1), 0, "purchase", merchant=302)},
        ],
        NAN,
        NAN,
        {"min_payee_payments": 1},
        [0, 0],
    ),
    (
        "PP-30",
        "the merchant is the payee when there is no counterparty",
        [
            {**_rent(_at(0), 0, "bill_payment", merchant=301), "mcc": 6513},
            {**_rent(_at(1), 0, "bill_payment", merchant=302), "mcc": 6513},
        ],
        NAN,
        NAN,
        {"min_payee_payments": 1},
        [0, 1],
    ),
    (
        "PP-30",
        "payments with no payee key are ignored",
        [_rent(_at(0), 0), _rent(_at(1), 401)],
        NAN,
        NAN,
        {"min_payee_payments": 1},
        [0, 0],
    ),
    (
        "PP-30",
        "incoming rent is not a payment",
        [_rent(_at(0), 401, "emt_in"), _rent(_at(1), 402)],
        NAN,
        NAN,
        {"min_payee_payments": 1},
        [0, 0],
    ),
    (
        "PP-30",
        "a row that is rent and tax reports the rent payees",
        [_rent(_at(0), 404), _tax(_at(1), 401), {**_tax(_at(2), 403), "ref_flags": REF_RENT}],
        NAN,
        NAN,
        {"min_payee_payments": 1},
        [0, 0, 1],
    ),
    (
        "PP-30",
        "property tax to two municipalities within tax_days",
        [_tax(_at(0), 401), _tax(_at(59), 402), _tax(_at(120), 403)],
        NAN,
        NAN,
        {},
        [0, 1, 0],
    ),
    (
        "PP-30",
        "property tax exactly tax_days apart",
        [_tax(_at(0), 401), _tax(_at(60), 402)],
        NAN,
        NAN,
        {},
        [0, 0],
    ),
    # PP-31: distinct providers and inmate calls.
    (
        "PP-31",
        "three providers fire, the same provider twice does not add",
        [
            _tel(_at(0), 301),
            _tel(_at(1), 301),
            _tel(_at(2), 302, mcc=4899),
            _tel(_at(3), 303, mcc=4816),
        ],
        NAN,
        NAN,
        {},
        [0, 0, 0, 1],
    ),
    (
        "PP-31",
        "a row that is telecom and inmate-call reports the providers",
        [_tel(_at(0), 301), _tel(_at(1), 302), _tel(_at(2), 303, ref_flags=REF_INMATE_CALL)],
        NAN,
        NAN,
        {},
        [0, 0, 1],
    ),
    (
        "PP-31",
        "a provider paid exactly window_days ago is out",
        [_tel(_at(0), 301), _tel(_at(10), 302), _tel(_at(30), 303)],
        NAN,
        NAN,
        {},
        [0, 0, 0],
    ),
    (
        "PP-31",
        "the counterparty is the provider when there is no merchant",
        [
            _tel(_at(0), 0, counterparty=401),
            _tel(_at(1), 0, counterparty=402),
            _tel(_at(2), 0, counterparty=403),
        ],
        NAN,
        NAN,
        {},
        [0, 0, 1],
    ),
    (
        "PP-31",
        "an inmate-call EMT fires on its own; a telecom MCC without a key does not",
        [
            _tel(_at(0), 0),
            {
                "ts": _at(1),
                "txn_type": _T["emt_out"],
                "amount": 40.0,
                "ref_flags": REF_INMATE_CALL,
                "counterparty": 401,
            },
        ],
        NAN,
        NAN,
        {},
        [0, 1],
    ),
    (
        "PP-31",
        "incoming inmate-call refund does not fire",
        [{"ts": _at(1), "txn_type": _T["emt_in"], "amount": 40.0, "ref_flags": REF_INMATE_CALL}],
        NAN,
        NAN,
        {},
        [0],
    ),
    # PP-32: both bits, direction, channel, count and total.
    (
        "PP-32",
        "three vague transfers fire; source country alone does not count",
        [
            _intl(_at(0)),
            _intl(_at(1), flags=REF_SOURCE_JURISDICTION),
            _intl(_at(2), flags=REF_VAGUE_PURPOSE),
            _intl(_at(3), "eft_out"),
            _intl(_at(4), "emt_out"),
        ],
        NAN,
        NAN,
        {},
        [0, 0, 0, 0, 1],
    ),
    (
        "PP-32",
        "total exactly min_total_cad fires",
        [_intl(_at(0), amount=6_000.0), _intl(_at(1), "wire_in", amount=4_000.0)],
        NAN,
        NAN,
        {},
        [0, 1],
    ),
    (
        "PP-32",
        "transfer_out counts only through an MSB",
        [
            _intl(_at(0), "transfer_out"),
            _intl(_at(1), "transfer_out", channel=_CH["msb"]),
            _intl(_at(2), "transfer_out", channel=_CH["msb"]),
            _intl(_at(3), "transfer_in", channel=_CH["msb"]),
        ],
        NAN,
        NAN,
        {"min_transfers": 2},
        [0, 0, 1, 0],
    ),
    (
        "PP-32",
        "unknown amounts count as transfers, not towards the total",
        [_intl(_at(0), amount=NAN), _intl(_at(1), amount=9_999.0), _intl(_at(2), amount=NAN)],
        NAN,
        NAN,
        {},
        [0, 0, 1],
    ),
    (
        "PP-32",
        "a transfer exactly window_days old is out",
        [_intl(_at(0)), _intl(_at(45)), _intl(_at(90))],
        NAN,
        NAN,
        {},
        [0, 0, 0],
    ),
    # PK-07: baseline choice, floor, strict inequality.
    (
        "PK-07",
        "expected_monthly wins over declared income",
        [_credit(_at(0), 3_000.0), _credit(_at(1), 3_001.0)],
        240_000.0,
        2_000.0,
        {},
        [0, 1],
    ),
    (
        "PK-07",
        "declared income / 12 when expected is unknown; strictly above k x base",
        [_credit(_at(0), 6_000.0), _credit(_at(1), 0.25)],
        24_000.0,
        NAN,
        {},
        [0, 1],
    ),
    (
        "PK-07",
        "a stated expected activity of zero still wins over income",
        [_credit(_at(0), 3_000.0), _credit(_at(1), 0.25)],
        240_000.0,
        0.0,
        {},
        [0, 1],
    ),
    (
        "PK-07",
        "the floor applies under a zero baseline",
        [_credit(_at(0), 3_000.0), _credit(_at(1), 0.25, "emt_in")],
        0.0,
        NAN,
        {},
        [0, 1],
    ),
    (
        "PK-07",
        "no baseline on file, no evaluation",
        [_credit(_at(k), 50_000.0) for k in range(3)],
        NAN,
        NAN,
        {},
        [0, 0, 0],
    ),
    (
        "PK-07",
        "debits are not credits",
        [_credit(_at(0), 50_000.0, "emt_out"), _credit(_at(0), 50_000.0, "cash_withdrawal")],
        NAN,
        100.0,
        {},
        [0, 0],
    ),
    (
        "PK-07",
        "a credit window_days local days old drops out",
        [_credit(_at(0), 2_000.0), _credit(_at(30), 2_000.0)],
        NAN,
        0.0,
        {},
        [0, 0],
    ),
]


@pytest.mark.parametrize(
    ("spec_id", "name", "rows", "income", "expected", "overrides", "fired"),
    EDGE_CASES,
    ids=[f"{c[0]}-{c[1]}" for c in EDGE_CASES],
)
def test_edge_case(spec_id, name, rows, income, expected, overrides, fired) -> None:
    spec = registry.get(spec_id)
    columns = _columns(rows, income=income, expected=expected)
    out = assert_matches_oracle(spec_id, columns, spec.resolve_params(overrides), ORACLES[spec_id])
    assert out.fired.tolist() == fired, name


def test_pk07_observed_is_a_multiple_of_the_baseline() -> None:
    spec = registry.get("PK-07")
    columns = _columns([_credit(_at(0), 4_000.0), _credit(_at(1), 8_000.0)], expected=2_000.0)
    out, _, _ = run(spec, columns, spec.resolve_params())
    assert out.fired.tolist() == [0, 1] and out.observed[1] == 6.0
    floored = _columns([_credit(_at(0), 4_000.0)], expected=100.0)
    out, _, _ = run(spec, floored, spec.resolve_params())
    assert out.fired.tolist() == [1] and out.observed[0] == 4_000.0 / 1_000.0
