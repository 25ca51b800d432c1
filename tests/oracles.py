"""Slow, obviously correct references for the indicator kernels (STYLE item 13).

Each oracle reads the same column arrays as its kernel but keeps unbounded per-customer
Python lists and recomputes every window with a plain loop. It returns one
:class:`OracleRow` per input row: whether the rule fires, the observed value of its
threshold parameter, and the *candidate* evidence: every ``(ts, ref)`` event in the window
the rule reports on. The kernel keeps only the ``EVIDENCE_SLOTS`` most recent of them
(newest first, ties by larger ref), which :func:`newest_refs` computes.

While a customer has fewer relevant events than a kernel's ring / table capacity, the
bounded kernel and the unbounded oracle must agree exactly; the strategies keep it so.

Semantics shared by every oracle: rows are taken in order; ``attempted`` rows are ignored;
a window of width ``w`` ending at ``t`` covers ``(t - w, t]``; day-bucket windows of ``n``
days ending on local day ``d`` cover local days ``d - n + 1 .. d``; NaN amounts and
balances are unknown and skipped by amount logic.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from indicators.columns import (
    BILL_PAYMENT,
    CARD_TO_CARD,
    CASH_DEPOSIT,
    CASH_WITHDRAWAL,
    CHANNEL_CODE,
    DAY,
    EFT_IN,
    EFT_OUT,
    EMT_IN,
    EMT_OUT,
    EVIDENCE_SLOTS,
    PREAUTH,
    PREPAID_LOAD,
    PURCHASE,
    TRANSFER_IN,
    TRANSFER_OUT,
    VC_BUY,
    WIRE_IN,
    WIRE_OUT,
)
from tests.bits import (
    PROFILE_TRAVEL_OCCUPATION,
    REF_AD_PREMIUM,
    REF_ESCORT_AD,
    REF_LODGING_PLATFORM,
)

Event = tuple[int, int]  # (ts, ref)


@dataclass(frozen=True)
class OracleRow:
    fired: bool = False
    observed: float = 0.0
    evidence: frozenset[Event] = field(default_factory=frozenset)


NOT_FIRED = OracleRow()


def newest_refs(events: frozenset[Event], slots: int = EVIDENCE_SLOTS) -> list[int]:
    """Refs of the ``slots`` most recent events, newest first (ties: larger ref first)."""
    return [ref for _, ref in sorted(events, reverse=True)[:slots]]


def in_window(t_event: int, t: int, width: int) -> bool:
    return t - width < t_event <= t


def _rows(columns: Mapping[str, np.ndarray], *names: str) -> list[tuple]:
    """Row tuples of plain Python values (ints, floats) for the named columns."""
    return list(zip(*(np.asarray(columns[n]).tolist() for n in names), strict=True))


def _known(x: float) -> bool:
    return not math.isnan(x)


# ---------------------------------------------------------------------------------- PP-01


def oracle_pp01(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Escort-ad payments in a sliding window.

    polars: ``df.filter(pl.col("txn_type").is_in([purchase, preauth]) & escort_ad)
    .rolling(index_column="ts", period=f"{window_days}d", group_by="cust")
    .agg(pl.len(), small.sum())``.
    """
    width = p["window_days"] * DAY
    payments: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)  # (ts, ref, small)
    out = []
    for c, ref, t, tt, a, flags, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "amount", "ref_flags", "attempted"
    ):
        if att or tt not in (PURCHASE, PREAUTH) or not flags & REF_ESCORT_AD:
            out.append(NOT_FIRED)
            continue
        small = _known(a) and 0 < a <= p["small_max"] and a % 3.0 == 0.0
        payments[c].append((t, ref, small))
        recent = [(ts_, r, s) for ts_, r, s in payments[c] if in_window(ts_, t, width)]
        n = len(recent)
        n_small = sum(s for _, _, s in recent)
        if n >= p["min_payments"] or n_small >= p["min_small_multiples"] or flags & REF_AD_PREMIUM:
            out.append(OracleRow(True, float(n), frozenset((ts_, r) for ts_, r, _ in recent)))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-04


def _is_lodging(mcc: int, flags: int) -> bool:
    return mcc in (7011, 7012) or 3501 <= mcc <= 3999 or bool(flags & REF_LODGING_PLATFORM)


def oracle_pp04(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Stays (same merchant, local days within one of the stay's last day) and their windows.

    polars: stays by ``group_by("cust", "merchant")`` and a cumulative sum over
    ``local_day.diff() > 1``; then ``rolling`` counts of stays (14d) and ``n_unique(city)``
    (7d) on the stays' latest timestamps, and a ``local_day`` range sum of purchases (30d).
    """
    stay_w = p["stay_days"] * DAY
    city_w = p["city_days"] * DAY
    spend_w = p["spend_days"] * DAY
    flags_of = np.asarray(columns["profile_flags"]).tolist()
    stays: dict[int, list[dict]] = defaultdict(list)
    spend: dict[int, list[tuple[int, float]]] = defaultdict(list)  # (local_day, amount)
    out = []
    for c, ref, t, d, tt, a, mcc, city, merchant, flags, att in _rows(
        columns, "cust", "seq", "ts", "local_day", "txn_type", "amount", "mcc", "city",
        "merchant", "ref_flags", "attempted",
    ):
        if att or tt not in (PURCHASE, PREAUTH) or not _is_lodging(mcc, flags):
            out.append(NOT_FIRED)
            continue
        matches = [s for s in stays[c] if s["merchant"] == merchant and abs(d - s["day"]) <= 1]
        if matches:
            s = max(matches, key=lambda s: (s["ts"], s["ref"]))
            if t >= s["ts"]:
                s["ts"], s["ref"] = t, ref
            s["day"] = max(s["day"], d)
            if s["city"] == 0:
                s["city"] = city
        else:
            stays[c].append({"ts": t, "ref": ref, "merchant": merchant, "day": d, "city": city})
        if tt == PURCHASE and _known(a):
            spend[c].append((d, a))

        def stays_in(width: int, c: int = c, t: int = t) -> list[dict]:
            return [s for s in stays[c] if in_window(s["ts"], t, width)]

        n_stays = len(stays_in(stay_w))
        velocity = n_stays >= p["min_stays"]
        travel = bool(flags_of[c] & PROFILE_TRAVEL_OCCUPATION)
        cities = {s["city"] for s in stays_in(city_w) if s["city"] != 0}
        multi_city = not travel and len(cities) >= p["min_cities"]
        total = sum(x for day, x in spend[c] if d - p["spend_days"] + 1 <= day <= d)
        big_spend = not travel and total > p["max_spend_cad"]
        if not (velocity or multi_city or big_spend):
            out.append(NOT_FIRED)
            continue
        width = max(w for w, hit in ((stay_w, velocity), (city_w, multi_city),
                                     (spend_w, big_spend)) if hit)
        out.append(OracleRow(True, float(n_stays),
                             frozenset((s["ts"], s["ref"]) for s in stays_in(width))))
    return out


# ---------------------------------------------------------------------------------- PP-12


def oracle_pp12(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Late-night cash count and share.

    polars: ``df.filter(cash).with_columns(late=...).rolling(index_column="ts",
    period=f"{window_days}d", group_by="cust").agg(pl.col("late").sum(), pl.len())``.
    """
    width = p["window_days"] * DAY
    start, end = p["start_hour"] * 3600, p["end_hour"] * 3600
    cash: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)  # (ts, ref, late)
    out = []
    for c, ref, t, tod, tt, att in _rows(
        columns, "cust", "seq", "ts", "local_tod", "txn_type", "attempted"
    ):
        if att or tt not in (CASH_DEPOSIT, CASH_WITHDRAWAL):
            out.append(NOT_FIRED)
            continue
        late = tod >= start or tod < end
        cash[c].append((t, ref, late))
        if not late:
            out.append(NOT_FIRED)
            continue
        recent = [e for e in cash[c] if in_window(e[0], t, width)]
        late_events = frozenset((ts_, r) for ts_, r, is_late in recent if is_late)
        n_late, n_cash = len(late_events), len(recent)
        share_rule = (n_late >= p["share_min_late"] and n_cash >= p["share_min_cash"]
                      and n_late / n_cash >= p["min_share"])
        if n_late >= p["min_late"] or share_rule:
            out.append(OracleRow(True, float(n_late), late_events))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-13

_IN_PERSON = (CHANNEL_CODE["pos"], CHANNEL_CODE["atm"], CHANNEL_CODE["branch"])


def oracle_pp13(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Distinct deposit locations / cities, away-from-home deposits, deposit→spend city pairs.

    polars: ``rolling(...).agg(pl.col("location").n_unique(), pl.col("city").n_unique())``
    over deposits, and ``join_asof(strategy="backward", tolerance=f"{pair_hours}h")`` of
    in-person debits onto deposits with a known city.
    """
    loc_w = p["loc_days"] * DAY
    away_w = p["away_days"] * DAY
    pair_w = p["pair_hours"] * 3600
    home_of = np.asarray(columns["home_city"]).tolist()
    last_at_loc: dict[int, dict[int, Event]] = defaultdict(dict)
    last_in_city: dict[int, dict[int, Event]] = defaultdict(dict)
    away: dict[int, list[Event]] = defaultdict(list)
    last_dep: dict[int, tuple[int, int, int]] = {}  # cust -> (ts, city, ref)

    def touch(table: dict[int, Event], key: int, t: int, ref: int) -> None:
        if key not in table or t >= table[key][0]:
            table[key] = (t, ref)

    def latest(table: dict[int, Event], t: int, width: int) -> frozenset[Event]:
        return frozenset(e for e in table.values() if in_window(e[0], t, width))

    out = []
    for c, ref, t, tt, ch, city, loc, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "channel", "city", "location", "attempted"
    ):
        if att:
            out.append(NOT_FIRED)
            continue
        if tt == CASH_DEPOSIT:
            key = loc if loc != 0 else city
            if key != 0:
                touch(last_at_loc[c], key, t, ref)
            if city != 0:
                touch(last_in_city[c], city, t, ref)
                if c not in last_dep or t >= last_dep[c][0]:
                    last_dep[c] = (t, city, ref)
                if home_of[c] != 0 and city != home_of[c]:
                    away[c].append((t, ref))
            locs = latest(last_at_loc[c], t, loc_w)
            cities = latest(last_in_city[c], t, loc_w)
            aways = frozenset(e for e in away[c] if in_window(e[0], t, away_w))
            if len(locs) >= p["min_locations"]:
                evidence = locs
            elif len(cities) >= p["min_cities"]:
                evidence = cities
            elif len(aways) >= p["min_away"]:
                evidence = aways
            else:
                out.append(NOT_FIRED)
                continue
            out.append(OracleRow(True, float(len(locs)), evidence))
        elif tt in (CASH_WITHDRAWAL, PURCHASE) and ch in _IN_PERSON:
            dep = last_dep.get(c)
            if city == 0 or dep is None or dep[1] == city or not in_window(dep[0], t, pair_w):
                out.append(NOT_FIRED)
                continue
            n_loc = len(latest(last_at_loc[c], t, loc_w))
            out.append(OracleRow(True, float(n_loc), frozenset({(t, ref), (dep[0], dep[2])})))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-16

_THIRD_PARTY_TYPES = (EMT_IN, TRANSFER_IN, WIRE_IN)
_CREDIT_TYPES = (CASH_DEPOSIT, EMT_IN, TRANSFER_IN, WIRE_IN, EFT_IN)


def oracle_pp16(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Distinct third-party senders and third-party share of credits.

    polars: ``rolling(index_column="ts", period=f"{window_days}d", group_by="cust")
    .agg(pl.col("counterparty").filter(third_party).n_unique())`` plus a ``local_day``
    range sum of amounts by third-party flag.
    """
    width = p["window_days"] * DAY
    senders: dict[int, dict[int, Event]] = defaultdict(dict)  # counterparty -> last (ts, ref)
    credits: dict[int, list[tuple[int, float, bool]]] = defaultdict(list)  # (day, amount, 3rd)
    out = []
    for c, ref, t, d, tt, a, cp, att in _rows(
        columns, "cust", "seq", "ts", "local_day", "txn_type", "amount", "counterparty",
        "attempted",
    ):
        if att or tt not in _CREDIT_TYPES:
            out.append(NOT_FIRED)
            continue
        third = tt in _THIRD_PARTY_TYPES and cp != 0
        if _known(a):
            credits[c].append((d, a, third))
        if not third:
            out.append(NOT_FIRED)
            continue
        if cp not in senders[c] or t >= senders[c][cp][0]:
            senders[c][cp] = (t, ref)
        recent = frozenset(e for e in senders[c].values() if in_window(e[0], t, width))
        n = len(recent)
        hit = n >= p["min_senders"]
        if not hit and n >= p["share_min_senders"]:
            days = [(x, is3) for day, x, is3 in credits[c]
                    if d - p["window_days"] + 1 <= day <= d]
            total = sum(x for x, _ in days)
            if total > 0:
                hit = sum(x for x, is3 in days if is3) / total >= p["min_share"]
        out.append(OracleRow(True, float(n), recent) if hit else NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-17

_DEBIT_TYPES = (CASH_WITHDRAWAL, EMT_OUT, TRANSFER_OUT, WIRE_OUT, EFT_OUT, BILL_PAYMENT,
                PURCHASE, CARD_TO_CARD, VC_BUY, PREPAID_LOAD)
_LIVING_MCCS = (5411, 5499, 5812, 5814, 5912, 5541, 5542, 5651, 5311)


def oracle_pp17(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """FIFO pass-through of credits within ``pass_hours``, depletion and living-spend checks.

    polars has no direct equivalent for the sequential FIFO matching (a cumulative-sum
    ``join_asof`` approximates it); the aggregates are ``rolling`` / ``local_day`` sums.
    """
    width = p["window_days"] * DAY
    pass_w = p["pass_hours"] * 3600
    fast_w = p["fast_hours"] * 3600
    credits: dict[int, list[dict]] = defaultdict(list)
    flows: dict[int, list[tuple[int, str, float]]] = defaultdict(list)  # (day, kind, value)
    out = []
    for c, ref, t, d, tt, a, bal, mcc, att in _rows(
        columns, "cust", "seq", "ts", "local_day", "txn_type", "amount", "balance", "mcc",
        "attempted",
    ):
        if att:
            out.append(NOT_FIRED)
            continue
        if _known(bal):
            flows[c].append((d, "balance", bal))
        if tt in _CREDIT_TYPES:
            if _known(a):
                flows[c].append((d, "credit", a))
                if a >= p["min_credit"]:
                    credits[c].append({"ts": t, "ref": ref, "left": p["pass_share"] * a,
                                       "lag": -1})
            out.append(NOT_FIRED)
            continue
        if tt not in _DEBIT_TYPES or not _known(a):
            out.append(NOT_FIRED)
            continue
        flows[c].append((d, "debit", a))
        if tt == BILL_PAYMENT or (tt == PURCHASE and mcc in _LIVING_MCCS):
            flows[c].append((d, "living", a))
        passed = False
        left = a
        while left > 0:
            pending = [cr for cr in credits[c] if cr["lag"] < 0 and in_window(cr["ts"], t, pass_w)]
            if not pending:
                break
            cr = min(pending, key=lambda cr: (cr["ts"], cr["ref"]))
            take = min(left, cr["left"])
            cr["left"] -= take
            left -= take
            if cr["left"] <= 0:
                cr["lag"] = t - cr["ts"]
                passed = True
        if not passed:
            out.append(NOT_FIRED)
            continue
        fast = frozenset((cr["ts"], cr["ref"]) for cr in credits[c]
                         if in_window(cr["ts"], t, width) and 0 <= cr["lag"] < fast_w)
        if len(fast) < p["min_fast_credits"]:
            out.append(NOT_FIRED)
            continue

        def total(kind: str, c: int = c, d: int = d) -> float:
            return sum(x for day, k, x in flows[c]
                       if k == kind and d - p["window_days"] + 1 <= day <= d)

        balances = [x for day, k, x in flows[c]
                    if k == "balance" and d - p["window_days"] + 1 <= day <= d]
        depleted = not balances or (
            sum(balances) / len(balances) < p["depleted_ratio"] * total("credit"))
        debits = total("debit")
        no_living = debits > 0 and total("living") / debits < p["max_living_share"]
        if depleted and no_living:
            out.append(OracleRow(True, float(len(fast)), fast))
        else:
            out.append(NOT_FIRED)
    return out


ORACLES: dict[str, Callable[[Mapping[str, np.ndarray], Mapping[str, float]], list[OracleRow]]]
ORACLES = {
    "PP-01": oracle_pp01,
    "PP-04": oracle_pp04,
    "PP-12": oracle_pp12,
    "PP-13": oracle_pp13,
    "PP-16": oracle_pp16,
    "PP-17": oracle_pp17,
}
