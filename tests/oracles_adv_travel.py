"""Slow, obviously correct references for the adv_travel kernels (PP-02, PP-03, PP-05 ... PP-11).

Same conventions as :mod:`tests.oracles`: plain Python over the kernel's columns, unbounded
per-customer lists, every window recomputed with a loop, one :class:`OracleRow` per input
row whose evidence is the *candidate* set of ``(ts, ref)`` events (the kernel keeps the
newest ``EVIDENCE_SLOTS``). Attempted rows are ignored; a window of width ``w`` ending at
``t`` covers ``(t - w, t]``; a day window of ``n`` days ending on local day ``d`` covers
``d - n + 1 .. d``; NaN amounts are unknown and skipped by amount logic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

import numpy as np

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
from tests.oracles import NOT_FIRED, Event, OracleRow, _known, _rows, in_window

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
        out.append(OracleRow(True, float(len(esc) if hit_esc else len(cred)),
                             frozenset(evidence)))
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
        is_host = (tt in (PURCHASE, PREAUTH, BILL_PAYMENT) and not flags & REF_ESCORT_AD
                   and mcc in (4816, 7372, 7311))
        if att or not (is_ad or is_host):
            out.append(NOT_FIRED)
            continue
        if is_ad:
            small = _known(a) and 0 < a <= p["small_max"] and a % 3.0 == 0.0
            ads[c].append({"ts": t, "ref": ref, "small": small, "hit": False})
            recent = [x for x in ads[c] if in_window(x["ts"], t, ad_width)]
            ads[c][-1]["hit"] = (len(recent) >= p["min_payments"]
                                 or sum(x["small"] for x in recent) >= p["min_small_multiples"]
                                 or bool(flags & REF_AD_PREMIUM))
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
    travel_of = [bool(f & PROFILE_TRAVEL_OCCUPATION)
                 for f in np.asarray(columns["profile_flags"]).tolist()]
    rounded: dict[int, list[Event]] = defaultdict(list)
    charges: dict[int, list[dict]] = defaultdict(list)
    preauths: dict[int, list[dict]] = defaultdict(list)
    out = []
    for c, ref, t, d, tt, a, mcc, merch, flags, att, key, link in _rows(
        columns, "cust", "seq", "ts", "local_day", "txn_type", "amount", "mcc", "merchant",
        "ref_flags", "attempted", "txn_key", "linked",
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
                if pre["status"] == "pending" and in_window(pre["ts"], t, settle_w) and (
                        (link != 0 and link == pre["key"])
                        or (merch != 0 and merch == pre["merchant"])):
                    pre["status"] = "settled"
        if tt in (PURCHASE, PREAUTH) and kind:
            if kind == "lodging" and merch != 0 and _known(a):
                same = [ch for ch in charges[c]
                        if ch["kind"] == "lodging" and ch["type"] == tt and ch["merchant"] == merch
                        and ch["day"] == d and ch["ts"] <= t and _known(ch["amount"])
                        and ch["amount"] != a and not (link != 0 and link == ch["key"])]
                if same:
                    events |= {(ch["ts"], ch["ref"]) for ch in same} | {(t, ref)}
                    hit = True
            charges[c].append({"ts": t, "ref": ref, "key": key, "merchant": merch, "day": d,
                               "amount": a, "type": tt, "kind": kind})
            if tt == PREAUTH and kind == "lodging":
                preauths[c].append({"ts": t, "ref": ref, "key": key, "merchant": merch,
                                    "status": "pending"})
            if tt == PURCHASE and kind == "lodging" and _known(a) and a > 0 \
                    and a % p["round_unit"] == 0.0:
                rounded[c].append((t, ref))
                recent = _recent(rounded[c], t, width)
                if not travel_of[c] and len(recent) >= p["min_rounded"]:
                    events |= set(recent)
                    hit = True
        elif tt == REFUND and _known(a):
            matches = [ch for ch in charges[c]
                       if ch["type"] == PURCHASE and in_window(ch["ts"], t, refund_w)
                       and ch["amount"] == a
                       and ((link != 0 and link == ch["key"])
                            or (merch != 0 and merch == ch["merchant"]))]
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
                charge = next((ch for ch in charges[c] if link != 0 and ch["key"] == link
                               and ch["kind"] == "lodging" and ch["type"] == PURCHASE), None)
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
    travel_of = [bool(f & PROFILE_TRAVEL_OCCUPATION)
                 for f in np.asarray(columns["profile_flags"]).tolist()]
    lodgings: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # (ts, ref, city)
    pairs: dict[int, list[tuple[int, int, int, int, int]]] = defaultdict(list)
    out = []
    for c, ref, t, tt, ch, mcc, city, flags, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "channel", "mcc", "city", "ref_flags",
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
        if not travel_of[c] and (len(recent) >= p["min_pairs"]
                                 or len(cities) >= p["min_cities"]):
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
    travel_of = [bool(f & PROFILE_TRAVEL_OCCUPATION)
                 for f in np.asarray(columns["profile_flags"]).tolist()]
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
        if ((len(recent) >= p["min_tickets"] and not travel_of[c])
                or n_source >= p["min_source_tickets"]):
            out.append(OracleRow(True, float(len(recent)),
                                 frozenset((x[0], x[1]) for x in recent)))
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
        out.append(OracleRow(True, float(len(recent)), frozenset(recent))
                   if len(recent) >= need else NOT_FIRED)
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
        provs = {e for k, e in last_in_prov[c].items()
                 if k != home_prov and in_window(e[0], t, width)}
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
            heavy = sum(1 for (k, day), n in counts[c].items()
                        if k == "delivery" and first <= day <= d and n >= p["min_orders_per_day"])
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
        if (att or tt != PURCHASE or ch != _POS or mcc not in _VENUES
                or not _in_hours(tod, start, p["end_hour"])):
            out.append(NOT_FIRED)
            continue
        late[c].append((t, ref))
        recent = _recent(late[c], t, width)
        out.append(OracleRow(True, float(len(recent)), frozenset(recent))
                   if len(recent) >= p["min_purchases"] else NOT_FIRED)
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
