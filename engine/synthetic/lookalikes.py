"""Look-alikes: ordinary customers whose behaviour resembles one trafficking indicator.

They are the false positives a good engine must not alert on by one rule alone:
travelling salespeople and truck drivers (hotels, many cities), night-shift workers (late
ATM cash), landlords (many EMT senders with "rent"), students (many small EMTs, fast food),
gift-card buyers (rounded gift-card and prepaid purchases around occasions), crypto
hobbyists (small recurring purchases on exchanges) and independent adult workers (escort
ads and client EMTs, some touring other cities, but no trafficker: nothing is forwarded,
the money stays and pays for a normal life).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from engine.synthetic.ecosystem import Ecosystem, clients, pick_client
from engine.synthetic.identity import Identities, Party, stable_id
from engine.synthetic.places import CITIES, nearby
from engine.synthetic.population import Customer, flag
from engine.synthetic.routine import K, Routine

HOUR = 3600
TYPES = (
    "travelling_salesperson", "truck_driver", "night_shift_worker", "landlord", "student",
    "independent_adult_worker", "gift_card_buyer", "crypto_hobbyist",
)  # fmt: skip
GIFT_CARD_AMOUNTS = (25, 50, 50, 50, 100, 100, 100, 150, 200, 250)
DCA_AMOUNTS = (10, 15, 20, 25, 25, 30, 50, 50, 100)  # recurring crypto buys, CAD
# type -> (occupations (name, NAICS, median income), age range)
PERSONAS = {
    "travelling_salesperson": ((("Sales representative", "423990", 82_000),
                                ("Regional account manager", "423430", 95_000)), (25, 62)),
    "truck_driver": ((("Long-haul truck driver", "484121", 62_000),), (23, 64)),
    "night_shift_worker": ((("Registered nurse (night shift)", "622110", 84_000),
                            ("Security guard", "561612", 40_000), ("Bartender", "722410", 34_000),
                            ("Warehouse associate (night shift)", "493110", 42_000)), (20, 60)),
    "landlord": ((("Landlord", "531110", 85_000),
                  ("Teacher and landlord", "531110", 96_000)), (35, 76)),
    "student": ((("Student", "611310", 12_000),
                 ("Student (part-time barista)", "722515", 16_000)), (18, 25)),
    "independent_adult_worker": ((("Self-employed, personal services", "812990", 48_000),
                                  ("Entertainer, self-employed", "711510", 45_000)), (21, 48)),
    "gift_card_buyer": ((("Office manager", "561110", 58_000), ("Teacher", "611110", 78_000),
                         ("Retail store manager", "452000", 52_000)), (25, 72)),
    "crypto_hobbyist": ((("Software developer", "541511", 95_000),
                         ("Electrician", "238210", 70_000),
                         ("Student", "611310", 12_000),
                         ("Data analyst", "541611", 72_000)), (19, 48)),
}  # fmt: skip


def persona(kind: str, rng: np.random.Generator) -> tuple[tuple[str, str, int], tuple[int, int]]:
    """(occupation, age range) for a look-alike of ``kind``."""
    occupations, ages = PERSONAS[kind]
    return occupations[int(rng.integers(len(occupations)))], ages


class Lookalikes:
    """Configures look-alike customers and posts the activity that makes them look alike."""

    def __init__(self, eco: Ecosystem, routine: Routine, ident: Identities, start: date, days: int):
        self.eco, self.ledger, self.cat = eco, eco.ledger, eco.cat
        self.routine, self.ident = routine, ident
        self.start, self.days = start, days
        self.members: list[Customer] = []
        self.tenants: dict[int, list[tuple[Party, float, int]]] = {}  # (tenant, rent, due day)
        self.clients: dict[int, list[Party]] = {}
        self.tours: dict[
            int, dict[int, tuple[int, int]]
        ] = {}  # day -> (tour start, nights) by worker
        self.gift_days: dict[int, set[int]] = {}  # days a gift-card buyer buys cards
        self.dca: dict[int, tuple[int, float]] = {}  # crypto hobbyist: (weekday, amount)

    def configure(self, c: Customer, kind: str, rng: np.random.Generator) -> None:
        """Before ``Routine.add``: trips, pay and obligations that define the look-alike."""
        c.role, c.lookalike = "lookalike", kind
        self.members.append(c)
        area = CITIES[c.home].area_code
        if kind == "travelling_salesperson":
            self._business_trips(c, rng)
        elif kind == "truck_driver":
            self._truck_runs(c, rng)
        elif kind == "landlord":
            self._properties(c, rng)
        elif kind == "student":
            c.pay_kind = "none" if rng.random() < 0.5 else c.pay_kind
            more = int(rng.integers(4, 9))  # classmates and roommates splitting bills
            c.friends += [
                self.ident.person("friend", c.idx * 10 + 5 + k, area) for k in range(more)
            ]
            c.friends.insert(0, self.ident.person("parent", c.idx, area))
            c.housing = None
            if rng.random() < 0.7:  # a room: rent shared with roommates, paid by EMT
                landlord = self.ident.person("landlord", c.idx, area)
                c.housing = ("rent_emt", landlord, float(rng.uniform(550, 950)), 1)
        elif kind == "independent_adult_worker":
            c.pay_kind, c.net_pay = "none", c.income * 0.7 / 12
            self.clients[c.idx] = clients(
                self.ident, c.customer_id, int(rng.integers(40, 120)), area, rng
            )
            if rng.random() < 0.4:
                when = self.start - timedelta(days=int(rng.integers(5, 200)))
                detail = f"Phone {c.phone} appears in adult ads in {CITIES[c.home].name}"
                c.flags.append(flag("escort_ad_match", "osint-vendor", when, detail))
            if rng.random() < 0.3:  # touring: a few days in another city every month or so
                self._tours(c, rng)
        elif kind == "gift_card_buyer":
            # Birthdays, Valentine's Day, Easter, thank-yous: a few cards before each occasion.
            days: set[int] = set()
            for _ in range(max(1, int(rng.poisson(self.days / 30)))):
                occasion = int(rng.integers(0, self.days))
                for _ in range(int(rng.integers(1, 5))):
                    days.add(max(0, occasion - int(rng.integers(0, 10))))
            self.gift_days[c.idx] = days
        elif kind == "crypto_hobbyist":
            self.dca[c.idx] = (
                int(rng.integers(0, 7)),
                float(DCA_AMOUNTS[int(rng.integers(len(DCA_AMOUNTS)))]),
            )

    def adjust_rates(self, c: Customer) -> None:
        """After ``Routine.add``: shift the everyday mix (night workers take cash at night)."""
        r = self.routine.rates[c.idx]
        kind = c.lookalike
        if kind == "travelling_salesperson":
            r[[K["restaurant"], K["ride"], K["gas"]]] *= 2.0
        elif kind == "truck_driver":
            r[K["fastfood"]] *= 2.0
            r[K["gas"]] = 0.0  # fuel is bought on the road (below)
        elif kind == "night_shift_worker":
            r[K["atm"]] *= 0.3
        elif kind == "student":
            r[[K["fastfood"], K["bar"], K["emt_in"], K["emt_out"]]] *= 2.5
            r[[K["grocery"], K["restaurant"], K["gas"]]] *= 0.5
        elif kind == "independent_adult_worker":
            r[[K["beauty"], K["clothing"], K["ride"]]] *= 2.0

    def _properties(self, c: Customer, rng: np.random.Generator) -> None:
        """3–6 rented units (tenants pay by EMT) in up to three buildings, each taxed."""
        area, province = CITIES[c.home].area_code, CITIES[c.home].province
        units = int(rng.integers(3, 7))
        self.tenants[c.idx] = [
            (
                self.ident.person("tenant", c.idx * 10 + k, area),
                float(np.clip(rng.normal(1500, 300), 900, 2600)),
                int(rng.integers(1, 5)),
            )
            for k in range(units)
        ]
        for k in range(min(units, 3)):
            town = c.home if k == 0 or rng.random() < 0.6 else nearby(c.home, 3)[0]
            muni = CITIES[town].name
            c.bills.append(
                (
                    f"CITY OF {muni.upper()} TAX",
                    "9311",
                    stable_id("biller", "tax", muni),
                    float(rng.uniform(280, 520)),
                    int(rng.integers(1, 28)),
                )
            )
            c.extra_addresses.append(self.ident.address(5000 + c.idx * 4 + k, muni, province))

    def _tours(self, c: Customer, rng: np.random.Generator) -> None:
        """Touring: 2–4 days in another city every 3–5 weeks, working from a hotel there."""
        near = nearby(c.home, 6, 800)
        tours = self.tours.setdefault(c.idx, {})
        begin = int(rng.integers(0, 21))
        while near and begin < self.days:
            nights = int(rng.integers(2, 5))
            city = near[int(rng.integers(len(near)))]
            for n in range(nights):
                c.away[begin + n] = city
                tours[begin + n] = (begin, nights)
            begin += nights + int(rng.integers(21, 36))

    def _business_trips(self, c: Customer, rng: np.random.Generator) -> None:
        """Most weeks: leave Monday/Tuesday, one or two cities, 2–4 nights, home for the weekend."""
        first_monday = (7 - self.start.weekday()) % 7
        near = nearby(c.home, 6, 900)
        for week_start in range(first_monday - 7, self.days, 7):
            if rng.random() > 0.75:
                continue
            begin = week_start + int(rng.integers(0, 2))
            n_legs = min(len(near), int(rng.integers(1, 3)))
            for k in rng.choice(len(near), size=n_legs, replace=False):
                nights = int(rng.integers(1, 3))
                if begin >= 0:
                    for n in range(nights):
                        c.away[begin + n] = near[int(k)]
                    how = "fly" if rng.random() < 0.4 else "drive"
                    c.trips.append((begin, nights, near[int(k)], how))
                begin += nights

    def _truck_runs(self, c: Customer, rng: np.random.Generator) -> None:
        """On the road 4–5 days a week, a different stop each night along nearby cities."""
        stops = nearby(c.home, 8, 1500)
        for week_start in range(0, self.days, 7):
            for k in range(int(rng.integers(4, 6))):
                c.away[week_start + k] = stops[int(rng.integers(len(stops)))]

    def run_day(self, d: int, rng: np.random.Generator) -> None:
        """Post the look-alike-specific activity of day ``d``."""
        today = self.start + timedelta(days=d)
        for c in self.members:
            kind = c.lookalike
            if kind == "truck_driver" and d in c.away:
                self._truck_day(c, d, rng)
            elif kind == "night_shift_worker":
                self._night_day(c, d, rng)
            elif kind == "landlord":
                for tenant, rent, due in self.tenants[c.idx]:
                    if today.day == due:
                        memo = "rent" if rng.random() < 0.7 else f"rent {today:%b}"
                        tod = int(rng.integers(7 * HOUR, 23 * HOUR))
                        self.eco.client_emt(c, d, tod, tenant, round(rent, 2), rng, memo=memo)
            elif kind == "student" and today.day == 1:
                amount = float(rng.choice([400, 500, 600, 800, 1000]))
                tod = int(rng.integers(9 * HOUR, 22 * HOUR))
                self.ledger.emt(c, d, tod, "emt_in", c.friends[0], amount, "rent money")
            elif kind == "independent_adult_worker":
                self._worker_day(c, d, rng)
            elif kind == "gift_card_buyer" and d in self.gift_days[c.idx]:
                self._gift_cards(c, d, rng)
            elif kind == "crypto_hobbyist":
                self._crypto_day(c, d, today.weekday(), rng)
            travels = kind in ("travelling_salesperson", "truck_driver")
            if travels and c.employer and today.weekday() == 3 and rng.random() < 0.6:
                sales = kind == "travelling_salesperson"
                amount = round(float(rng.uniform(250, 1_900 if sales else 600)), 2)
                self.ledger.post(
                    c,
                    d,
                    4 * HOUR,
                    "eft_in",
                    "other",
                    amount,
                    counterparty_id=c.employer.cp_id,
                    counterparty_name=c.employer.name,
                    memo="EXPENSE REIMB" if sales else "PER DIEM",
                )

    def _truck_day(self, c: Customer, d: int, rng: np.random.Generator) -> None:
        city = c.city_on(d)
        gas = self.cat.pool(city, "gas")
        # Diesel goes on the company fuel card; the personal card buys top-ups and snacks.
        self.ledger.purchase(
            c,
            d,
            int(rng.integers(0, 24 * HOUR)),
            gas[int(rng.integers(len(gas)))],
            float(rng.uniform(12, 90)),
            city=city,
        )
        if rng.random() < 0.55:  # otherwise sleeps in the cab
            self.eco.short_stay(c, d, city, 1, rng)
        if rng.random() < 0.2:
            self.eco.cash(
                c,
                d,
                city,
                float(rng.choice([40, 60, 100])),
                rng,
                night=rng.random() < 0.5,
                deposit=False,
            )

    def _night_day(self, c: Customer, d: int, rng: np.random.Generator) -> None:
        city = c.city_on(d)
        if rng.random() < 0.22:
            self.eco.cash(
                c,
                d,
                city,
                float(rng.choice([40, 60, 80, 100, 200])),
                rng,
                night=True,
                deposit=False,
                roam=rng.random() < 0.3,
            )
        if c.occupation == "Bartender" and rng.random() < 0.3:  # tips deposited after the shift
            self.eco.cash(c, d, city, float(rng.integers(6, 36) * 10), rng, night=True, roam=False)
        if rng.random() < 0.4:
            pool = self.cat.pool(city, "fastfood")
            self.ledger.purchase(
                c,
                d,
                int(rng.integers(25 * HOUR, 29 * HOUR)),
                pool[int(rng.integers(len(pool)))],
                float(rng.uniform(6, 22)),
                city=city,
            )

    def _gift_cards(self, c: Customer, d: int, rng: np.random.Generator) -> None:
        """One gift or prepaid card: a round face value at a store, or online."""
        city = c.city_on(d)
        amount = float(GIFT_CARD_AMOUNTS[int(rng.integers(len(GIFT_CARD_AMOUNTS)))])
        tod = int(rng.integers(10 * HOUR, 21 * HOUR))
        r = rng.random()
        if r < 0.25:
            m, cur = self.cat.online["gift_card"][
                int(rng.integers(len(self.cat.online["gift_card"])))
            ]
            fee = (
                0.0 if m.mcc == "5947" else float(rng.choice([3.95, 5.95, 6.95]))
            )  # prepaid activation
            self.ledger.purchase(c, d, tod, m, amount + fee, "ecom", currency=cur)
            return
        category = "grocery" if r < 0.6 else ("convenience" if r < 0.8 else "department")
        pool = self.cat.pool(city, category)
        basket = (
            0.0 if rng.random() < 0.6 else round(float(rng.uniform(8, 90)), 2)
        )  # with groceries
        self.ledger.purchase(
            c, d, tod, pool[int(rng.integers(len(pool)))], amount + basket, city=city
        )

    def _crypto_day(self, c: Customer, d: int, weekday: int, rng: np.random.Generator) -> None:
        """A recurring weekly buy, now and then a bigger one on a dip, rarely a sale."""
        day, amount = self.dca[c.idx]
        vc = self.cat.online["vc"]
        m, cur = vc[c.idx % len(vc)]  # one favourite exchange
        tod = int(rng.integers(7 * HOUR, 23 * HOUR))
        fields = {
            "merchant_id": m.merchant_id,
            "merchant_name": m.name,
            "mcc": m.mcc,
            "device_id": c.device_id,
            "ip": c.ip,
        }
        if weekday == day:
            self.ledger.post(c, d, tod, "vc_buy", "online", amount, currency=cur, **fields)
        if rng.random() < 0.05 and self.ledger.funds(c) > 1_500:
            big = round(float(rng.uniform(100, 1_000)), -1)
            self.ledger.post(c, d, tod + 600, "vc_buy", "online", big, currency=cur, **fields)
        if rng.random() < 0.02:
            self.ledger.post(
                c,
                d,
                tod + 1200,
                "vc_sell",
                "online",
                round(float(rng.uniform(150, 1_500)), 2),
                currency=cur,
                **fields,
            )

    def _worker_day(self, c: Customer, d: int, rng: np.random.Generator) -> None:
        """Works most days from home; ads, client EMTs and cash; then saves, pays tax, lives.
        On tour, from a hotel in another city."""
        today = self.start + timedelta(days=d)
        tour = self.tours.get(c.idx, {}).get(d)
        if tour is not None and tour[0] == d:  # check in for the whole stay
            self.eco.short_stay(c, d, c.city_on(d), tour[1], rng)
        if today.weekday() == 0:
            self.ledger.post(
                c,
                d,
                10 * HOUR,
                "transfer_out",
                "online",
                round(float(rng.uniform(300, 1500)), 2),
                memo="TFSA contribution",
                counterparty_id=stable_id("own", c.customer_id, "savings"),
                counterparty_name="OWN SAVINGS ACCOUNT",
                device_id=c.device_id,
                ip=c.ip,
            )
        if today.day == 15 and rng.random() < 0.5:
            self.ledger.post(
                c,
                d,
                11 * HOUR,
                "bill_payment",
                "online",
                round(float(rng.uniform(400, 1600)), 2),
                mcc="9311",
                counterparty_id=stable_id("biller", "CRA"),
                counterparty_name="CRA INSTALMENT",
                device_id=c.device_id,
                ip=c.ip,
            )
        if rng.random() > 0.7:
            return
        if rng.random() < 0.45:
            self.eco.ad_payment(c, d, rng)
        city = c.city_on(d)
        cash = 0.0
        for _ in range(int(rng.poisson(1.8))):
            amount = float(rng.choice([160, 200, 250, 300, 350, 400]))
            if rng.random() < 0.6:
                tod = int(rng.integers(11 * HOUR, 26 * HOUR))
                client = pick_client(self.clients[c.idx], rng)
                self.eco.client_emt(c, d, tod, client, amount, rng, memo_rate=0.35)
            else:
                cash += amount
        if cash:
            self.eco.cash(c, d, city, cash, rng, night=rng.random() < 0.25, roam=False)
        if rng.random() < 0.04:
            self.eco.short_stay(c, d, city, 1, rng)
