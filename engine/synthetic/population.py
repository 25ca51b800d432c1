"""Customers: identity, profile, income and the fixed obligations of an ordinary life.

Every customer, ring members included, is built here as an ordinary person first (payroll,
rent, bills, friends, trips); ``lookalikes`` and ``rings`` then change what differs. The
daily card and cash spend is drawn in bulk by ``routine``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from engine.synthetic.identity import Identities, Party, stable_id
from engine.synthetic.merchants import INSURANCE, TELECOM, UTILITIES, Catalogue, Terminal
from engine.synthetic.places import ABROAD, CITIES, HOME_CITIES, distance_km, nearby

# (occupation, NAICS, median yearly income CAD)
OCCUPATIONS = (
    ("Software developer", "541511", 95_000), ("Registered nurse", "622110", 84_000),
    ("Retail sales associate", "448140", 33_000), ("Teacher", "611110", 78_000),
    ("Accountant", "541211", 76_000), ("Construction labourer", "236118", 52_000),
    ("Administrative assistant", "561110", 46_000), ("Cook", "722511", 34_000),
    ("Warehouse associate", "493110", 41_000), ("Public servant", "911910", 73_000),
    ("Electrician", "238210", 70_000), ("Customer service representative", "561422", 39_000),
    ("Automotive mechanic", "811111", 56_000), ("Pharmacist", "446110", 105_000),
    ("Bank teller", "522111", 41_000), ("Civil engineer", "541330", 98_000),
    ("Hairstylist", "812112", 36_000), ("Marketing coordinator", "541810", 56_000),
    ("Delivery driver", "492210", 44_000), ("Dental hygienist", "621210", 80_000),
    ("Retired", "", 38_000), ("Retired", "", 52_000),
)  # fmt: skip
DEAR_CITIES = ("Toronto", "Vancouver", "Mississauga", "Surrey", "Victoria")
# Outside information about ordinary customers that has nothing to do with trafficking.
NOISE_FLAGS = (
    ("adverse_media", "media-screening", "Named in a local news article about a zoning dispute"),
    ("adverse_media", "media-screening", "Name match (62%) with a person in a fraud court report"),
    ("adverse_media", "media-screening", "Mentioned in an article on a small-business tax audit"),
    ("id_concern", "branch", "Presented an expired driver's licence; renewed copy on file"),
    ("reported_address", "osint-vendor", "Address near a reported location (same postal code)"),
    (
        "branch_observation",
        "teller",
        "Came in with a relative who interpreted; customer answered for herself",
    ),
)
BENIGN_MEMOS = (
    "", "", "", "", "dinner", "groceries", "thanks!", "gas money", "rent share", "concert tix",
    "hydro split", "🍕", "birthday 🎂", "for the kids", "loan payback", "movie night", "carpool",
    "coffee ☕", "hockey pool", "gift",
)  # fmt: skip


@dataclass(eq=False, slots=True)
class Customer:
    """One account holder: profile fields, behaviour parameters and where they are each day."""

    idx: int
    customer_id: str
    account_id: str
    card_id: str
    cp_id: str  # how this customer appears as a counterparty on other customers' rows
    name: str
    email: str
    phone: str
    home: int
    address: str
    birth_date: str
    occupation: str
    industry: str
    income: float
    device_id: str
    ip: str
    atms: list[Terminal]
    branch: Terminal
    role: str = "background"
    lookalike: str = ""
    model: str = ""
    ring_id: str = ""
    employer: Party | None = None
    net_pay: float = 0.0
    pay_kind: str = "biweekly"  # biweekly | semimonthly | pension | none
    pay_parity: int = 0
    # (kind, payee, amount, day of month); kind is rent_emt, rent_bill or mortgage
    housing: tuple[str, Party, float, int] | None = None
    # (biller name, MCC, biller id, amount, day of month)
    bills: list[tuple[str, str, str, float, int]] = field(default_factory=list)
    # (index into ONLINE["subscription"], amount, day of month)
    subscriptions: list[tuple[int, float, int]] = field(default_factory=list)
    friends: list[Party] = field(default_factory=list)
    away: dict[int, int] = field(default_factory=dict)  # day -> city when not at home
    # (first day, nights, city, "fly" | "drive")
    trips: list[tuple[int, int, int, str]] = field(default_factory=list)
    opening: float = 0.0
    extra_phones: list[str] = field(default_factory=list)
    extra_emails: list[str] = field(default_factory=list)
    extra_addresses: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    flags: list[dict[str, str]] = field(default_factory=list)

    def city_on(self, day: int) -> int:
        """City where the customer is on local ``day`` (home unless travelling or moved)."""
        return self.away.get(day, self.home)

    def profile(self) -> dict[str, Any]:
        """CONTRACT §2 profile."""
        home = CITIES[self.home]
        out: dict[str, Any] = {
            "customer_id": self.customer_id, "party_type": "person", "name": self.name,
            "birth_date": self.birth_date, "home_city": home.name, "home_province": home.province,
            "home_country": "CA", "occupation": self.occupation,
            "declared_income_cad": round(self.income, -2),
            "expected_monthly_cad": round(max(200.0, self.income / 12 * 0.8), -1),
            "phones": [self.phone, *self.extra_phones], "emails": [self.email, *self.extra_emails],
            "addresses": [self.address, *self.extra_addresses],
        }  # fmt: skip
        if self.industry:
            out["industry_code"] = self.industry
        if self.aliases:
            out["aliases"] = list(self.aliases)
        if self.flags:
            out["flags"] = [dict(f) for f in self.flags]
        return out


def pick_home(rng: np.random.Generator) -> int:
    """A home city, weighted by population."""
    w = np.array([CITIES[i].weight for i in HOME_CITIES], dtype=float)
    return HOME_CITIES[int(rng.choice(len(HOME_CITIES), p=w / w.sum()))]


def make_customer(
    idx: int,
    rng: np.random.Generator,
    ident: Identities,
    cat: Catalogue,
    seed: int,
    start: date,
    home: int | None = None,
    occupation: tuple[str, str, int] | None = None,
    ages: tuple[int, int] = (19, 84),
) -> Customer:
    """An ordinary customer; ``home``, ``occupation`` and ``ages`` let personas constrain it."""
    home = pick_home(rng) if home is None else home
    occ = occupation or OCCUPATIONS[int(rng.integers(len(OCCUPATIONS)))]
    age = int(rng.integers(ages[0], ages[1] + 1))
    if occupation is None and age >= 66 and rng.random() < 0.85:
        occ = OCCUPATIONS[-1 - int(rng.integers(2))]  # most people this age are retired
    if occ[0] == "Retired" and age < 60:
        age = int(rng.integers(60, 90))
    birth = start - timedelta(days=365 * age + int(rng.integers(0, 365)))
    given, family = ident.name()
    city = CITIES[home]
    cid = f"C{idx + 1:06d}"
    atms = cat.atms[home]
    c = Customer(
        idx=idx,
        customer_id=cid,
        account_id=f"A{idx + 1:06d}-01",
        card_id=stable_id("card", seed, cid),
        cp_id=stable_id("cp", seed, "customer", cid),
        name=f"{given} {family}",
        email=ident.email(given, family),
        phone=ident.phone(city.area_code),
        home=home,
        address=ident.address(10 + idx * 2, city.name, city.province),
        birth_date=birth.isoformat(),
        occupation=occ[0],
        industry=occ[1],
        income=float(occ[2] * rng.lognormal(0.0, 0.3)),
        device_id=stable_id("dev", seed, cid),
        ip=f"198.51.100.{int(rng.integers(1, 255))}",
        atms=[atms[int(k)] for k in rng.integers(0, len(atms), size=3)],
        branch=cat.branches[home][int(rng.integers(len(cat.branches[home])))],
    )
    setup_obligations(c, rng, ident, seed)
    return c


def setup_obligations(c: Customer, rng: np.random.Generator, ident: Identities, seed: int) -> None:
    """Income, housing, bills, friends and an opening balance matching the income."""
    city = CITIES[c.home]
    net_year = c.income * 0.72
    if c.occupation in ("Retired", "Unemployed"):  # a monthly government credit, no payroll
        c.pay_kind, c.net_pay = "pension", net_year / 12
        c.employer = (
            Party(stable_id("gov", "pension"), "GOVERNMENT OF CANADA CPP/OAS")
            if c.occupation == "Retired"
            else Party(stable_id("gov", "ei"), "GOVERNMENT OF CANADA EI")
        )
    else:
        c.pay_kind = "biweekly" if rng.random() < 0.75 else "semimonthly"
        c.net_pay = net_year / (26 if c.pay_kind == "biweekly" else 24)
        c.pay_parity = int(rng.integers(2))
        emp_no = int(rng.integers(0, 400))  # shared employers: many customers, one payer id
        c.employer = Party(stable_id("emp", seed, city.province, emp_no), ident.company().upper())
    monthly = net_year / 12
    # Housing takes about a third of take-home pay, more in the dearest markets.
    dearer = 1.15 if city.name in DEAR_CITIES else 1.0
    share = float(np.clip(rng.normal(0.32, 0.06), 0.18, 0.45)) * dearer
    if rng.random() < 0.6:  # renter: a landlord person (EMT) or a property manager (bill payment)
        amount = float(np.clip(share * monthly, 650, 3600))
        if rng.random() < 0.4:
            payee = ident.person("landlord", c.idx, city.area_code)
            c.housing = ("rent_emt", payee, amount, 1)
        else:
            payee = Party(
                stable_id("pm", seed, c.home, int(rng.integers(0, 12))),
                f"{ident.company().split()[0].upper()} PROPERTY MANAGEMENT",
            )
            c.housing = ("rent_bill", payee, amount, 1)
    else:  # owner: mortgage on a fixed day
        amount = float(np.clip(share * monthly, 500, 4500))
        bank = Party(stable_id("mtg", int(rng.integers(0, 5))), "MORTGAGE PMT")
        c.housing = ("mortgage", bank, amount, int(rng.integers(1, 28)))

    def bill(name: str, mcc: str, low: float, high: float) -> None:
        dom = int(rng.integers(3, 28))
        c.bills.append((name, mcc, stable_id("biller", name), float(rng.uniform(low, high)), dom))

    utils = UTILITIES.get(city.province, (("LOCAL UTILITY", "4900"),))
    bill(*utils[int(rng.integers(len(utils)))], 70, 210)
    for t in rng.choice(len(TELECOM), size=int(rng.integers(1, 3)), replace=False):
        bill(*TELECOM[int(t)], 45, 140)
    if rng.random() < 0.5:
        bill(*INSURANCE[int(rng.integers(len(INSURANCE)))], 90, 260)
    for k in rng.choice(5, size=int(rng.integers(0, 3)), replace=False):  # streaming, storage
        price = float(rng.choice([4.99, 9.99, 11.99, 16.49, 20.99]))
        c.subscriptions.append((int(k), price, int(rng.integers(1, 29))))
    # Family and friends; a few people have a wide circle (team treasurer, family organiser),
    # which is what legitimately gives some accounts many distinct EMT senders.
    circle = int(rng.integers(1, 5)) if rng.random() > 0.04 else int(rng.integers(6, 10))
    c.friends = [ident.person("friend", c.idx * 10 + k, city.area_code) for k in range(circle)]
    savings = 2.5 if c.occupation == "Retired" else 1.0  # retirees live partly off savings
    c.opening = float(rng.uniform(0.6, 3.0) * savings * monthly)


def plan_trips(c: Customer, rng: np.random.Generator, days: int, per_month: float) -> None:
    """Ordinary trips (holidays, family, work): away days plus the bookings ``routine`` posts."""
    for _ in range(int(rng.poisson(per_month * days / 30))):
        nights = int(rng.integers(1, 7))
        begin = int(rng.integers(0, max(1, days - 1)))
        r = rng.random()
        if r < 0.08:
            dest = ABROAD[int(rng.integers(len(ABROAD)))]
        elif r < 0.6:
            near = nearby(c.home, 6, 600) or [pick_home(rng)]
            dest = near[int(rng.integers(len(near)))]
        else:
            dest = pick_home(rng)
        if dest == c.home or any(begin + k in c.away for k in range(nights + 1)):
            continue
        for k in range(nights):
            c.away[begin + k] = dest
        kind = "fly" if distance_km(c.home, dest) > 450 else "drive"
        c.trips.append((begin, nights, dest, kind))


def flag(kind: str, source: str, when: date, detail: str) -> dict[str, str]:
    """A CONTRACT §2 profile flag raised on ``when``."""
    return {
        "type": kind,
        "source": source,
        "ts": f"{when.isoformat()}T15:00:00+00:00",
        "detail": detail,
    }


def adverse_media_noise(c: Customer, rng: np.random.Generator, start: date) -> None:
    """Unrelated outside-information flags on a few ordinary customers (realistic noise)."""
    kind, source, detail = NOISE_FLAGS[int(rng.integers(len(NOISE_FLAGS)))]
    c.flags.append(flag(kind, source, start - timedelta(days=int(rng.integers(10, 400))), detail))
