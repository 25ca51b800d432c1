"""adv_travel kernels (PP-02, PP-03, PP-05 ... PP-11) against their oracles, in chunks, and at
the edges.

Below ring capacity each bounded kernel must agree with its unbounded oracle exactly (fired
rows, observed value, evidence = newest refs in the window); one batch must equal the same
rows split into chunks with the state carried; far above capacity a kernel must still fire.

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
    BILL_PAYMENT,
    CASH_DEPOSIT,
    CASH_WITHDRAWAL,
    CHANNEL_CODE,
    DAY,
    EFT_IN,
    EMT_IN,
    PREAUTH,
    PURCHASE,
    REFUND,
    TRANSFER_IN,
    TXN_CODE,
    WIRE_IN,
)
from tests.bits import (
    PROFILE_ENTITY,
    PROFILE_TRAVEL_OCCUPATION,
    REF_AD_PREMIUM,
    REF_ESCORT_AD,
    REF_ESCORT_PROCESSOR,
    REF_LODGING_PLATFORM,
    REF_PAYMENT_SERVICE,
    REF_SOURCE_JURISDICTION,
)
from tests.kernel_harness import (
    assert_matches_oracle,
    assert_saturation_fires,
    kernel_settings,
)
from tests.kernel_harness import at as _at
from tests.oracles import NOT_FIRED, Event, OracleRow, _known, _rows, in_window
from tests.strategies import (
    FOCUS,
    LODGING_MCCS,
    Focus,
    batches,
    chunk_bounds,
    columns_from_rows,
    params_for,
)

# ------------------------------------------------------------ oracles
# Slow, obviously correct references for the adv_travel kernels (PP-02, PP-03, PP-05 ... PP-11).
#
# Same conventions as :mod:`tests.oracles`: plain Python over the kernel's columns, unbounded
# per-customer lists, every window recomputed with a loop, one :class:`OracleRow` per input
# row whose evidence is the *candidate* set of ``(ts, ref)`` events (the kernel keeps the
# newest ``EVIDENCE_SLOTS``). Attempted rows are ignored; a window of width ``w`` ending at
# ``t`` covers ``(t - w, t]``; a day window of ``n`` days ending on local day ``d`` covers
# ``d - n + 1 .. d``; NaN amounts are unknown and skipped by amount logic.

REVERSAL = TXN_CODE["reversal"]


def _recent(events: list[Event], t: int, width: int) -> list[Event]:
    return [e for e in events if in_window(e[0], t, width)]


def _is_lodging(mcc: int, flags: int) -> bool:
    return mcc in (7011, 7012) or 3501 <= mcc <= 3999 or bool(flags & REF_LODGING_PLATFORM)


# ---------------------------------------------------------------------------------- PP-02

_INBOUND = (EMT_IN, EFT_IN, WIRE_IN, TRANSFER_IN)


def oracle_pp02(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Escort-processor transfers (not card types) and inbound processor credits in a window."""
    width = p["window_days"] * DAY
    entity_of = [bool(f & PROFILE_ENTITY) for f in np.asarray(columns["profile_flags"]).tolist()]
    escort_events: dict[int, list[Event]] = defaultdict(list)
    credit_events: dict[int, list[Event]] = defaultdict(list)
    out = []
    for c, ref, t, tt, flags, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "ref_flags", "attempted"
    ):
        card = tt in (PURCHASE, PREAUTH, REFUND, REVERSAL)
        escort = bool(flags & REF_ESCORT_PROCESSOR) and not card
        processor = escort or (p["generic_processors"] == 1 and bool(flags & REF_PAYMENT_SERVICE))
        credit = tt in _INBOUND and processor
        if att or not (escort or credit):
            out.append(NOT_FIRED)
            continue
        if escort:
            escort_events[c].append((t, ref))
        if credit:
            credit_events[c].append((t, ref))
        esc = _recent(escort_events[c], t, width)
        cred = _recent(credit_events[c], t, width)
        hit_esc = len(esc) >= p["min_escort"]
        hit_cred = not entity_of[c] and len(cred) >= p["min_credits"]
        if not (hit_esc or hit_cred):
            out.append(NOT_FIRED)
            continue
        evidence = set(esc if hit_esc else ()) | set(cred if hit_cred else ())
        out.append(OracleRow(True, float(len(esc) if hit_esc else len(cred)), frozenset(evidence)))
    return out


# ---------------------------------------------------------------------------------- PP-03


def oracle_pp03(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """PP-01's pattern at some ad payment and hosting payments in the same window."""
    width = p["window_days"] * DAY
    ad_width = p["ad_window_days"] * DAY
    ads: dict[int, list[dict]] = defaultdict(list)
    hosting: dict[int, list[Event]] = defaultdict(list)
    out = []
    for c, ref, t, tt, a, mcc, flags, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "amount", "mcc", "ref_flags", "attempted"
    ):
        is_ad = tt in (PURCHASE, PREAUTH) and bool(flags & REF_ESCORT_AD)
        is_host = (
            tt in (PURCHASE, PREAUTH, BILL_PAYMENT)
            and not flags & REF_ESCORT_AD
            and mcc in (4816, 7372, 7311)
        )
        if att or not (is_ad or is_host):
            out.append(NOT_FIRED)
            continue
        if is_ad:
            small = _known(a) and 0 < a <= p["small_max"] and a % 3.0 == 0.0
            ads[c].append({"ts": t, "ref": ref, "small": small, "hit": False})
            recent = [x for x in ads[c] if in_window(x["ts"], t, ad_width)]
            ads[c][-1]["hit"] = (
                len(recent) >= p["min_payments"]
                or sum(x["small"] for x in recent) >= p["min_small_multiples"]
                or bool(flags & REF_AD_PREMIUM)
            )
        else:
            hosting[c].append((t, ref))
        ads_in = [x for x in ads[c] if in_window(x["ts"], t, width)]
        hosts = _recent(hosting[c], t, width)
        if any(x["hit"] for x in ads_in) and len(hosts) >= p["min_hosting"]:
            evidence = {(x["ts"], x["ref"]) for x in ads_in} | set(hosts)
            out.append(OracleRow(True, float(len(hosts)), frozenset(evidence)))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-05


def oracle_pp05(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Rounded lodging purchases (not for travel occupations), same-day authorizations,
    same-amount refunds, unsettled or reversed pre-auths."""
    width = p["window_days"] * DAY
    refund_w = p["refund_days"] * DAY
    settle_w = p["settle_days"] * DAY
    travel_of = [
        bool(f & PROFILE_TRAVEL_OCCUPATION) for f in np.asarray(columns["profile_flags"]).tolist()
    ]
    rounded: dict[int, list[Event]] = defaultdict(list)
    charges: dict[int, list[dict]] = defaultdict(list)
    preauths: dict[int, list[dict]] = defaultdict(list)
    out = []
    for c, ref, t, d, tt, a, mcc, merch, flags, att, key, link in _rows(
        columns,
        "cust",
        "seq",
        "ts",
        "local_day",
        "txn_type",
        "amount",
        "mcc",
        "merchant",
        "ref_flags",
        "attempted",
        "txn_key",
        "linked",
    ):
        if att:
            out.append(NOT_FIRED)
            continue
        events: set[Event] = set()
        hit = False
        for pre in preauths[c]:  # (d) unsettled past settle_days
            if pre["status"] == "pending" and pre["ts"] <= t - settle_w:
                pre["status"] = "unsettled"
                events.add((pre["ts"], pre["ref"]))
                hit = True
        lodging = _is_lodging(mcc, flags)
        kind = "lodging" if lodging else ("car" if mcc == 7512 or 3351 <= mcc <= 3441 else "")
        if tt == PURCHASE:
            for pre in preauths[c]:
                if (
                    pre["status"] == "pending"
                    and in_window(pre["ts"], t, settle_w)
                    and (
                        (link != 0 and link == pre["key"])
                        or (merch != 0 and merch == pre["merchant"])
                    )
                ):
                    pre["status"] = "settled"
        if tt in (PURCHASE, PREAUTH) and kind:
            if kind == "lodging" and merch != 0 and _known(a):
                same = [
                    ch
                    for ch in charges[c]
                    if ch["kind"] == "lodging"
                    and ch["type"] == tt
                    and ch["merchant"] == merch
                    and ch["day"] == d
                    and ch["ts"] <= t
                    and _known(ch["amount"])
                    and ch["amount"] != a
                    and not (link != 0 and link == ch["key"])
                ]
                if same:
                    events |= {(ch["ts"], ch["ref"]) for ch in same} | {(t, ref)}
                    hit = True
            charges[c].append(
                {
                    "ts": t,
                    "ref": ref,
                    "key": key,
                    "merchant": merch,
                    "day": d,
                    "amount": a,
                    "type": tt,
                    "kind": kind,
                }
            )
            if tt == PREAUTH and kind == "lodging":
                preauths[c].append(
                    {"ts": t, "ref": ref, "key": key, "merchant": merch, "status": "pending"}
                )
            if (
                tt == PURCHASE
                and kind == "lodging"
                and _known(a)
                and a > 0
                and a % p["round_unit"] == 0.0
            ):
                rounded[c].append((t, ref))
                recent = _recent(rounded[c], t, width)
                if not travel_of[c] and len(recent) >= p["min_rounded"]:
                    events |= set(recent)
                    hit = True
        elif tt == REFUND and _known(a):
            matches = [
                ch
                for ch in charges[c]
                if ch["type"] == PURCHASE
                and in_window(ch["ts"], t, refund_w)
                and ch["amount"] == a
                and ((link != 0 and link == ch["key"]) or (merch != 0 and merch == ch["merchant"]))
            ]
            if matches:
                events |= {(ch["ts"], ch["ref"]) for ch in matches} | {(t, ref)}
                hit = True
        elif tt == REVERSAL:
            pre = next((x for x in preauths[c] if link != 0 and x["key"] == link), None)
            if pre is not None:
                if pre["status"] != "settled":
                    if pre["status"] == "pending":
                        pre["status"] = "reversed"
                    events |= {(pre["ts"], pre["ref"]), (t, ref)}
                    hit = True
            else:
                charge = next(
                    (
                        ch
                        for ch in charges[c]
                        if link != 0
                        and ch["key"] == link
                        and ch["kind"] == "lodging"
                        and ch["type"] == PURCHASE
                    ),
                    None,
                )
                if charge is not None:
                    events.add((charge["ts"], charge["ref"]))
                if charge is not None or lodging:
                    events.add((t, ref))
                    hit = True
        if hit:
            n_rounded = len(_recent(rounded[c], t, width))
            out.append(OracleRow(True, float(n_rounded), frozenset(events)))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-06

_ATM = CHANNEL_CODE["atm"]


def oracle_pp06(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Cash after a lodging payment in the same city; pairs and their cities in a window;
    travel occupations are recorded but never fire."""
    pair_w = p["pair_hours"] * 3600
    width = p["window_days"] * DAY
    travel_of = [
        bool(f & PROFILE_TRAVEL_OCCUPATION) for f in np.asarray(columns["profile_flags"]).tolist()
    ]
    lodgings: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # (ts, ref, city)
    pairs: dict[int, list[tuple[int, int, int, int, int]]] = defaultdict(list)
    out = []
    for c, ref, t, tt, ch, mcc, city, flags, att in _rows(
        columns,
        "cust",
        "seq",
        "ts",
        "txn_type",
        "channel",
        "mcc",
        "city",
        "ref_flags",
        "attempted",
    ):
        if att or city == 0:
            out.append(NOT_FIRED)
            continue
        if tt in (PURCHASE, PREAUTH) and _is_lodging(mcc, flags):
            lodgings[c].append((t, ref, city))
            out.append(NOT_FIRED)
            continue
        cash = tt == CASH_DEPOSIT or (tt == CASH_WITHDRAWAL and ch == _ATM)
        before = [(lt, lr) for lt, lr, lc in lodgings[c] if lc == city and in_window(lt, t, pair_w)]
        if not cash or not before:
            out.append(NOT_FIRED)
            continue
        lt, lr = max(before)
        pairs[c].append((t, ref, city, lt, lr))
        recent = [x for x in pairs[c] if in_window(x[0], t, width)]
        cities = {x[2] for x in recent}
        if not travel_of[c] and (len(recent) >= p["min_pairs"] or len(cities) >= p["min_cities"]):
            evidence = {(x[0], x[1]) for x in recent} | {(x[3], x[4]) for x in recent}
            out.append(OracleRow(True, float(len(recent)), frozenset(evidence)))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-07


def oracle_pp07(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Tickets (not for travel occupations), and source-jurisdiction tickets bought abroad,
    in a sliding window."""
    width = p["window_days"] * DAY
    travel_of = [
        bool(f & PROFILE_TRAVEL_OCCUPATION) for f in np.asarray(columns["profile_flags"]).tolist()
    ]
    tickets: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
    out = []
    for c, ref, t, tt, mcc, flags, foreign, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "mcc", "ref_flags", "foreign", "attempted"
    ):
        ticket = mcc == 4511 or 3000 <= mcc <= 3299 or mcc in (4112, 4131, 4722)
        if att or tt != PURCHASE or not ticket:
            out.append(NOT_FIRED)
            continue
        tickets[c].append((t, ref, foreign != 0 and bool(flags & REF_SOURCE_JURISDICTION)))
        recent = [x for x in tickets[c] if in_window(x[0], t, width)]
        n_source = sum(x[2] for x in recent)
        if (len(recent) >= p["min_tickets"] and not travel_of[c]) or n_source >= p[
            "min_source_tickets"
        ]:
            out.append(OracleRow(True, float(len(recent)), frozenset((x[0], x[1]) for x in recent)))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-08


def oracle_pp08(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Rides per ``ride_days`` and low-value parking per ``park_days``, each on its own rows."""
    ride_w = p["ride_days"] * DAY
    park_w = p["park_days"] * DAY
    rides: dict[int, list[Event]] = defaultdict(list)
    parking: dict[int, list[Event]] = defaultdict(list)
    out = []
    for c, ref, t, tt, a, mcc, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "amount", "mcc", "attempted"
    ):
        if att or tt != PURCHASE:
            out.append(NOT_FIRED)
            continue
        if mcc == 4121 or mcc == 7512 or 3351 <= mcc <= 3441:
            events, width, need = rides[c], ride_w, p["min_rides"]
        elif mcc == 7523 and _known(a) and a < p["max_parking_cad"]:
            events, width, need = parking[c], park_w, p["min_parking"]
        else:
            out.append(NOT_FIRED)
            continue
        events.append((t, ref))
        recent = _recent(events, t, width)
        out.append(
            OracleRow(True, float(len(recent)), frozenset(recent))
            if len(recent) >= need
            else NOT_FIRED
        )
    return out


# ---------------------------------------------------------------------------------- PP-09

_IN_PERSON = (CHANNEL_CODE["pos"], CHANNEL_CODE["atm"], CHANNEL_CODE["branch"])


def oracle_pp09(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Distinct cities and non-home provinces of in-person rows outside the home city, in a
    sliding window; home-city rows only teach the home province; travel profiles record
    nothing."""
    width = p["window_days"] * DAY
    home_of = np.asarray(columns["home_city"]).tolist()
    flags_of = np.asarray(columns["profile_flags"]).tolist()
    last_in_city: dict[int, dict[int, Event]] = defaultdict(dict)
    last_in_prov: dict[int, dict[int, Event]] = defaultdict(dict)
    learned: dict[int, tuple[int, int]] = {}  # cust -> (home city, its province)

    def touch(table: dict[int, Event], key: int, t: int, ref: int) -> None:
        if key not in table or t >= table[key][0]:
            table[key] = (t, ref)

    out = []
    for c, ref, t, ch, city, prov, att in _rows(
        columns, "cust", "seq", "ts", "channel", "city", "province", "attempted"
    ):
        if att or city == 0 or ch not in _IN_PERSON:
            out.append(NOT_FIRED)
            continue
        home = home_of[c]
        if home != 0 and city == home:
            if prov != 0:
                learned[c] = (home, prov)
            out.append(NOT_FIRED)
            continue
        if flags_of[c] & PROFILE_TRAVEL_OCCUPATION:
            out.append(NOT_FIRED)
            continue
        touch(last_in_city[c], city, t, ref)
        if prov != 0:
            touch(last_in_prov[c], prov, t, ref)
        home_prov = learned[c][1] if home != 0 and learned.get(c, (0, 0))[0] == home else 0
        cities = {e for k, e in last_in_city[c].items() if k != home and in_window(e[0], t, width)}
        provs = {
            e for k, e in last_in_prov[c].items() if k != home_prov and in_window(e[0], t, width)
        }
        need = p["min_provinces"] if home_prov != 0 else p["min_provinces"] + 1
        need_cities = p["min_cities"] if home != 0 else p["min_cities"] + 1
        if len(cities) >= need_cities:
            out.append(OracleRow(True, float(len(cities)), frozenset(cities)))
        elif len(provs) >= need:
            out.append(OracleRow(True, float(len(cities)), frozenset(provs)))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-10

_DELIVERY_CHANNELS = (CHANNEL_CODE["ecom"], CHANNEL_CODE["online"], CHANNEL_CODE["mobile"])


def oracle_pp10(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Category counts per local-day window against floors and the customer's own baseline
    (the rate over up to ``baseline_days`` of history before the window)."""
    fast_w = p["fast_days"] * DAY
    living_w = p["living_days"] * DAY
    counts: dict[int, dict[tuple[str, int], int]] = defaultdict(lambda: defaultdict(int))
    events: dict[int, dict[str, list[Event]]] = defaultdict(lambda: defaultdict(list))

    def days_sum(c: int, cat: str, first: int, last: int) -> int:
        return sum(n for (k, day), n in counts[c].items() if k == cat and first <= day <= last)

    first_day: dict[int, int] = {}  # local day of the customer's first living-cost purchase

    def judge(c: int, cat: str, d: int, days: int, floor: int) -> tuple[int, bool]:
        """Baseline: the rate over the history before the window (at most baseline_days,
        at least one window long as a denominator); no history: the floor alone."""
        n = days_sum(c, cat, d - days + 1, d)
        last = d - days
        first = max(last - p["baseline_days"] + 1, first_day[c])
        if last < first:
            return n, n >= floor
        before = days_sum(c, cat, first, last)
        span = max(last - first + 1, days)
        return n, n >= max(float(floor), p["baseline_k"] * before * days / span)

    out = []
    for c, ref, t, d, tt, ch, mcc, att in _rows(
        columns, "cust", "seq", "ts", "local_day", "txn_type", "channel", "mcc", "attempted"
    ):
        cats = []
        if mcc == 5814:
            cats.append("fast")
            if ch in _DELIVERY_CHANNELS:
                cats.append("delivery")
        elif mcc == 5912:
            cats.append("pharmacy")
        elif mcc in (5621, 5631, 5977):
            cats.append("beauty")
        if att or tt != PURCHASE or not cats:
            out.append(NOT_FIRED)
            continue
        first_day[c] = min(d, first_day.get(c, d))
        for cat in cats:
            counts[c][(cat, d)] += 1
            events[c][cat].append((t, ref))
        fired: list[tuple[int, str, int]] = []  # (observed, category, evidence width)
        if "fast" in cats:
            n, hit = judge(c, "fast", d, p["fast_days"], p["min_fast_food"])
            if hit:
                fired.append((n, "fast", fast_w))
        if "delivery" in cats:
            first = d - p["living_days"] + 1
            heavy = sum(
                1
                for (k, day), n in counts[c].items()
                if k == "delivery" and first <= day <= d and n >= p["min_orders_per_day"]
            )
            if heavy >= p["min_delivery_days"]:
                fired.append((heavy, "delivery", living_w))
        for cat, floor in (("pharmacy", p["min_pharmacy"]), ("beauty", p["min_beauty"])):
            if cat in cats:
                n, hit = judge(c, cat, d, p["living_days"], floor)
                if hit:
                    fired.append((n, cat, living_w))
        if not fired:
            out.append(NOT_FIRED)
            continue
        evidence = {e for _, cat, w in fired for e in _recent(events[c][cat], t, w)}
        out.append(OracleRow(True, float(fired[0][0]), frozenset(evidence)))
    return out


# ---------------------------------------------------------------------------------- PP-11

_VENUES = (7297, 7298, 7230, 5813, 7273, 7929, 7299)
_POS = CHANNEL_CODE["pos"]


def _in_hours(tod: int, start_hour: int, end_hour: int) -> bool:
    start, end = start_hour * 3600, end_hour * 3600
    if start > end:
        return tod >= start or tod < end
    return start <= tod < end


def oracle_pp11(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """After-hours card-present venue purchases in a sliding window."""
    width = p["window_days"] * DAY
    late: dict[int, list[Event]] = defaultdict(list)
    out = []
    for c, ref, t, tod, tt, ch, mcc, att in _rows(
        columns, "cust", "seq", "ts", "local_tod", "txn_type", "channel", "mcc", "attempted"
    ):
        start = p["bar_start_hour"] if mcc == 5813 else p["start_hour"]
        if (
            att
            or tt != PURCHASE
            or ch != _POS
            or mcc not in _VENUES
            or not _in_hours(tod, start, p["end_hour"])
        ):
            out.append(NOT_FIRED)
            continue
        late[c].append((t, ref))
        recent = _recent(late[c], t, width)
        out.append(
            OracleRow(True, float(len(recent)), frozenset(recent))
            if len(recent) >= p["min_purchases"]
            else NOT_FIRED
        )
    return out


ORACLES: dict[str, Callable[[Mapping[str, np.ndarray], Mapping[str, float]], list[OracleRow]]]
ORACLES = {
    "PP-02": oracle_pp02,
    "PP-03": oracle_pp03,
    "PP-05": oracle_pp05,
    "PP-06": oracle_pp06,
    "PP-07": oracle_pp07,
    "PP-08": oracle_pp08,
    "PP-09": oracle_pp09,
    "PP-10": oracle_pp10,
    "PP-11": oracle_pp11,
}


# ------------------------------------------------------------ strategies
# Hypothesis strategies for the adv_travel group: PP-02, PP-03, PP-05 ... PP-11.
#
# Registers each rule's :class:`~tests.strategies.Focus` and wraps
# :func:`tests.strategies.batches`. The shared generator leaves some columns these rules read
# at their missing values or draws them from vocabularies without the bits they need, so
# :func:`adv_travel_batches` redraws, per row:
#
# * ``ref_flags`` from the rule's own vocabulary (escort processor, payment service,
#   escort ad / premium, source jurisdiction, lodging platform);
# * ``txn_key`` (unique, non-zero) and ``linked`` (0, the previous row of the same customer,
#   or any earlier row), so refunds, reversals and settlements find what they point to;
# * ``foreign`` (0 or 1);
# * for PP-09, ``city`` / ``province`` from six cities in four provinces (one city without a
#   province), and the profile's home city from the same cities;
# * for PP-02, the profile's entity bit;
# * for PP-05, sometimes a refund or reversal repeats the amount and merchant of the
#   customer's previous row.
#
# Rows per customer stay below the smallest ring or table each kernel fills (``dense_max``),
# so the unbounded oracles and the bounded kernels must agree exactly.

GROUP_IDS = ("PP-02", "PP-03", "PP-05", "PP-06", "PP-07", "PP-08", "PP-09", "PP-10", "PP-11")

FLAGS: dict[str, tuple[int, ...]] = {
    "PP-02": (
        0,
        REF_ESCORT_PROCESSOR,
        REF_PAYMENT_SERVICE,
        REF_PAYMENT_SERVICE,
        REF_ESCORT_PROCESSOR | REF_PAYMENT_SERVICE,
        REF_ESCORT_AD,
    ),
    "PP-03": (0, 0, REF_ESCORT_AD, REF_ESCORT_AD, REF_ESCORT_AD | REF_AD_PREMIUM),
    "PP-05": (0, 0, 0, REF_LODGING_PLATFORM),
    "PP-06": (0, 0, 0, REF_LODGING_PLATFORM),
    "PP-07": (0, REF_SOURCE_JURISDICTION, REF_SOURCE_JURISDICTION | REF_ESCORT_AD),
    "PP-08": (0,),
    "PP-09": (0,),
    "PP-10": (0,),
    "PP-11": (0,),
}

# PP-09: cities -> provinces; 107 comes without a province.
CITY_PROVINCE = {0: 0, 101: 11, 102: 11, 103: 12, 104: 13, 105: 14, 106: 14, 107: 0}

_TICKETS = (4511, 3000, 3150, 3299, 4112, 4131, 4722, 2999, 3300, 4111)
_RIDES = (4121, 7512, 3351, 3400, 3441, 3350, 3442, 7523, 7523, 7523)
_DRAWN_VENUES = (7297, 7298, 7230, 5813, 5813, 7273, 7929, 7299, 7361, 5812)
_CAR = (7512, 3351, 3441)
_IN = ("emt_in", "eft_in", "wire_in", "transfer_in")

FOCUS.update(
    {
        # Two 16-slot rings.
        "PP-02": Focus(
            types=_IN + ("emt_out", "purchase", "wire_out"),
            mccs=(-1, 6012, 7399),
            flags=FLAGS["PP-02"],
            channels=("online", "mobile", "pos"),
        ),
        # Ad and hosting rings of 16 each.
        "PP-03": Focus(
            types=("purchase", "purchase", "preauth", "bill_payment"),
            mccs=(7311, 7311, 4816, 7372, 5967),
            flags=FLAGS["PP-03"],
            channels=("ecom", "online"),
        ),
        # Rounded, charge and pre-auth tables of 16 each.
        "PP-05": Focus(
            types=("purchase", "purchase", "preauth", "refund", "reversal"),
            mccs=LODGING_MCCS + _CAR + (5411,),
            flags=FLAGS["PP-05"],
            patterns=(
                (("preauth",), ("purchase", "reversal", "emt_in")),
                (("purchase",), ("refund", "purchase")),
                (("preauth", "purchase"), ("preauth", "purchase"), ("refund", "reversal")),
            ),
        ),
        # Lodging and pair rings of 16 each.
        "PP-06": Focus(
            types=("purchase", "preauth", "cash_deposit", "cash_withdrawal"),
            mccs=LODGING_MCCS + (6011, 5411),
            flags=FLAGS["PP-06"],
            patterns=(
                (("purchase", "preauth"), ("cash_deposit", "cash_withdrawal")),
                (("purchase",), ("cash_withdrawal",), ("cash_deposit",)),
            ),
        ),
        "PP-07": Focus(
            types=("purchase", "purchase", "preauth", "refund"),
            mccs=_TICKETS,
            flags=FLAGS["PP-07"],
            channels=("ecom", "online", "pos"),
        ),
        # Two 32-slot rings.
        "PP-08": Focus(
            types=("purchase", "purchase", "preauth"),
            mccs=_RIDES,
            flags=FLAGS["PP-08"],
            channels=("mobile", "pos"),
            dense_max=30,
        ),
        # Keyed tables of 16 (only 7 cities, 4 provinces).
        "PP-09": Focus(
            types=("purchase", "cash_withdrawal", "cash_deposit", "emt_in"),
            mccs=(5411, 5814, 6011, -1),
            flags=FLAGS["PP-09"],
            dense_max=30,
        ),
        # Day buckets are unbounded in practice; the evidence rings keep the newest 8.
        "PP-10": Focus(
            types=("purchase", "purchase", "purchase", "refund"),
            mccs=(5814, 5814, 5814, 5912, 5621, 5631, 5977, 5812),
            flags=FLAGS["PP-10"],
            channels=("pos", "ecom", "mobile", "online"),
            dense_max=30,
        ),
        "PP-11": Focus(
            types=("purchase", "purchase", "preauth"),
            mccs=_DRAWN_VENUES,
            flags=FLAGS["PP-11"],
            channels=("pos", "pos", "ecom"),
        ),
    }
)


def _vocabulary(draw: st.DrawFn, values: tuple, max_size: int = 4) -> st.SearchStrategy:
    """All of ``values``, or a few of them drawn for this example (as tests.strategies)."""
    narrow = draw(st.lists(st.sampled_from(values), min_size=1, max_size=max_size))
    return st.sampled_from(draw(st.sampled_from((values, tuple(narrow)))))


@st.composite
def adv_travel_batches(
    draw: st.DrawFn, focus: str, dense: bool = False, max_per_customer: int = 15
) -> dict[str, np.ndarray]:
    """:func:`tests.strategies.batches` with the columns ``focus`` reads redrawn."""
    cols = draw(batches(focus=focus, dense=dense, max_per_customer=max_per_customer))
    n = len(cols["cust"])
    n_cust = len(cols["home_city"])
    flags = _vocabulary(draw, FLAGS[focus])
    cols["ref_flags"] = np.array([draw(flags) for _ in range(n)], dtype=np.int64)
    cols["txn_key"] = 7_000_000 + cols["seq"]
    link_style = draw(st.sampled_from(("none", "previous", "any", "mixed")))
    linked = np.zeros(n, dtype=np.int64)
    last_of: dict[int, int] = {}
    for i in range(n):
        c = int(cols["cust"][i])
        style = (
            link_style
            if link_style != "mixed"
            else draw(st.sampled_from(("none", "previous", "any")))
        )
        if style == "previous" and c in last_of:
            linked[i] = cols["txn_key"][last_of[c]]
        elif style == "any" and i > 0:
            linked[i] = cols["txn_key"][draw(st.integers(0, i - 1))]
        last_of[c] = i
    cols["linked"] = linked
    foreign = _vocabulary(draw, (0, 0, 1))
    cols["foreign"] = np.array([draw(foreign) for _ in range(n)], dtype=np.int8)
    if focus == "PP-09":
        cities = _vocabulary(draw, tuple(CITY_PROVINCE), max_size=5)
        city = np.array([draw(cities) for _ in range(n)], dtype=np.int64)
        cols["city"] = city
        cols["province"] = np.array([CITY_PROVINCE[int(x)] for x in city], dtype=np.int64)
        cols["home_city"] = np.array(
            [draw(st.sampled_from(tuple(CITY_PROVINCE))) for _ in range(n_cust)], dtype=np.int64
        )
        cols["profile_flags"] = np.array(
            [draw(st.sampled_from((0, 0, PROFILE_TRAVEL_OCCUPATION))) for _ in range(n_cust)],
            dtype=np.int64,
        )
    if focus == "PP-05" and draw(st.booleans()):
        # Refunds and reversals repeat the amount and merchant of the customer's row before.
        undo = (TXN_CODE["refund"], TXN_CODE["reversal"])
        prev: dict[int, int] = {}
        for i in range(n):
            c = int(cols["cust"][i])
            if int(cols["txn_type"][i]) in undo and c in prev and draw(st.booleans()):
                cols["amount"][i] = cols["amount"][prev[c]]
                cols["merchant"][i] = cols["merchant"][prev[c]]
            prev[c] = i
    if focus == "PP-02":
        cols["profile_flags"] = np.array(
            [draw(st.sampled_from((0, 0, PROFILE_ENTITY))) for _ in range(n_cust)], dtype=np.int64
        )
    return cols


# ------------------------------------------------------------ tests

SETTINGS = kernel_settings(max_examples=60)


# ------------------------------------------------------------ the generic suite's hooks
# tests/test_kernel_oracles.py runs every kernel against its oracle and in chunks, with
# the cases these functions draw and the settings below.
ORACLE_SETTINGS = CHUNK_SETTINGS = kernel_settings(max_examples=60)


def draw_oracle_case(spec_id: str, data: st.DataObject) -> tuple[dict, dict]:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    columns = data.draw(adv_travel_batches(spec_id, dense=dense), label="columns")
    params = data.draw(params_for(spec), label="params")
    return columns, params


def draw_chunk_case(spec_id: str, data: st.DataObject) -> tuple[dict, dict, list[int]]:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    columns = data.draw(
        adv_travel_batches(spec_id, dense=dense, max_per_customer=40), label="columns"
    )
    params = data.draw(params_for(spec), label="params")
    n = len(columns["cust"])
    bounds = data.draw(chunk_bounds(n), label="chunk bounds")
    return columns, params, bounds


# --------------------------------------------------------------------------- scenarios

_T = TXN_CODE
_CH = CHANNEL_CODE
_TRAVEL = {"profile_flags": [PROFILE_TRAVEL_OCCUPATION]}


def _buy(ts: int, mcc: int, amount: float = 20.0, **kw) -> dict:
    return {
        "ts": ts,
        "txn_type": _T["purchase"],
        "amount": amount,
        "mcc": mcc,
        "channel": _CH["pos"],
        **kw,
    }


def _row(ts: int, kind: str, amount: float = 100.0, **kw) -> dict:
    return {"ts": ts, "txn_type": _T[kind], "amount": amount, **kw}


def _keyed(rows: list[dict]) -> list[dict]:
    """Give every row a txn_key (1000 + row number) unless it has one."""
    return [{"txn_key": 1000 + i, **r} for i, r in enumerate(rows)]


# Saturation: far above ring capacity the kernel still fires, with the newest evidence.


def _pp02_dense():
    return [_row(_at(i / 8), "emt_in", ref_flags=REF_PAYMENT_SERVICE) for i in range(100)] + [
        _row(_at(13), "eft_in", ref_flags=REF_ESCORT_PROCESSOR)
    ], None


def _pp03_dense():
    rows = [_buy(_at(i / 4), 7311, 12.0, ref_flags=REF_ESCORT_AD) for i in range(100)]
    return rows + [_buy(_at(25 + i / 8), 4816, 30.0) for i in range(40)], None


def _pp05_dense():
    # Forty rounded motel purchases, one every six hours at different motels.
    return _keyed([_buy(_at(i / 4), 7011, 100.0, merchant=500 + i) for i in range(40)]), None


def _pp06_dense():
    rows = []
    for k in range(40):
        rows += [
            _buy(_at(k / 2), 7011, 120.0, city=101 + k % 3),
            _row(_at(k / 2, 14.0), "cash_deposit", 300.0, city=101 + k % 3, channel=_CH["atm"]),
        ]
    return rows, None


def _pp07_dense():
    return [_buy(_at(i / 4), 4511, 300.0) for i in range(60)], None


def _pp08_dense():
    return [_buy(_at(i / 24), 4121, 15.0) for i in range(100)], None


def _pp08_parking():
    return [_buy(_at(i / 4), 7523, 5.0) for i in range(100)], None


def _pp09_dense():
    return [
        _buy(_at(i / 24), 5411, city=200 + i, province=11, channel=_CH["pos"]) for i in range(60)
    ], {"home_city": [101]}


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
    assert_saturation_fires(
        registry.get(spec_id),
        columns_from_rows(rows, profiles),
        ORACLES[spec_id],
        f"{spec_id} {scenario.__name__}",
    )


# Edge cases: exact boundaries the random search reaches only rarely. Each states the
# expected fired rows and is also checked against the oracle.

_LODGE = {"mcc": 7011, "merchant": 301, "city": 101}
_PARK = {"mcc": 7523}

EDGE_CASES = [
    # PP-02
    (
        "PP-02",
        "one escort-processor payment out fires",
        [_row(_at(0), "emt_out", 50.0, ref_flags=REF_ESCORT_PROCESSOR)],
        None,
        {},
        [1],
    ),
    (
        "PP-02",
        "card purchases and refunds through an adult processor do not fire",
        [
            _buy(_at(0), 5967, 29.99, ref_flags=REF_ESCORT_PROCESSOR),
            _row(_at(1), "refund", 29.99, ref_flags=REF_ESCORT_PROCESSOR),
            _row(_at(2), "preauth", 1.0, ref_flags=REF_ESCORT_PROCESSOR),
        ],
        None,
        {},
        [0, 0, 0],
    ),
    (
        "PP-02",
        "generic processor credits to a business do not fire",
        [_row(_at(k), "eft_in", ref_flags=REF_PAYMENT_SERVICE) for k in range(3)],
        {"profile_flags": [PROFILE_ENTITY]},
        {},
        [0, 0, 0],
    ),
    (
        "PP-02",
        "generic credits ignored when generic_processors = 0",
        [_row(_at(k), "eft_in", ref_flags=REF_PAYMENT_SERVICE) for k in range(3)],
        None,
        {"generic_processors": 0},
        [0, 0, 0],
    ),
    (
        "PP-02",
        "processor payments out are not credits",
        [_row(_at(k), "emt_out", ref_flags=REF_PAYMENT_SERVICE) for k in range(3)],
        None,
        {},
        [0, 0, 0],
    ),
    (
        "PP-02",
        "a credit exactly window_days old is outside",
        [
            _row(_at(0), "eft_in", ref_flags=REF_PAYMENT_SERVICE),
            _row(_at(30), "eft_in", ref_flags=REF_PAYMENT_SERVICE),
            _row(_at(30) + 1, "eft_in", ref_flags=REF_PAYMENT_SERVICE),
        ],
        None,
        {},
        [0, 0, 1],
    ),
    # PP-03
    (
        "PP-03",
        "hosting 60 days after the pattern is too late",
        [
            _buy(_at(0), 7311, 12.0, ref_flags=REF_ESCORT_AD | REF_AD_PREMIUM),
            _buy(_at(60) - 1, 7372, 30.0),
            _buy(_at(60), 4816, 30.0),
        ],
        None,
        {},
        [0, 1, 0],
    ),
    (
        "PP-03",
        "escort-ad payments at 7311 are not hosting",
        [_buy(_at(k), 7311, 45.0, ref_flags=REF_ESCORT_AD) for k in range(4)],
        None,
        {},
        [0, 0, 0, 0],
    ),
    (
        "PP-03",
        "ads without the pattern do not count",
        [
            _buy(_at(0), 7311, 45.0, ref_flags=REF_ESCORT_AD),
            _buy(_at(1), 4816, 30.0),
            _buy(_at(40), 7311, 45.0, ref_flags=REF_ESCORT_AD),
        ],
        None,
        {},
        [0, 0, 0],
    ),
    # PP-05
    (
        "PP-05",
        "two rounded hotel purchases are not enough; pre-auths are not counted",
        _keyed(
            [
                _buy(_at(0), 7011, 100.0, merchant=301),
                _row(_at(1), "preauth", 200.0, **_LODGE),
                _buy(_at(2), 7011, 90.0, merchant=302),
            ]
        ),
        None,
        {},
        [0, 0, 0],
    ),
    (
        "PP-05",
        "rounded hotel purchases of a travelling worker do not fire",
        _keyed([_buy(_at(k), 7011, 100.0, merchant=301 + k) for k in range(4)]),
        _TRAVEL,
        {},
        [0, 0, 0, 0],
    ),
    (
        "PP-05",
        "same merchant and day, different amounts; not on another day",
        _keyed(
            [
                _buy(_at(0, 10.0), 7011, 101.5, merchant=301),
                _buy(_at(1, 10.0), 7011, 99.5, merchant=301),
                _buy(_at(1, 11.0), 7011, 99.5, merchant=301),
                _buy(_at(1, 12.0), 7011, 88.25, merchant=301),
            ]
        ),
        None,
        {},
        [0, 0, 0, 1],
    ),
    (
        "PP-05",
        "a purchase settling the earlier pre-auth is not a second room",
        _keyed(
            [
                _row(_at(0, 10.0), "preauth", 300.0, **_LODGE),
                _row(_at(0, 11.0), "preauth", 150.0, linked=1000, **_LODGE),
            ]
        ),
        None,
        {},
        [0, 0],
    ),
    (
        "PP-05",
        "a refund exactly refund_days later does not match, one second earlier does",
        _keyed(
            [
                _buy(_at(0), 7512, 77.7, merchant=310),
                _row(_at(10), "refund", 77.7, merchant=310),
                _buy(_at(20), 3400, 66.6, merchant=311),
                _row(_at(30) - 1, "refund", 66.6, linked=1002),
            ]
        ),
        None,
        {},
        [0, 0, 0, 1],
    ),
    (
        "PP-05",
        "an unsettled pre-auth is reported once, at the first row after settle_days",
        _keyed(
            [
                _row(_at(0), "preauth", 250.0, **_LODGE),
                _buy(_at(5), 5411, 12.0, merchant=999),
                _row(_at(14), "emt_in", 40.0),
                _row(_at(15), "emt_in", 40.0),
            ]
        ),
        None,
        {},
        [0, 0, 1, 0],
    ),
    (
        "PP-05",
        "a purchase at the pre-auth's merchant settles it",
        _keyed(
            [
                _row(_at(0), "preauth", 250.0, **_LODGE),
                _buy(_at(2), 7011, 233.3, merchant=301),
                _row(_at(20), "emt_in", 40.0),
            ]
        ),
        None,
        {},
        [0, 0, 0],
    ),
    (
        "PP-05",
        "reversal of a settled pre-auth does not fire, of an unsettled one does",
        _keyed(
            [
                _row(_at(0), "preauth", 250.0, **_LODGE),
                _buy(_at(1), 7011, 250.0, merchant=301, linked=1000),
                _row(_at(2), "reversal", 250.0, linked=1000, mcc=7011),
                _row(_at(3), "preauth", 180.0, mcc=7011, merchant=302),
                _row(_at(4), "reversal", 180.0, linked=1003),
            ]
        ),
        None,
        {},
        [0, 0, 0, 0, 1],
    ),
    # PP-06
    (
        "PP-06",
        "cash exactly pair_hours after the lodging does not pair",
        [
            _buy(_at(0), 7011, 120.0, city=101),
            _row(_at(1) - 1, "cash_deposit", city=101, channel=_CH["branch"]),
            _row(_at(1) - 1, "cash_deposit", city=101, channel=_CH["atm"]),
            _row(_at(1), "cash_deposit", city=101, channel=_CH["atm"]),
        ],
        None,
        {},
        [0, 0, 1, 0],
    ),
    (
        "PP-06",
        "a travelling worker's pairs do not fire",
        [
            _buy(_at(0), 7011, 120.0, city=101),
            _row(_at(0, 13.0), "cash_deposit", city=101, channel=_CH["atm"]),
            _row(_at(0, 14.0), "cash_deposit", city=101, channel=_CH["atm"]),
        ],
        _TRAVEL,
        {},
        [0, 0, 0],
    ),
    (
        "PP-06",
        "branch withdrawals are not ATM use",
        [
            _buy(_at(0), 7011, 120.0, city=101),
            _row(_at(0, 13.0), "cash_withdrawal", city=101, channel=_CH["branch"]),
            _row(_at(0, 14.0), "cash_withdrawal", city=101, channel=_CH["branch"]),
        ],
        None,
        {},
        [0, 0, 0],
    ),
    (
        "PP-06",
        "matches in two cities with min_pairs raised",
        [
            _buy(_at(0), 7011, 120.0, city=101),
            _row(_at(0, 13.0), "cash_deposit", city=101, channel=_CH["atm"]),
            _buy(_at(2), 3600, 120.0, city=102),
            _row(_at(2, 13.0), "cash_withdrawal", city=102, channel=_CH["atm"]),
        ],
        None,
        {"min_pairs": 5},
        [0, 0, 0, 1],
    ),
    # PP-07
    (
        "PP-07",
        "foreign alone or a source country alone is not X7",
        [
            _buy(_at(0), 4511, 900.0, foreign=1),
            _buy(_at(40), 4511, 900.0, ref_flags=REF_SOURCE_JURISDICTION),
            _buy(_at(80), 3100, 900.0, foreign=1, ref_flags=REF_SOURCE_JURISDICTION),
        ],
        None,
        {},
        [0, 0, 1],
    ),
    (
        "PP-07",
        "a travelling worker's tickets do not count, a source-jurisdiction one does",
        [_buy(_at(k), 4511, 300.0) for k in range(3)]
        + [_buy(_at(3), 3100, 900.0, foreign=1, ref_flags=REF_SOURCE_JURISDICTION)],
        _TRAVEL,
        {},
        [0, 0, 0, 1],
    ),
    (
        "PP-07",
        "three tickets within 30 days, with a commuter rail MCC not counted",
        [
            _buy(_at(0), 4112, 50.0),
            _buy(_at(10), 4111, 5.0),
            _buy(_at(20), 4131, 40.0),
            _buy(_at(29), 4722, 400.0),
        ],
        None,
        {},
        [0, 0, 0, 1],
    ),
    # PP-08
    (
        "PP-08",
        "parking of exactly max_parking_cad is not low-value",
        [_buy(_at(k), 7523, 20.0) for k in range(10)] + [_buy(_at(11), 7523, 19.99)],
        None,
        {"min_parking": 2},
        [0] * 10 + [0],
    ),
    (
        "PP-08",
        "ten low-value parking payments in 30 days",
        [_buy(_at(3 * k), 7523, 4.0) for k in range(10)],
        None,
        {},
        [0] * 9 + [1],
    ),
    # PP-09
    (
        "PP-09",
        "three non-home cities; home city rows never fire",
        [
            _buy(_at(0), 5411, city=101, province=11),
            _buy(_at(1), 5411, city=102, province=11),
            _buy(_at(2), 5411, city=103, province=12),
            _buy(_at(3), 5411, city=104, province=13),
            _buy(_at(4), 5411, city=101, province=11),
        ],
        {"home_city": [101]},
        {"min_provinces": 15},
        [0, 0, 0, 1, 0],
    ),
    (
        "PP-09",
        "province rule needs one more province until the home province is seen",
        [
            _buy(_at(0), 5411, city=102, province=11),
            _buy(_at(1), 5411, city=103, province=12),
            _buy(_at(2), 5411, city=101, province=11),
            _buy(_at(3), 5411, city=103, province=12),
        ],
        {"home_city": [101]},
        {"min_cities": 15, "min_provinces": 2},
        [0, 0, 0, 0],
    ),
    (
        "PP-09",
        "without a home city on file, one more city",
        [_buy(_at(k), 5411, city=101 + k, province=11) for k in range(4)],
        None,
        {"min_provinces": 15},
        [0, 0, 0, 1],
    ),
    (
        "PP-09",
        "two non-home provinces once the home province is known",
        [
            _buy(_at(0), 5411, city=101, province=11),
            _buy(_at(1), 5411, city=103, province=12),
            _buy(_at(2), 5411, city=104, province=13),
        ],
        {"home_city": [101]},
        {"min_cities": 15},
        [0, 0, 1],
    ),
    (
        "PP-09",
        "online purchases do not count",
        [_buy(_at(k), 5411, city=102 + k, province=12, channel=_CH["online"]) for k in range(4)],
        {"home_city": [101]},
        {},
        [0, 0, 0, 0],
    ),
    (
        "PP-09",
        "travel occupation suppresses",
        [_buy(_at(k), 5411, city=102 + k, province=12 + k) for k in range(4)],
        {"home_city": [101], **_TRAVEL},
        {},
        [0, 0, 0, 0],
    ),
    # PP-10
    (
        "PP-10",
        "fast food: the window is local days, not 7 x 24 h",
        [
            _buy(_at(0, 23.0), 5814, 9.0),
            _buy(_at(1, 12.0), 5814, 9.0),
            _buy(_at(7, 1.0), 5814, 9.0),
        ],
        None,
        {"min_fast_food": 3},
        [0, 0, 0],
    ),
    (
        "PP-10",
        "three delivery orders on three days",
        [
            _buy(_at(d, 10.0 + h), 5814, 14.0, channel=_CH["mobile"])
            for d in (0, 5, 9)
            for h in range(3)
        ],
        None,
        {},
        [0] * 8 + [1],
    ),
    (
        "PP-10",
        "delivery at the counter is not delivery",
        [
            _buy(_at(d, 10.0 + h), 5814, 14.0, channel=_CH["pos"])
            for d in (0, 5, 9)
            for h in range(3)
        ],
        None,
        {},
        [0] * 9,
    ),
    (
        "PP-10",
        "the baseline raises the bar",
        [_buy(_at(k), 5912, 10.0) for k in range(60)]
        + [_buy(_at(60 + k / 4), 5912, 10.0) for k in range(8)],
        None,
        {"baseline_days": 30},
        [0] * 5 + [1] * 35 + [0] * 28,
    ),
    # PP-11
    (
        "PP-11",
        "06:00 is not after hours, 23:00 is; bars only from 03:00",
        [
            _buy(_at(0, 6.0), 7297, 100.0),
            _buy(_at(1, 23.0), 7297, 100.0),
            _buy(_at(2, 2.5), 5813, 100.0),
            _buy(_at(3, 3.0), 5813, 100.0),
        ],
        None,
        {},
        [0, 0, 0, 1],
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


def test_attempted_rows_are_ignored() -> None:
    rows = [_row(_at(k), "eft_in", ref_flags=REF_ESCORT_PROCESSOR, attempted=1) for k in range(3)]
    out = assert_matches_oracle(
        "PP-02", columns_from_rows(rows), registry.get("PP-02").resolve_params(), ORACLES["PP-02"]
    )
    assert not out.fired.any()
