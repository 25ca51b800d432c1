"""The first group's kernels (PP-01, PP-04, PP-12, PP-13, PP-16, PP-17): their oracles
(``tests/oracles.py``), cases, saturation scenarios and exact boundaries.

Below ring capacity the bounded kernel must agree with the unbounded oracle exactly: the
same rows fire, with the same observed value and the same evidence (the most recent events
in the window, newest first). Far above capacity a kernel must still fire: a ring that
saturates may cap a count, never hide a threshold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

import numpy as np
import pytest
from hypothesis import strategies as st

from indicators import registry
from indicators.columns import (
    BILL_PAYMENT,
    CARD_TO_CARD,
    CASH_DEPOSIT,
    CASH_WITHDRAWAL,
    CHANNEL_CODE,
    DAY,
    EFT_OUT,
    EMT_OUT,
    PREAUTH,
    PREPAID_LOAD,
    PURCHASE,
    TRANSFER_OUT,
    TXN_CODE,
    VC_BUY,
    WIRE_OUT,
)
from tests.bits import (
    PROFILE_TRAVEL_OCCUPATION,
    REF_AD_PREMIUM,
    REF_ESCORT_AD,
    REF_LODGING_PLATFORM,
)
from tests.kernel_harness import (
    KERNEL_IDS,
    KERNEL_SETTINGS,
    assert_matches_oracle,
    assert_saturation_fires,
)
from tests.kernel_harness import at as _at
from tests.oracles import (
    _CREDIT_TYPES,
    _THIRD_PARTY_TYPES,
    NOT_FIRED,
    Event,
    OracleRow,
    _known,
    _rows,
    in_window,
)
from tests.strategies import HOUR, batches, chunk_bounds, columns_from_rows, params_for

# ------------------------------------------------------------ oracles


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
        columns,
        "cust",
        "seq",
        "ts",
        "local_day",
        "txn_type",
        "amount",
        "mcc",
        "city",
        "merchant",
        "ref_flags",
        "attempted",
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
        width = max(
            w for w, hit in ((stay_w, velocity), (city_w, multi_city), (spend_w, big_spend)) if hit
        )
        out.append(
            OracleRow(True, float(n_stays), frozenset((s["ts"], s["ref"]) for s in stays_in(width)))
        )
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
        share_rule = (
            n_late >= p["share_min_late"]
            and n_cash >= p["share_min_cash"]
            and n_late / n_cash >= p["min_share"]
        )
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
        columns,
        "cust",
        "seq",
        "ts",
        "local_day",
        "txn_type",
        "amount",
        "counterparty",
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
            days = [(x, is3) for day, x, is3 in credits[c] if d - p["window_days"] + 1 <= day <= d]
            total = sum(x for x, _ in days)
            if total > 0:
                hit = sum(x for x, is3 in days if is3) / total >= p["min_share"]
        out.append(OracleRow(True, float(n), recent) if hit else NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-17

_DEBIT_TYPES = (
    CASH_WITHDRAWAL,
    EMT_OUT,
    TRANSFER_OUT,
    WIRE_OUT,
    EFT_OUT,
    BILL_PAYMENT,
    PURCHASE,
    CARD_TO_CARD,
    VC_BUY,
    PREPAID_LOAD,
)
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
        columns,
        "cust",
        "seq",
        "ts",
        "local_day",
        "txn_type",
        "amount",
        "balance",
        "mcc",
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
                    credits[c].append({"ts": t, "ref": ref, "left": p["pass_share"] * a, "lag": -1})
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
        fast = frozenset(
            (cr["ts"], cr["ref"])
            for cr in credits[c]
            if in_window(cr["ts"], t, width) and 0 <= cr["lag"] < fast_w
        )
        if len(fast) < p["min_fast_credits"]:
            out.append(NOT_FIRED)
            continue

        def total(kind: str, c: int = c, d: int = d) -> float:
            return sum(
                x for day, k, x in flows[c] if k == kind and d - p["window_days"] + 1 <= day <= d
            )

        balances = [
            x for day, k, x in flows[c] if k == "balance" and d - p["window_days"] + 1 <= day <= d
        ]
        depleted = not balances or (
            sum(balances) / len(balances) < p["depleted_ratio"] * total("credit")
        )
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


# ------------------------------------------------------------ tests

# ------------------------------------------------------------ the generic suite's hooks
# tests/test_kernel_oracles.py runs every kernel against its oracle and in chunks, with
# the cases these functions draw and the settings below.

ORACLE_SETTINGS = CHUNK_SETTINGS = KERNEL_SETTINGS


def draw_oracle_case(spec_id: str, data: st.DataObject) -> tuple[dict, dict]:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    columns = data.draw(batches(focus=spec_id, dense=dense), label="columns")
    params = data.draw(params_for(spec), label="params")
    return columns, params


def draw_chunk_case(spec_id: str, data: st.DataObject) -> tuple[dict, dict, list[int]]:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    columns = data.draw(batches(focus=spec_id, dense=dense, max_per_customer=40), label="columns")
    params = data.draw(params_for(spec), label="params")
    n = len(columns["cust"])
    bounds = data.draw(chunk_bounds(n), label="chunk bounds")
    return columns, params, bounds


# --------------------------------------------------------------------------- saturation

_T = TXN_CODE
_CH = CHANNEL_CODE
_TRAVEL = {"profile_flags": [PROFILE_TRAVEL_OCCUPATION]}


def _pp01_dense():
    return [
        {
            "ts": _at(i / 6),
            "txn_type": _T["purchase"],
            "amount": 45.0,
            "ref_flags": REF_ESCORT_AD,
            "mcc": 7311,
        }
        for i in range(120)
    ], None


def _pp04_dense():
    # 120 one-night stays at different hotels, every three hours; velocity rule only.
    return [
        {
            "ts": _at(i / 8),
            "txn_type": _T["purchase"],
            "amount": 90.0,
            "mcc": 7011,
            "merchant": 1000 + i,
            "city": 101 + i % 3,
        }
        for i in range(120)
    ], _TRAVEL


def _pp04_mixed():
    # One 25-night stay charged four times a day, then three short stays elsewhere.
    rows = [
        {
            "ts": _at(i / 4),
            "txn_type": _T["purchase"],
            "amount": 40.0,
            "mcc": 7011,
            "merchant": 501,
            "city": 101,
        }
        for i in range(100)
    ]
    rows += [
        {
            "ts": _at(26 + 2 * k),
            "txn_type": _T["purchase"],
            "amount": 90.0,
            "mcc": 7011,
            "merchant": 600 + k,
            "city": 101,
        }
        for k in range(3)
    ]
    return rows, _TRAVEL


def _pp12_dense():
    return [
        {"ts": _at(n, h), "txn_type": _T["cash_withdrawal"], "amount": 100.0, "channel": _CH["atm"]}
        for n in range(30)
        for h in (23.0, 23.5, 24.5, 25.0)
    ], None


def _pp12_mixed():
    # 200 daytime cash transactions, then four late ones: the share is tiny, the count is not.
    rows = [
        {
            "ts": _at(i / 8, 12.0),
            "txn_type": _T["cash_deposit"],
            "amount": 50.0,
            "channel": _CH["atm"],
        }
        for i in range(200)
    ]
    rows += [
        {
            "ts": _at(25 + k, 23.5),
            "txn_type": _T["cash_withdrawal"],
            "amount": 100.0,
            "channel": _CH["atm"],
        }
        for k in range(4)
    ]
    return rows, None


def _pp13_dense():
    return [
        {
            "ts": _at(i / 12),
            "txn_type": _T["cash_deposit"],
            "amount": 300.0,
            "channel": _CH["atm"],
            "location": 1000 + i,
            "city": 101,
        }
        for i in range(120)
    ], {"home_city": [101]}


def _pp13_mixed():
    rows = [
        {
            "ts": _at(i / 8),
            "txn_type": _T["cash_deposit"],
            "amount": 300.0,
            "channel": _CH["branch"],
            "location": 201,
            "city": 101,
        }
        for i in range(150)
    ]
    rows += [
        {
            "ts": _at(20 + k),
            "txn_type": _T["cash_deposit"],
            "amount": 300.0,
            "channel": _CH["atm"],
            "location": 202 + k,
            "city": 101,
        }
        for k in range(2)
    ]
    return rows, {"home_city": [101]}


def _pp16_dense():
    return [
        {"ts": _at(i / 6), "txn_type": _T["emt_in"], "amount": 100.0, "counterparty": 1000 + i}
        for i in range(120)
    ], None


def _pp16_mixed():
    rows = [
        {"ts": _at(i / 10), "txn_type": _T["emt_in"], "amount": 100.0, "counterparty": 401}
        for i in range(200)
    ]
    rows += [
        {"ts": _at(21 + k), "txn_type": _T["emt_in"], "amount": 100.0, "counterparty": 402 + k}
        for k in range(4)
    ]
    return rows, None


def _pass_pair(day: float, amount: float = 500.0) -> list[dict]:
    return [
        {"ts": _at(day), "txn_type": _T["emt_in"], "amount": amount},
        {
            "ts": _at(day, 13.0),
            "txn_type": _T["cash_withdrawal"],
            "amount": amount,
            "channel": _CH["atm"],
        },
    ]


def _pp17_dense():
    return [r for i in range(100) for r in _pass_pair(i / 4)], None


def _pp17_mixed():
    # Five fast passes, then a burst of 100 credits never passed (more than the ring holds
    # while they are pending), then one more fast pass after the burst stopped being pending.
    rows = [r for k in range(5) for r in _pass_pair(2 * k)]
    rows += [
        {"ts": _at(10 + i / 12), "txn_type": _T["emt_in"], "amount": 100.0} for i in range(100)
    ]
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
    assert_saturation_fires(
        registry.get(spec_id),
        columns_from_rows(rows, profiles),
        ORACLES[spec_id],
        f"{spec_id} {scenario.__name__}",
    )


# --------------------------------------------------------------------------- attempted rows


def test_attempted_ad_payments_are_ignored() -> None:
    columns = columns_from_rows(
        [
            {
                "ts": _at(k),
                "txn_type": _T["purchase"],
                "amount": 45.0,
                "ref_flags": REF_ESCORT_AD,
                "mcc": 7311,
                "attempted": 1,
            }
            for k in range(5)
        ]
    )
    out = assert_matches_oracle(
        "PP-01", columns, registry.get("PP-01").resolve_params(), ORACLES["PP-01"]
    )
    assert not out.fired.any()


# --------------------------------------------------------------------------- edge cases
# Exact boundaries the random search reaches only rarely. Each case states the expected
# fired rows and is also checked against the oracle.


def _lodging(ts: int, merchant: int, city: int = 101) -> dict:
    return {
        "ts": ts,
        "txn_type": _T["purchase"],
        "amount": 100.0,
        "mcc": 7011,
        "merchant": merchant,
        "city": city,
    }


def _cash(ts: int, kind: str = "cash_withdrawal", **kw) -> dict:
    return {"ts": ts, "txn_type": _T[kind], "amount": 100.0, "channel": _CH["atm"], **kw}


def _flow(ts: int, kind: str, amount: float, **kw) -> dict:
    return {"ts": ts, "txn_type": _T[kind], "amount": amount, **kw}


EDGE_CASES = [
    # PP-04: a row joins a stay at the same merchant within one local day of its last day.
    (
        "PP-04",
        "next day joins, two days later does not",
        [_lodging(_at(0), 301), _lodging(_at(1), 301), _lodging(_at(3), 301)],
        None,
        {"min_stays": 2},
        [0, 0, 1],
    ),
    (
        "PP-04",
        "a stay exactly stay_days old is outside the window",
        [_lodging(_at(0), 301), _lodging(_at(14), 302)],
        _TRAVEL,
        {"min_stays": 2},
        [0, 0],
    ),
    (
        "PP-04",
        "a stay one second inside the window counts",
        [_lodging(_at(0), 301), _lodging(_at(14) - 1, 302)],
        _TRAVEL,
        {"min_stays": 2},
        [0, 1],
    ),
    (
        "PP-04",
        "a stay keeps the city it started in",
        [
            _lodging(_at(0), 301, city=101),
            _lodging(_at(1), 301, city=102),
            _lodging(_at(2), 302, city=102),
        ],
        None,
        {"min_cities": 2},
        [0, 0, 1],
    ),
    (
        "PP-04",
        "spend exactly at the cap does not fire",
        [{**_lodging(_at(k), 300 + k), "amount": 500.0} for k in range(4)],
        None,
        {"min_stays": 16, "min_cities": 16},
        [0, 0, 0, 0],
    ),
    # PP-12: the late window is [start_hour, end_hour) in local time.
    (
        "PP-12",
        "end_hour itself is not late, start_hour is",
        [_cash(_at(k, 6.0)) for k in range(4)] + [_cash(_at(k, 22.0)) for k in range(4, 8)],
        None,
        {"min_share": 1.0},
        [0] * 7 + [1],
    ),
    (
        "PP-12",
        "a share exactly min_share fires",
        [_cash(_at(0, 12.0)), _cash(_at(1, 12.0)), _cash(_at(2, 23.0)), _cash(_at(3, 23.0))],
        None,
        {"min_share": 0.5},
        [0, 0, 0, 1],
    ),
    # PP-13: any in-person channel; the pair window excludes its far edge.
    (
        "PP-13",
        "withdrawal at a branch in another city",
        [_cash(_at(0), "cash_deposit", city=101), _cash(_at(1), city=102, channel=_CH["branch"])],
        None,
        {},
        [0, 1],
    ),
    (
        "PP-13",
        "spend exactly pair_hours after the deposit does not pair",
        [_cash(_at(0), "cash_deposit", city=101), _cash(_at(0) + 36 * HOUR, city=102)],
        None,
        {},
        [0, 0],
    ),
    (
        "PP-13",
        "spend one second inside pair_hours pairs",
        [_cash(_at(0), "cash_deposit", city=101), _cash(_at(0) + 36 * HOUR - 1, city=102)],
        None,
        {},
        [0, 1],
    ),
    # PP-16: a third-party share exactly min_share fires.
    (
        "PP-16",
        "third-party share exactly min_share",
        [_flow(_at(0), "eft_in", 400.0, counterparty=499)]
        + [_flow(_at(k), "emt_in", 200.0, counterparty=401 + k) for k in range(1, 4)],
        None,
        {},
        [0, 0, 0, 1],
    ),
    # PP-17: debits pass the oldest credits first; thresholds are inclusive.
    (
        "PP-17",
        "first in, first out",
        [
            _flow(_at(0, 10.0), "emt_in", 100.0),
            _flow(_at(0, 11.0), "emt_in", 1000.0),
            _flow(_at(0, 12.0), "emt_out", 500.0),
        ],
        None,
        {"min_fast_credits": 1},
        [0, 0, 1],
    ),
    (
        "PP-17",
        "a credit of exactly min_credit is followed",
        [_flow(_at(0, 10.0), "emt_in", 50.0), _flow(_at(0, 11.0), "cash_withdrawal", 50.0)],
        None,
        {"min_fast_credits": 1},
        [0, 1],
    ),
    (
        "PP-17",
        "bill payments are living spend",
        [_flow(_at(0, 10.0), "emt_in", 500.0), _flow(_at(0, 11.0), "bill_payment", 500.0)],
        None,
        {"min_fast_credits": 1},
        [0, 0],
    ),
    (
        "PP-17",
        "a credit older than pass_hours cannot be passed",
        [_flow(_at(0), "emt_in", 500.0), _flow(_at(2), "emt_out", 500.0)],
        None,
        {"min_fast_credits": 1, "fast_hours": 168, "pass_hours": 48},
        [0, 0],
    ),
]


@pytest.mark.parametrize(
    ("spec_id", "name", "rows", "profiles", "overrides", "expected"),
    EDGE_CASES,
    ids=[f"{c[0]}-{c[1]}" for c in EDGE_CASES],
)
def test_edge_case(spec_id, name, rows, profiles, overrides, expected) -> None:
    spec = registry.get(spec_id)
    columns = columns_from_rows(rows, profiles)
    params = spec.resolve_params(overrides)
    out = assert_matches_oracle(spec_id, columns, params, ORACLES[spec_id])
    assert out.fired.tolist() == expected, name
