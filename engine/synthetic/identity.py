"""Fictional identities: names, emails, 555 phone numbers, addresses, stable counterparty ids.

Nothing here is real personal data. Family names are built from syllables so they read as
names without belonging to anyone; emails use the reserved ``example.*`` domains; phones use
the 555 exchange. Identifiers are unique unless a ring shares them on purpose (PP-19).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

GIVEN = (
    "Alex", "Avery", "Blake", "Camille", "Casey", "Dana", "Devon", "Eli", "Emery", "Farah",
    "Gabriel", "Hana", "Imani", "Jordan", "Jules", "Kai", "Kendall", "Lee", "Logan", "Maya",
    "Morgan", "Nadia", "Noor", "Owen", "Parker", "Quinn", "Ravi", "Reese", "Riley", "Sam",
    "Sasha", "Taylor", "Tessa", "Theo", "Uma", "Val", "Wren", "Yara", "Zane", "Zoe",
    "Amara", "Bastien", "Chloe", "Dario", "Elodie", "Felix", "Ines", "Joelle", "Karim", "Liam",
    "Mei", "Nico", "Olivia", "Priya", "Rafael", "Simone", "Tariq", "Vivian", "Wei", "Yusuf",
)  # fmt: skip
_HEAD = (
    "Ab", "Bel", "Car", "Dal", "El", "Fen", "Gar", "Hal", "Is", "Kel", "Lan", "Mar", "Nor", "Or",
    "Pel", "Quen", "Ral", "Sal", "Tam", "Ul", "Var", "Wes", "Yor", "Zan", "Bram", "Cor", "Dun",
    "Fair", "Gil", "Hart", "Lin", "Mor", "Pen", "Strat", "Thorn", "Wyn",
)  # fmt: skip
_TAIL = (
    "bury", "den", "field", "ford", "gate", "ham", "ley", "mont", "ner", "ova", "ridge", "sen",
    "ton", "vale", "wick", "ard", "eau", "ier", "ski", "ani", "ley", "rook", "stead",
)  # fmt: skip
STREETS = (
    "Maple", "Cedar", "Birch", "Lakeshore", "King", "Queen", "Main", "Church", "Park", "Victoria",
    "Elm", "Pine", "Oak", "Willow", "Spruce", "Ridge", "Hillcrest", "Station", "Riverside", "Mill",
    "Front", "Centre", "Bay", "Harbour", "College", "Prospect",
)  # fmt: skip
_STREET_KIND = ("St", "Ave", "Rd", "Blvd", "Dr", "Cres", "Way")
_CO_A = (
    "North", "Maple", "Granite", "Blue", "True", "Lake", "Prairie", "Harbour", "Summit", "Silver",
    "Pine", "Cedar", "Aurora", "Coastal", "Red River", "Evergreen",
)  # fmt: skip
_CO_B = (
    "Logistics", "Health Services", "Foods", "Systems", "Manufacturing", "Retail", "Construction",
    "Analytics", "Dental", "Education", "Energy", "Insurance", "Transit", "Hospitality",
    "Software", "Auto Parts",
)  # fmt: skip
_CO_C = ("Inc.", "Ltd.", "Corp.", "Group", "Co.", "Services")
ALIASES = (
    "Bambi", "Candy", "Diamond", "Angel", "Honey", "Jade", "Kitty", "Lexi", "Mimi", "Peaches",
    "Roxy", "Star", "Summer", "Vixen", "Coco", "Bunny", "Crystal", "Gigi",
)  # fmt: skip

DOMAINS = ("example.com", "example.org")


def stable_id(prefix: str, *parts: object) -> str:
    """A stable hash-like id, e.g. ``cp_3fa2c19b0d7e4a51``: the same parts give the same id."""
    key = "|".join(str(p) for p in parts).encode()
    return f"{prefix}_{hashlib.blake2b(key, digest_size=8).hexdigest()}"


@dataclass(frozen=True, slots=True)
class Party:
    """Someone outside the bank (or a customer seen from another account): EMT, payroll, biller."""

    cp_id: str
    name: str
    email: str | None = None
    phone: str | None = None


class Identities:
    """Draws names and hands out unique phones, emails and civic addresses."""

    def __init__(self, rng: np.random.Generator, seed: int):
        self.rng = rng
        self.seed = seed
        self._phone_next: dict[str, int] = {}
        self._serial = 0

    def _pick(self, options: tuple[str, ...]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def name(self) -> tuple[str, str]:
        """(given, family) drawn from the fictional lists."""
        return self._pick(GIVEN), self._pick(_HEAD) + self._pick(_TAIL)

    def email(self, given: str, family: str) -> str:
        """A unique address at a reserved example domain."""
        self._serial += 1
        return f"{given}.{family}{self._serial}@{self._pick(DOMAINS)}".lower()

    def phone(self, area_code: str) -> str:
        """A unique number in the fictional 555 exchange of ``area_code``.

        The exchange has 10,000 lines; past that an extension keeps numbers unique (and
        fictional) for populations of any size.
        """
        n = self._phone_next.get(area_code, int(self.rng.integers(0, 500)))
        self._phone_next[area_code] = n + 1
        line, extension = n % 10_000, n // 10_000
        return f"+1-{area_code}-555-{line:04d}" + (f" x{extension}" if extension else "")

    def address(self, civic: int, city: str, province: str) -> str:
        """A civic address; ``civic`` (from the customer index) keeps it unique."""
        street = f"{self._pick(STREETS)} {self._pick(_STREET_KIND)}"
        return f"{civic} {street}, {city}, {province}"

    def company(self) -> str:
        """An invented employer or landlord company name."""
        return f"{self._pick(_CO_A)} {self._pick(_CO_B)} {self._pick(_CO_C)}"

    def person(self, kind: str, index: int, area_code: str) -> Party:
        """An outside person (friend, tenant, client) with a stable counterparty id."""
        given, family = self.name()
        return Party(
            cp_id=stable_id("cp", self.seed, kind, index),
            name=f"{given} {family}",
            email=self.email(given, family),
            phone=self.phone(area_code),
        )
