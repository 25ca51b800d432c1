"""The six indicators and the constellation in plain Python, one event at a time.

The per-event logic of the Faust baseline (:mod:`benchmarks.faust_baseline`), kept apart
from Kafka so it can be checked against the engine in process. Semantics are those of the
kernels in ``indicators/pp*.py`` (their docstrings): the same parameters
(``Settings().resolved_params()``), the same bounded windows (ring and table sizes), the
same reference lists (regex substring match on the same fields), the same constellation
trigger and re-alert rule (``engine/core/constellation.py``), and alert ids built the same way.
State is dicts, deques and lists per customer, as one would write it without numba.

Example::

    >>> detector = Baseline()
    >>> detector.profile({"customer_id": "C1", "home_city": "Toronto", "home_province": "ON"})
    >>> detector.transaction({"txn_id": "T1", "customer_id": "C1",
    ...                       "ts": "2026-03-14T23:41:07-05:00",
    ...                       "txn_type": "cash_deposit", "channel": "atm", "amount": 200,
    ...                       "currency": "CAD"}) is None
    True
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import OrderedDict, deque
from datetime import datetime

from engine.config import Settings
from engine.core.constellation import ANCHOR_FAMILIES, role_hypothesis
from engine.core.hashing import place_key
from engine.core.reference import ReferenceLists
from engine.core.state import _FLAG_BITS, _TRAVEL_OCCUPATION, _VENUE_NAICS  # same profile semantics
from indicators import columns as col
from indicators.profile_rules import PROFILE_RULES
from indicators.registry import LAYOUT, REGISTRY

DAY = 86_400
EVIDENCE = col.EVIDENCE_SLOTS
NEG = -(2**62)
IDS = ("PP-01", "PP-04", "PP-12", "PP-13", "PP-16", "PP-17")  # registry order = bit order
LODGING_MCC = {7011, 7012}
LIVING_MCC = {5411, 5499, 5812, 5814, 5912, 5541, 5542, 5651, 5311}
CREDIT_TYPES = {"cash_deposit", "emt_in", "transfer_in", "wire_in", "eft_in"}
DEBIT_TYPES = {
    "cash_withdrawal",
    "emt_out",
    "transfer_out",
    "wire_out",
    "eft_out",
    "bill_payment",
    "purchase",
    "card_to_card",
    "vc_buy",
    "prepaid_load",
}
THIRD_PARTY_TYPES = {"emt_in", "transfer_in", "wire_in"}
IN_PERSON = {"pos", "atm", "branch"}


def _matcher(reference: ReferenceLists, name: str):
    """(fields, compiled regex) for a reference list: case-insensitive substring search."""
    lst = reference.lists[name]
    pattern = re.compile("|".join(re.escape(t.upper()) for t in lst.terms)) if lst.terms else None
    return lst.fields, pattern


def _matches(event: dict, matcher) -> bool:
    fields, pattern = matcher
    if pattern is None:
        return False
    for f in fields:
        value = event.get(f)
        if value and pattern.search(value.upper()):
            return True
    return False


def _newest(entries, lo: int, hi: int) -> list[str]:
    """Txn ids of up to EVIDENCE entries ``(ts, seq, txn_id, ...)`` in ``(lo, hi]``, newest
    first."""
    inside = sorted(
        (e for e in entries if lo < e[0] <= hi), key=lambda e: (e[0], e[1]), reverse=True
    )
    return [e[2] for e in inside[:EVIDENCE]]


def _touch(table: OrderedDict, key, t: int, seq: int, txn_id: str, size: int) -> None:
    """Keyed table: last time each key was seen; the least recently seen key goes when full."""
    entry = table.get(key)
    if entry is not None:
        if t >= entry[0]:
            table[key] = (t, seq, txn_id)
            table.move_to_end(key)
        return
    if len(table) >= size:
        table.popitem(last=False)
    table[key] = (t, seq, txn_id)


def _day_add(buckets: dict, day: int, j: int, value: float, width: int, span: int = 32) -> None:
    """Per-local-day sums (``width`` measures), keeping only the last ``span`` days."""
    row = buckets.get(day)
    if row is None:
        newest = max(buckets, default=day)
        if day <= newest - span:
            return
        row = buckets[day] = [0.0] * width
        if len(buckets) > span:
            for old in [d for d in buckets if d <= max(newest, day) - span]:
                del buckets[old]
    row[j] += value


def _day_sum(buckets: dict, first: int, last: int, j: int) -> float:
    return sum(row[j] for d, row in buckets.items() if first <= d <= last)


class Customer:
    """Everything the six indicators and the constellation keep for one customer."""

    __slots__ = (
        "home",
        "flags",
        "ads",
        "stays",
        "lodge_spend",
        "late",
        "cash",
        "locs",
        "cities",
        "away",
        "dep",
        "senders",
        "credit_days",
        "credits",
        "flow_days",
        "last_fire",
        "last_alert_ts",
        "last_alert_mask",
        "snapshots",
    )

    def __init__(self):
        self.home = None
        self.flags = 0
        self.ads: deque = deque(maxlen=16)  # (ts, seq, txn_id, small)
        self.stays: list = []  # [ts, seq, txn_id, merchant, day, city]
        self.lodge_spend: dict = {}
        self.late: deque = deque(maxlen=32)  # (ts, seq, txn_id)
        self.cash: deque = deque(maxlen=32)  # (ts, late)
        self.locs: OrderedDict = OrderedDict()
        self.cities: OrderedDict = OrderedDict()
        self.away: deque = deque(maxlen=16)
        self.dep = None  # (ts, city, seq, txn_id)
        self.senders: OrderedDict = OrderedDict()
        self.credit_days: dict = {}  # day -> [third party, all]
        self.credits: list = []  # [ts, seq, txn_id, left, lag]
        self.flow_days: dict = {}  # day -> [credit, debit, living, bal_sum, bal_n]
        self.last_fire = [NEG] * len(IDS)
        self.last_alert_ts = NEG
        self.last_alert_mask = 0
        self.snapshots: dict = {}  # indicator index -> (observed, evidence)


def engine_settings() -> Settings:
    """The engine restricted to the rules the baseline implements, for like-for-like checks."""
    return Settings.build(
        {"disabled_indicators": [i for i in REGISTRY if i not in IDS], "cross_customer": False}
    )


class Baseline:
    """Per-event detector: ``profile(dict)`` and ``transaction(dict) -> alert dict | None``."""

    def __init__(self, settings: Settings | None = None):
        settings = settings or Settings()
        self.p = settings.resolved_params()
        self.c = settings.constellation
        self.customers: dict[str, Customer] = {}
        self.seq = 0
        reference = ReferenceLists.load(settings.reference_file)
        self.escort = _matcher(reference, "escort_ad_platforms")
        self.premium = _matcher(reference, "ad_premium_terms")
        self.lodging_platform = _matcher(reference, "lodging_platforms")
        self.specs = [REGISTRY[i] for i in IDS]
        self.weights = [s.weight for s in self.specs]
        self.families = [s.family for s in self.specs]
        self.thresholds = [float(self.p[s.id][s.threshold_param]) for s in self.specs]
        self.skipped = 0
        self.fired = dict.fromkeys(IDS, 0)  # rows on which each indicator fired

    def customer(self, cid: str) -> Customer:
        c = self.customers.get(cid)
        if c is None:
            c = self.customers[cid] = Customer()
        return c

    # ------------------------------------------------------------------ profiles
    def profile(self, event: dict) -> None:
        c = self.customer(event["customer_id"])
        flags = 0
        for flag in event.get("flags") or ():
            flags |= _FLAG_BITS.get(flag.get("type"), 0)
        occupation = event.get("occupation")
        if occupation and _TRAVEL_OCCUPATION.search(occupation):
            flags |= LAYOUT.bit("profile", "travel_occupation")
        industry = event.get("industry_code")
        if industry and industry.startswith(_VENUE_NAICS):
            flags |= LAYOUT.bit("profile", "venue_industry")
        c.flags = flags
        c.home = place_key(event.get("home_city"), event.get("home_province"))

    # -------------------------------------------------------------- transactions
    def transaction(self, e: dict) -> dict | None:
        try:
            return self._transaction(e)
        except (KeyError, TypeError, ValueError, AttributeError):
            self.skipped += 1  # the engine would dead-letter it
            return None

    def _transaction(self, e: dict) -> dict | None:
        self.seq += 1
        seq = self.seq
        cid = e["customer_id"]
        txn_id = e["txn_id"]
        stamp = datetime.fromisoformat(e["ts"])
        t = math.floor(stamp.timestamp())
        local = t + int(stamp.utcoffset().total_seconds())
        day, tod = local // DAY, local % DAY
        kind = e["txn_type"]
        attempted = bool(e.get("attempted"))
        if e["currency"] == "CAD":
            amount = float(e["amount"])
        else:
            amount = float(e["amount_cad"]) if e.get("amount_cad") is not None else None
        c = self.customer(cid)
        fired: list[int] = []

        purchase = kind in ("purchase", "preauth")
        if purchase and _matches(e, self.escort) and self._pp01(c, e, t, seq, txn_id, amount):
            fired.append(0)
        if not attempted:
            if (
                purchase
                and self._lodging(e)
                and self._pp04(c, e, t, day, seq, txn_id, kind, amount)
            ):
                fired.append(1)
            if kind in ("cash_deposit", "cash_withdrawal") and self._pp12(c, t, tod, seq, txn_id):
                fired.append(2)
            if self._pp13(c, e, t, seq, txn_id, kind):
                fired.append(3)
            if self._pp16(c, e, t, day, seq, txn_id, kind, amount):
                fired.append(4)
            if self._pp17(c, e, t, day, seq, txn_id, kind, amount):
                fired.append(5)
        if not fired:
            return None
        for k in fired:
            self.fired[IDS[k]] += 1
        return self._constellation(c, cid, txn_id, t, fired)

    def _fire(self, c: Customer, k: int, observed: float, evidence: list[str]) -> bool:
        c.snapshots[k] = (observed, evidence)
        return True

    def _lodging(self, e: dict) -> bool:
        mcc = int(e["mcc"]) if e.get("mcc") is not None else -1
        return mcc in LODGING_MCC or 3501 <= mcc <= 3999 or _matches(e, self.lodging_platform)

    def _pp01(self, c, e, t, seq, txn_id, amount) -> bool:
        p = self.p["PP-01"]
        small = amount is not None and 0 < amount <= p["small_max"] and amount % 3.0 == 0.0
        c.ads.append((t, seq, txn_id, small))
        lo = t - p["window_days"] * DAY
        n = n_small = 0
        for ts, _, _, s in c.ads:
            if lo < ts <= t:
                n += 1
                n_small += s
        premium = _matches(e, self.premium)
        if n >= p["min_payments"] or n_small >= p["min_small_multiples"] or premium:
            return self._fire(c, 0, n, _newest(c.ads, lo, t))
        return False

    def _pp04(self, c, e, t, day, seq, txn_id, kind, amount) -> bool:
        p = self.p["PP-04"]
        merchant = e.get("merchant_id") or (
            " ".join(e["merchant_name"].upper().split()) if e.get("merchant_name") else None
        )
        city = place_key(e.get("city"), e.get("province"))
        stay = None
        for s in c.stays:  # the latest stay at this merchant within a day of this one
            if (
                s[3] == merchant
                and abs(day - s[4]) <= 1
                and (stay is None or (s[0], s[1]) > (stay[0], stay[1]))
            ):
                stay = s
        if stay is None:
            if len(c.stays) >= 16:
                c.stays.remove(min(c.stays, key=lambda s: s[0]))
            c.stays.append([t, seq, txn_id, merchant, day, city])
        else:
            if t >= stay[0]:
                stay[0], stay[1], stay[2] = t, seq, txn_id
            stay[4] = max(stay[4], day)
            if stay[5] is None:
                stay[5] = city
        if kind == "purchase" and amount is not None:
            _day_add(c.lodge_spend, day, 0, amount, 1)
        stay_lo = t - p["stay_days"] * DAY
        n_stays = sum(1 for s in c.stays if stay_lo < s[0] <= t)
        velocity = n_stays >= p["min_stays"]
        multi_city = big_spend = False
        if not c.flags & LAYOUT.bit("profile", "travel_occupation"):
            city_lo = t - p["city_days"] * DAY
            multi_city = (
                len({s[5] for s in c.stays if city_lo < s[0] <= t and s[5]}) >= p["min_cities"]
            )
            spend = _day_sum(c.lodge_spend, day - p["spend_days"] + 1, day, 0)
            big_spend = spend > p["max_spend_cad"]
        if velocity or multi_city or big_spend:
            width = (
                max(
                    (p["stay_days"] if velocity else 0),
                    (p["city_days"] if multi_city else 0),
                    (p["spend_days"] if big_spend else 0),
                )
                * DAY
            )
            return self._fire(c, 1, n_stays, _newest(c.stays, t - width, t))
        return False

    def _pp12(self, c, t, tod, seq, txn_id) -> bool:
        p = self.p["PP-12"]
        late = tod >= p["start_hour"] * 3600 or tod < p["end_hour"] * 3600
        c.cash.append((t, late))
        if not late:
            return False
        c.late.append((t, seq, txn_id))
        lo = t - p["window_days"] * DAY
        n_late = sum(1 for ts, _, _ in c.late if lo < ts <= t)
        n_cash = n_late_of_cash = 0
        for ts, is_late in c.cash:
            if lo < ts <= t:
                n_cash += 1
                n_late_of_cash += is_late
        share = (
            n_late_of_cash >= p["share_min_late"]
            and n_cash >= p["share_min_cash"]
            and n_late_of_cash / n_cash >= p["min_share"]
        )
        if n_late >= p["min_late"] or share:
            return self._fire(c, 2, n_late, _newest(c.late, lo, t))
        return False

    def _pp13(self, c, e, t, seq, txn_id, kind) -> bool:
        p = self.p["PP-13"]
        city = place_key(e.get("city"), e.get("province"))
        if kind == "cash_deposit":
            key = e.get("location_id") or city
            if key:
                _touch(c.locs, key, t, seq, txn_id, 16)
            if city:
                _touch(c.cities, city, t, seq, txn_id, 16)
                if c.dep is None or t >= c.dep[0]:
                    c.dep = (t, city, seq, txn_id)
                if c.home and city != c.home:
                    c.away.append((t, seq, txn_id))
            lo = t - p["loc_days"] * DAY
            away_lo = t - p["away_days"] * DAY
            n_loc = sum(1 for v in c.locs.values() if lo < v[0] <= t)
            if n_loc >= p["min_locations"]:
                return self._fire(c, 3, n_loc, _newest(c.locs.values(), lo, t))
            if sum(1 for v in c.cities.values() if lo < v[0] <= t) >= p["min_cities"]:
                return self._fire(c, 3, n_loc, _newest(c.cities.values(), lo, t))
            if sum(1 for v in c.away if away_lo < v[0] <= t) >= p["min_away"]:
                return self._fire(c, 3, n_loc, _newest(c.away, away_lo, t))
            return False
        if kind in ("cash_withdrawal", "purchase") and e["channel"] in IN_PERSON:
            dep = c.dep
            if (
                not city
                or dep is None
                or dep[1] == city
                or not (t - p["pair_hours"] * 3600 < dep[0] <= t)
            ):
                return False
            lo = t - p["loc_days"] * DAY
            n_loc = sum(1 for v in c.locs.values() if lo < v[0] <= t)
            return self._fire(c, 3, n_loc, [txn_id, dep[3]])
        return False

    def _pp16(self, c, e, t, day, seq, txn_id, kind, amount) -> bool:
        p = self.p["PP-16"]
        third = kind in THIRD_PARTY_TYPES
        if not third and kind not in ("cash_deposit", "eft_in"):
            return False
        sender = (
            e.get("counterparty_id")
            or e.get("counterparty_email")
            or e.get("counterparty_phone")
            or e.get("counterparty_name")
        )
        third = third and bool(sender)
        if amount is not None:
            _day_add(c.credit_days, day, 1, amount, 2)
            if third:
                _day_add(c.credit_days, day, 0, amount, 2)
        if not third:
            return False
        _touch(c.senders, sender, t, seq, txn_id, 32)
        lo = t - p["window_days"] * DAY
        n = sum(1 for v in c.senders.values() if lo < v[0] <= t)
        hit = n >= p["min_senders"]
        if not hit and n >= p["share_min_senders"]:
            first = day - p["window_days"] + 1
            total = _day_sum(c.credit_days, first, day, 1)
            if total > 0.0:
                hit = _day_sum(c.credit_days, first, day, 0) / total >= p["min_share"]
        if hit:
            return self._fire(c, 4, n, _newest(c.senders.values(), lo, t))
        return False

    def _pp17(self, c, e, t, day, seq, txn_id, kind, amount) -> bool:
        p = self.p["PP-17"]
        balance = e.get("balance_after")
        if balance is not None:
            _day_add(c.flow_days, day, 3, float(balance), 5)
            _day_add(c.flow_days, day, 4, 1.0, 5)
        pass_w = p["pass_hours"] * 3600
        fast_w = p["fast_hours"] * 3600
        width = p["window_days"] * DAY
        if kind in CREDIT_TYPES:
            if amount is not None:
                _day_add(c.flow_days, day, 0, amount, 5)
                if amount >= p["min_credit"]:
                    entry = [t, seq, txn_id, p["pass_share"] * amount, -1]
                    if len(c.credits) < 16:
                        c.credits.append(entry)
                    else:  # evict: useless first, then pending, then counted; oldest within a class

                        def rank(x):
                            if x[4] < 0 and x[0] > t - pass_w:
                                return (1, x[0])
                            if 0 <= x[4] < fast_w and x[0] > t - width:
                                return (2, x[0])
                            return (0, x[0])

                        k = min(range(16), key=lambda i: rank(c.credits[i]))
                        c.credits[k] = entry
            return False
        if kind not in DEBIT_TYPES or amount is None:
            return False
        _day_add(c.flow_days, day, 1, amount, 5)
        if kind == "bill_payment" or (
            kind == "purchase" and e.get("mcc") is not None and int(e["mcc"]) in LIVING_MCC
        ):
            _day_add(c.flow_days, day, 2, amount, 5)
        pending = sorted(
            (x for x in c.credits if x[4] < 0 and t - pass_w < x[0] <= t),
            key=lambda x: (x[0], x[1]),
        )
        passed = False
        left = amount
        for x in pending:  # first in, first out
            if left <= 0.0:
                break
            take = min(left, x[3])
            x[3] -= take
            left -= take
            if x[3] <= 0.0:
                x[4] = t - x[0]
                passed = True
        if not passed:
            return False
        lo = t - width
        fast = [x for x in c.credits if lo < x[0] <= t and 0 <= x[4] < fast_w]
        if len(fast) < p["min_fast_credits"]:
            return False
        first = day - p["window_days"] + 1
        sums = [_day_sum(c.flow_days, first, day, j) for j in range(5)]
        credits, debits, living, bal_sum, bal_n = sums
        depleted = bal_n == 0.0 or bal_sum / bal_n < p["depleted_ratio"] * credits
        no_living = debits > 0.0 and living / debits < p["max_living_share"]
        if depleted and no_living:
            return self._fire(c, 5, len(fast), _newest(fast, lo, t))
        return False

    # ------------------------------------------------------------- constellation
    def _constellation(
        self, c: Customer, cid: str, txn_id: str, t: int, fired: list[int]
    ) -> dict | None:
        s = self.c
        for k in fired:
            if t > c.last_fire[k]:
                c.last_fire[k] = t
        window = s.window_days * DAY
        active: list[int] = [k for k in range(len(IDS)) if t - window < c.last_fire[k] <= t]
        mask = 0
        families = set()
        score = 0.0
        for k in active:
            mask |= 1 << k
            families.add(self.families[k])
            score += self.weights[k]
        rules = [(m, r) for m, r in enumerate(PROFILE_RULES) if c.flags & r.flag_bit]
        for m, r in rules:
            mask |= 1 << (len(IDS) + m)
            families.add(r.family)
            score += r.weight
        trigger = (
            bool(active)
            and bool(families & set(ANCHOR_FAMILIES))
            and (len(families) >= s.min_families or score >= s.score_threshold)
        )
        if not trigger and active and any(r.strong for _, r in rules):
            trigger = True
        if not trigger or (
            not mask & ~c.last_alert_mask and t - c.last_alert_ts < s.realert_days * DAY
        ):
            return None
        c.last_alert_ts = t
        c.last_alert_mask = mask
        ids = [IDS[k] for k in active] + [r.id for _, r in rules]
        digest = hashlib.sha256(f"{cid}|{txn_id}|{','.join(ids)}".encode()).hexdigest()[:24]
        signals = [(self.specs[k].role_signal, self.families[k], self.weights[k]) for k in active]
        signals += [(r.role_signal, r.family, r.weight) for _, r in rules]
        indicators = []
        for k in active:
            observed, evidence = c.snapshots.get(k, (0.0, []))
            indicators.append(
                {
                    "id": IDS[k],
                    "family": self.families[k],
                    "observed": float(observed),
                    "threshold": self.thresholds[k],
                    "evidence_txn_ids": evidence,
                }
            )
        indicators += [
            {
                "id": r.id,
                "family": r.family,
                "observed": 1.0,
                "threshold": 1.0,
                "evidence_txn_ids": [],
            }
            for _, r in rules
        ]
        return {
            "alert_id": f"ALR-{digest}",
            "customer_id": cid,
            "role_hypothesis": role_hypothesis(signals),
            "score": round(score, 3),
            "families": sorted(families),
            "indicators": indicators,
            "trigger_txn_id": txn_id,
            "ts": t,
        }
