"""Ordinary financial life, drawn in bulk: the daily spend of every customer plus fixed items.

Per day, one Poisson draw over a (customers × categories) rate matrix gives how many
grocery runs, coffees, ATM visits, EMTs... each customer makes; times, amounts and merchants
for all of them come from a handful of vectorised draws. Only building the rows is a Python
loop. Roles differ through their rows of the rate matrix (``rates``), which ``lookalikes``
and ``rings`` rescale, and through ``scale`` (amount level, from the budget).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple, TypeVar

import numpy as np

from engine.synthetic.merchants import Catalogue
from engine.synthetic.population import BENIGN_MEMOS, Customer
from engine.synthetic.writer import Ledger

# Relative weight per local hour 0..23 (tenths).
HOURS = {
    "day": (0, 0, 0, 0, 0, 0, 2, 6, 10, 20, 30, 35,
            40, 35, 30, 30, 35, 40, 40, 30, 20, 10, 3, 1),
    "meal": (1, 0, 0, 0, 0, 0, 0, 1, 2, 2, 5, 20,
             40, 30, 10, 5, 6, 20, 40, 40, 30, 15, 6, 3),
    "any": (2, 1, 1, 0.5, 0.5, 2, 8, 20, 25, 20, 15, 20,
            30, 25, 15, 15, 20, 25, 25, 20, 15, 10, 6, 4),
    "late": (12, 8, 3, 0, 0, 0, 0, 0, 0, 0, 0, 2,
             5, 5, 5, 6, 10, 20, 30, 35, 35, 30, 25, 20),
    "online": (5, 2, 1, 0.5, 0.5, 1, 3, 8, 10, 12, 13, 15,
               20, 18, 15, 15, 17, 20, 25, 30, 32, 30, 22, 12),
    "atm": (0.5, 0.3, 0.2, 0.2, 0.3, 1, 4, 10, 15, 20, 25, 30,
            35, 30, 25, 25, 30, 35, 30, 25, 20, 12, 6, 2),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Category:
    key: str
    txn_type: str
    channel: str
    rate: float  # events per day for a typical customer
    median: float  # CAD
    sigma: float  # lognormal spread of amounts
    hours: str
    weekend: float  # rate factor on Saturdays and Sundays


# fmt: off
CATEGORIES = (
    Category("grocery", "purchase", "pos", 0.28, 62, 0.55, "day", 1.3),
    Category("convenience", "purchase", "pos", 0.08, 11, 0.6, "any", 1.0),
    Category("restaurant", "purchase", "pos", 0.11, 46, 0.5, "meal", 1.5),
    Category("fastfood", "purchase", "pos", 0.30, 12, 0.5, "any", 1.0),
    Category("gas", "purchase", "pos", 0.12, 62, 0.35, "day", 1.0),
    Category("pharmacy", "purchase", "pos", 0.05, 26, 0.7, "day", 1.0),
    Category("clothing", "purchase", "pos", 0.035, 70, 0.7, "day", 1.6),
    Category("department", "purchase", "pos", 0.06, 45, 0.8, "day", 1.5),
    Category("bar", "purchase", "pos", 0.04, 38, 0.6, "late", 1.8),
    Category("beauty", "purchase", "pos", 0.02, 42, 0.6, "day", 1.3),
    Category("ecom", "purchase", "ecom", 0.11, 40, 0.8, "online", 1.1),
    Category("ride", "purchase", "ecom", 0.04, 19, 0.5, "any", 1.4),
    Category("atm", "cash_withdrawal", "atm", 0.06, 80, 0.6, "atm", 1.2),
    Category("emt_out", "emt_out", "mobile", 0.06, 45, 0.9, "online", 1.2),
    Category("emt_in", "emt_in", "mobile", 0.05, 45, 0.9, "online", 1.2),
    Category("cash_deposit", "cash_deposit", "atm", 0.006, 160, 0.7, "day", 0.6),
)
# fmt: on
KEYS = tuple(c.key for c in CATEGORIES)
K = {key: i for i, key in enumerate(KEYS)}
_CDF = np.array([np.cumsum(HOURS[c.hours]) / np.sum(HOURS[c.hours]) for c in CATEGORIES])
_MEDIAN = np.array([c.median for c in CATEGORIES])
_SIGMA = np.array([c.sigma for c in CATEGORIES])
_WEEKEND = np.array([c.weekend for c in CATEGORIES])
_SPEND = np.array([c.txn_type in ("purchase", "cash_withdrawal", "emt_out") for c in CATEGORIES])
_MEAN = _MEDIAN * np.exp(_SIGMA**2 / 2)
T = TypeVar("T")


class PayCalendar(NamedTuple):
    """Day indexes of the period's paydays, and of each day of the month."""

    biweekly: tuple[list[int], list[int]]  # Fridays, by ISO-week parity
    semimonthly: list[int]  # the 15th and the last day
    pension: list[int]  # three days before month end
    dom: dict[int, list[int]]

    @classmethod
    def of(cls, start: date, days: int) -> PayCalendar:
        cal = cls(([], []), [], [], {})
        for d in range(days):
            day = start + timedelta(days=d)
            last = calendar.monthrange(day.year, day.month)[1]
            if day.weekday() == 4:
                cal.biweekly[day.isocalendar()[1] % 2].append(d)
            if day.day in (15, last):
                cal.semimonthly.append(d)
            if day.day == last - 2:
                cal.pension.append(d)
            cal.dom.setdefault(day.day, []).append(d)
        return cal

    def paydays(self, c: Customer) -> list[int]:
        if c.pay_kind == "biweekly":
            return self.biweekly[c.pay_parity]
        return {"semimonthly": self.semimonthly, "pension": self.pension}.get(c.pay_kind, [])


class Routine:
    """Rate matrix, fixed schedules, and the per-day posting of ordinary activity."""

    def __init__(self, n: int, cat: Catalogue, ledger: Ledger, start: date, days: int):
        self.customers: list[Customer] = []  # by idx; filled by the builder before ``add``
        self.cat, self.ledger = cat, ledger
        self.start, self.days = start, days
        self.rates = np.zeros((n, len(CATEGORIES)))
        self.scale = np.ones(n)
        self.fixed: list[list[tuple[str, Customer, Any]]] = [[] for _ in range(days)]
        self.pay_on = np.ones(n, dtype=bool)  # rings switch a victim's payroll off
        self.calendar = PayCalendar.of(start, days)

    def add(self, c: Customer, rng: np.random.Generator) -> None:
        """Give ``c`` individual category rates, an amount scale that fits the budget, and the
        fixed items."""
        r = np.array([cat.rate for cat in CATEGORIES]) * rng.lognormal(0.0, 0.45, len(CATEGORIES))
        if rng.random() < 0.3:
            r[K["gas"]] = 0.0  # no car
        if rng.random() < 0.5:
            r[K["cash_deposit"]] = 0.0
        if len(c.friends) >= 6:  # a wide circle: team treasurer, family organiser
            r[K["emt_in"]] *= 4.0
            r[K["emt_out"]] *= 2.0
        self.rates[c.idx] = r
        per_month = {"biweekly": 26 / 12, "semimonthly": 2.0}.get(c.pay_kind, 1.0)
        fixed = (c.housing[2] if c.housing else 0.0) + sum(b[3] for b in c.bills)
        variable = float(np.sum(r * _MEAN * _SPEND)) * 30.4
        budget = 0.92 * c.net_pay * per_month - fixed
        self.scale[c.idx] = float(np.clip(budget / max(variable, 1.0), 0.15, 2.5))
        self.schedule(c, rng)

    def schedule(self, c: Customer, rng: np.random.Generator) -> None:
        """Payroll, housing, bills, subscriptions and trip bookings, on the days they happen."""
        dom = self.calendar.dom
        for d in self.calendar.paydays(c):
            self.fixed[d].append(("pay", c, None))
        if c.housing:
            for d in dom.get(c.housing[3], ()):
                self.fixed[d].append(("housing", c, None))
        for bill in c.bills:
            for d in dom.get(bill[4], ()):
                self.fixed[d].append(("bill", c, bill))
        for sub in c.subscriptions:
            for d in dom.get(sub[2], ()):
                self.fixed[d].append(("sub", c, sub))
        for trip in c.trips:
            booked = max(0, trip[0] - int(rng.integers(2, 30)))
            if booked < self.days:
                self.fixed[booked].append(("trip", c, trip))

    def run_day(self, d: int, rng: np.random.Generator) -> None:
        """Post the fixed items and the drawn everyday activity of local day ``d``."""
        handlers: dict[str, Callable[[Customer, int, Any, np.random.Generator], None]] = {
            "pay": self._pay,
            "housing": self._housing,
            "bill": self._bill,
            "sub": self._subscription,
            "trip": self._trip,
        }
        for kind, c, payload in self.fixed[d]:
            handlers[kind](c, d, payload, rng)
        weekend = (self.start + timedelta(days=d)).weekday() >= 5
        counts = rng.poisson(self.rates * (_WEEKEND if weekend else 1.0))
        ci, ki = np.nonzero(counts)
        reps = counts[ci, ki]
        ci, ki = np.repeat(ci, reps), np.repeat(ki, reps)
        e = len(ci)
        hour = (rng.random(e)[:, None] > _CDF[ki]).sum(axis=1)
        tod = hour * 3600 + rng.integers(0, 3600, e)
        level = np.maximum(self.scale[ci] * np.exp(_SIGMA[ki] * rng.standard_normal(e)), 0.2)
        amount = _MEDIAN[ki] * level
        pick, coin = rng.random(e), rng.random(e)
        customers = self.customers
        for j in range(e):
            self._everyday(
                customers[ci[j]],
                d,
                KEYS[ki[j]],
                int(tod[j]),
                float(amount[j]),
                float(pick[j]),
                float(coin[j]),
                rng,
            )

    def _everyday(
        self,
        c: Customer,
        d: int,
        key: str,
        tod: int,
        amount: float,
        pick: float,
        coin: float,
        rng: np.random.Generator,
    ) -> None:
        """One drawn event; ``pick`` chooses the merchant or person, ``coin`` the variant."""
        ledger, city = self.ledger, c.city_on(d)
        if key in ("ecom", "ride"):
            m, cur = _pick(self.cat.online[key], pick)
            txn = ledger.purchase(c, d, tod, m, amount, "ecom", currency=cur)
            if coin < 0.02 and txn:  # a returned parcel: refunded days later, linked to the sale
                ledger.purchase(
                    c,
                    d + int(rng.integers(3, 12)),
                    tod,
                    m,
                    amount,
                    "ecom",
                    currency=cur,
                    txn_type="refund",
                    linked_txn_id=txn,
                )
        elif key == "atm":
            atm = c.atms[int(pick * 3)] if city == c.home else _pick(self.cat.atms[city], pick)
            ledger.post(
                c,
                d,
                tod,
                "cash_withdrawal",
                "atm",
                max(20, round(amount / 20) * 20),
                city=city,
                mcc="6011",
                location_id=atm.location_id,
                terminal_owner=atm.owner,
                card_id=c.card_id,
            )
        elif key in ("emt_out", "emt_in"):
            memo = BENIGN_MEMOS[int(coin * len(BENIGN_MEMOS))]
            ledger.emt(
                c,
                d,
                tod,
                key,
                _pick(c.friends, pick),
                amount,
                memo,
                "mobile" if coin < 0.7 else "online",
            )
        elif key == "cash_deposit":
            cash = max(20, round(amount / 10) * 10)
            if coin < 0.5:
                t = c.branch if city == c.home else _pick(self.cat.branches[city], pick)
                ledger.post(
                    c, d, tod, "cash_deposit", "branch", cash, city=city, location_id=t.location_id
                )
            else:
                t = _pick(self.cat.deposit_atms[city], pick)
                ledger.post(
                    c,
                    d,
                    tod,
                    "cash_deposit",
                    "atm",
                    cash,
                    city=city,
                    location_id=t.location_id,
                    terminal_owner=t.owner,
                )
        else:
            m = _pick(self.cat.pool(city, key), pick)
            if coin < 0.003:  # a declined card now and then: attempted, nothing posts
                ledger.purchase(c, d, tod, m, amount, city=city, attempted=True)
                return
            txn = ledger.purchase(c, d, tod, m, amount, city=city)
            if key in ("clothing", "department") and coin < 0.04 and txn:
                ledger.purchase(
                    c,
                    d + int(rng.integers(1, 10)),
                    tod,
                    m,
                    amount,
                    city=city,
                    txn_type="refund",
                    linked_txn_id=txn,
                )

    def _pay(self, c: Customer, d: int, _: None, rng: np.random.Generator) -> None:
        if not self.pay_on[c.idx] or c.employer is None:
            return
        memo = "PAYROLL"
        if c.pay_kind == "pension":
            memo = "EI BENEFITS" if c.occupation == "Unemployed" else "PENSION"
        amount = round(c.net_pay * float(rng.lognormal(0.0, 0.04)), 2)
        self.ledger.post(
            c,
            d,
            int(rng.integers(2 * 3600, 6 * 3600)),
            "eft_in",
            "other",
            amount,
            counterparty_id=c.employer.cp_id,
            counterparty_name=c.employer.name,
            memo=memo,
        )

    def _housing(self, c: Customer, d: int, _: None, rng: np.random.Generator) -> None:
        assert c.housing is not None
        kind, payee, amount, _dom = c.housing
        tod = int(rng.integers(7 * 3600, 22 * 3600))
        if kind == "rent_emt":
            self.ledger.emt(c, d, tod, "emt_out", payee, amount, "rent", "online")
        elif kind == "rent_bill":
            self.ledger.post(
                c,
                d,
                tod,
                "bill_payment",
                "online",
                round(amount, 2),
                mcc="6513",
                counterparty_id=payee.cp_id,
                counterparty_name=payee.name,
                memo="RENT",
                device_id=c.device_id,
                ip=c.ip,
            )
        else:
            self.ledger.post(
                c,
                d,
                4 * 3600,
                "eft_out",
                "other",
                round(amount, 2),
                counterparty_id=payee.cp_id,
                counterparty_name=payee.name,
                memo="MORTGAGE",
            )

    def _bill(
        self, c: Customer, d: int, bill: tuple[str, str, str, float, int], rng: np.random.Generator
    ) -> None:
        name, mcc, biller, amount, _dom = bill
        amount = round(amount * float(rng.lognormal(0.0, 0.12)), 2)  # usage varies month to month
        self.ledger.post(
            c,
            d,
            int(rng.integers(8 * 3600, 23 * 3600)),
            "bill_payment",
            "online",
            amount,
            mcc=mcc,
            counterparty_id=biller,
            counterparty_name=name,
            device_id=c.device_id,
            ip=c.ip,
        )

    def _subscription(
        self, c: Customer, d: int, sub: tuple[int, float, int], rng: np.random.Generator
    ) -> None:
        m, cur = self.cat.online["subscription"][sub[0]]
        tod = int(rng.integers(1 * 3600, 7 * 3600))  # recurring charges post overnight
        self.ledger.purchase(c, d, tod, m, sub[1], "ecom", currency=cur)

    def _trip(
        self, c: Customer, d: int, trip: tuple[int, int, int, str], rng: np.random.Generator
    ) -> None:
        """Book a trip (on day ``d``, from home): a flight for far trips, then a hotel paid at
        checkout or a booking-site stay paid up front, and sometimes a rental car."""
        begin, nights, dest, kind = trip
        ledger, online = self.ledger, self.cat.online
        tod = int(rng.integers(8 * 3600, 23 * 3600))
        if kind == "fly":
            m, cur = online["airline"][int(rng.integers(len(online["airline"])))]
            ledger.purchase(c, d, tod, m, float(rng.uniform(220, 950)), "ecom", currency=cur)
        checkout = begin + nights
        nightly = float(rng.uniform(110, 320))
        if rng.random() < 0.7:
            hotel = _pick(self.cat.pool(dest, "hotel"), float(rng.random()))
            ledger.purchase(
                c,
                checkout,
                int(rng.integers(7 * 3600, 12 * 3600)),
                hotel,
                nightly * nights * 1.16,
                city=dest,
            )
        else:
            m, cur = online["lodging_platform"][int(rng.integers(len(online["lodging_platform"])))]
            ledger.purchase(c, d, tod + 600, m, nightly * nights, "ecom", currency=cur)
        if kind == "fly" and rng.random() < 0.35:
            car = self.cat.pool(dest, "carrental")[0]
            ledger.purchase(
                c,
                checkout,
                int(rng.integers(9 * 3600, 18 * 3600)),
                car,
                float(rng.uniform(60, 95)) * nights,
                city=dest,
            )


def _pick(items: Sequence[T], u: float) -> T:
    """The item at uniform position ``u`` in [0, 1)."""
    return items[int(u * len(items))]
