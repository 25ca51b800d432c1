"""Slow, obviously correct references for the lifestyle group's kernels (STYLE item 13).

PP-29 (lavish lifestyle), PP-30 (multiple rents / property taxes), PP-31 (telecom excess /
jail calls), PP-32 (international flows to source jurisdictions) and PK-07 (activity
inconsistent with the profile). Same conventions as :mod:`tests.oracles`: unbounded
per-customer Python lists, every window recomputed with a plain loop, one
:class:`~tests.oracles.OracleRow` per input row whose evidence is every ``(ts, ref)`` event
the rule reports on in its window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

import numpy as np

from indicators.columns import (
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
    WIRE_IN,
    WIRE_OUT,
)
from tests.bits import (
    REF_INMATE_CALL,
    REF_LUXURY,
    REF_RENT,
    REF_SOURCE_JURISDICTION,
    REF_VAGUE_PURPOSE,
)
from tests.oracles import NOT_FIRED, Event, OracleRow, _known, _rows, in_window

Oracle = Callable[[Mapping[str, np.ndarray], Mapping[str, float]], list[OracleRow]]

# ---------------------------------------------------------------------------------- PP-29

LUXURY_MCCS = (5511, 5944, 5681, 5813, 8099, 8011, 7298, 7997)
HIGH_TICKET_MCCS = (5812, 4121)


def is_luxury(mcc: int, flags: int, amount: float, high_ticket: float) -> bool:
    return (bool(flags & REF_LUXURY) or mcc in LUXURY_MCCS
            or (mcc in HIGH_TICKET_MCCS and amount >= high_ticket))


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
        columns, "cust", "seq", "ts", "local_day", "txn_type", "amount", "mcc", "ref_flags",
        "attempted",
    ):
        if (att or tt not in (PURCHASE, BILL_PAYMENT) or not _known(a)
                or not is_luxury(mcc, flags, a, p["high_ticket_cad"])):
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
        columns, "cust", "seq", "ts", "txn_type", "mcc", "merchant", "counterparty",
        "ref_flags", "attempted",
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
        columns, "cust", "seq", "ts", "txn_type", "mcc", "merchant", "counterparty",
        "ref_flags", "attempted",
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
        columns, "cust", "seq", "ts", "txn_type", "channel", "amount", "ref_flags", "attempted",
    ):
        qualifying = (
            not att
            and bool(flags & REF_SOURCE_JURISDICTION) and bool(flags & REF_VAGUE_PURPOSE)
            and (tt in (WIRE_OUT, EFT_OUT, EMT_OUT, WIRE_IN, EFT_IN)
                 or (ch == _MSB and tt == TRANSFER_OUT))
        )
        if not qualifying:
            out.append(NOT_FIRED)
            continue
        transfers[c].append((t, ref, a if _known(a) else 0.0))
        recent = [e for e in transfers[c] if in_window(e[0], t, width)]
        total = sum(x for _, _, x in recent)
        if len(recent) >= p["min_transfers"] or total >= p["min_total_cad"]:
            out.append(OracleRow(True, float(len(recent)),
                                 frozenset((ts_, r) for ts_, r, _ in recent)))
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
        columns, "cust", "seq", "ts", "local_day", "txn_type", "amount", "attempted",
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
