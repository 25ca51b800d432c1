"""Trafficking rings: a trafficker, 2–5 victims and sometimes a collector (nominee).

Three business models (FINTRAC 2021 alert): ``short_stay_hotel`` (victims moved between
cities and motels), ``private_residence`` (apartments rented by the trafficker, occasional
tours) and ``illicit_storefront`` (a massage/spa front; proceeds reach the trafficker
mostly as cash and collector transfers). Each victim shows each pattern only with some
probability and intensity, so no two look alike and none shows everything:

PP-01 ads · PP-04 short stays in several cities · PP-12 cash 22:00–06:00 · PP-13 deposits at
many ATMs/cities · PP-16 many senders at the trafficker/collector · PP-17 credits forwarded
within hours, balance kept near zero · LUX / PROP at the trafficker.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from engine.synthetic.ecosystem import Ecosystem, clients
from engine.synthetic.identity import ALIASES, Identities, Party, stable_id
from engine.synthetic.places import CITIES, HOME_CITIES, nearby
from engine.synthetic.population import Customer, flag
from engine.synthetic.ring_activity import RingActivity
from engine.synthetic.ring_model import Ring, Victim
from engine.synthetic.routine import Routine

MODELS = ("short_stay_hotel", "private_residence", "illicit_storefront")
PERSONAS = {  # role -> (occupations, ages); low declared incomes make the lifestyle stand out
    "victim": ((("Unemployed", "", 9_000), ("Retail sales associate", "448140", 23_000),
                ("Student", "611310", 11_000), ("Esthetician", "812199", 25_000)), (18, 29)),
    "trafficker": ((("Self-employed, event promoter", "711320", 36_000), ("Unemployed", "", 14_000),
                    ("Car detailer", "811192", 29_000), ("Music producer", "512240", 27_000)),
                   (21, 42)),
    "collector": ((("Receptionist", "812199", 31_000), ("Student", "611310", 12_000),
                   ("Retail sales associate", "448140", 27_000)), (19, 40)),
}  # fmt: skip
# Probability that a victim pays their own short stays (else the trafficker, or cash).
LODGE_SELF = {"short_stay_hotel": 0.85, "private_residence": 0.6, "illicit_storefront": 0.2}


def base_city(rng: np.random.Generator) -> int:
    """Rings operate from cities with a market: the larger ones, by population."""
    big = [i for i in HOME_CITIES if CITIES[i].weight >= 200]
    w = np.array([CITIES[i].weight for i in big], dtype=float)
    return big[int(rng.choice(len(big), p=w / w.sum()))]


class Rings:
    """Builds the rings' members and posts their ring activity day by day."""

    def __init__(
        self, eco: Ecosystem, routine: Routine, ident: Identities, start: date, days: int, seed: int
    ):
        self.ident, self.start, self.days, self.seed = ident, start, days, seed
        self.rings: list[Ring] = []
        self.activity = RingActivity(eco, routine, start, days)

    @property
    def first(self) -> dict[int, int]:
        """Customer idx -> local day of the first ring row (labels' ``first_activity``)."""
        return self.activity.first

    def run_day(self, d: int, rng: np.random.Generator) -> None:
        """Post day ``d`` of every ring (see ``ring_activity``)."""
        self.activity.run_day(self.rings, d, rng)

    # ---- construction -------------------------------------------------------------------

    def plan(self, n_rings: int, rng: np.random.Generator) -> list[tuple[str, int, str, list[str]]]:
        """Ring shapes: (ring_id, base city, business model, member roles). Models are dealt
        round-robin from a random offset so every model appears once there are three rings;
        about half the rings have a collector, and at least one always does."""
        offset = int(rng.integers(len(MODELS)))
        shapes = []
        for r in range(n_rings):
            roles = ["trafficker"] + (["collector"] if rng.random() < 0.5 else [])
            roles += ["victim"] * int(rng.integers(2, 6))
            shapes.append(
                (f"R{r + 1:03d}", base_city(rng), MODELS[(offset + r) % len(MODELS)], roles)
            )
        if not any("collector" in roles for *_, roles in shapes):  # keep every role in the data
            shapes[int(rng.integers(n_rings))][3].insert(1, "collector")
        return shapes

    def build(
        self,
        shape: tuple[str, int, str, list[str]],
        members: list[Customer],
        rng: np.random.Generator,
    ) -> None:
        """Tie built customers (one per role of ``shape``) into a ring: relationships, shared
        identifiers, flags and each victim's pattern mix."""
        ring_id, base, model, roles = shape
        trafficker = members[roles.index("trafficker")]
        collector = members[roles.index("collector")] if "collector" in roles else None
        start = int(rng.integers(0, max(1, int(self.days * 0.4))))
        ring = Ring(
            ring_id,
            model,
            base,
            [base, *nearby(base, 5, 700)],
            start,
            trafficker,
            collector,
            vc=rng.random() < 0.4,
            lux=float(rng.uniform(0.0, 0.25)),
        )
        area = CITIES[base].area_code
        ring.clients = clients(self.ident, ring_id, 60 + 40 * roles.count("victim"), area, rng)
        for c, role in zip(members, roles, strict=True):
            c.role, c.model, c.ring_id = role, model, ring_id
        self._trafficker(ring, rng)
        aliases = [
            ALIASES[int(k)]
            for k in rng.choice(len(ALIASES), size=roles.count("victim"), replace=False)
        ]
        for c, role in zip(members, roles, strict=True):
            if role == "victim":
                self._victim(ring, c, aliases.pop(), rng)
            elif role == "collector":
                c.pay_kind = "none" if rng.random() < 0.5 else c.pay_kind
        self.rings.append(ring)

    def _trafficker(self, ring: Ring, rng: np.random.Generator) -> None:
        t = ring.trafficker
        t.pay_kind, t.net_pay = "none", 3500.0
        t.opening = float(rng.uniform(6_000, 25_000))
        t.extra_phones.append(self.ident.phone(CITIES[ring.base].area_code))  # the "work phone"
        units = {
            "private_residence": int(rng.integers(2, 5)),
            "short_stay_hotel": int(rng.integers(0, 2)),
            "illicit_storefront": 1,
        }[ring.model]
        for k in range(units):
            landlord = self.ident.person(
                "ring-landlord", hash_int(ring.ring_id, k), CITIES[ring.base].area_code
            )
            where = self.ident.address(
                7000 + t.idx * 5 + k, CITIES[ring.base].name, CITIES[ring.base].province
            )
            t.extra_addresses.append(where)
            ring.rents.append((landlord, float(rng.uniform(1_400, 2_600)), where))
        if ring.model == "illicit_storefront":
            lease = Party(
                stable_id("pm", self.seed, ring.ring_id, "lease"),
                "WELLNESS PLAZA COMMERCIAL LEASING",
            )
            ring.rents.append((lease, float(rng.uniform(2_500, 4_500)), "commercial"))
            t.occupation, t.industry = "Spa owner", "812199"
        if rng.random() < 0.15:
            t.flags.append(
                self._flag(
                    "adverse_media",
                    "media-screening",
                    "Named in a news report on human-trafficking charges (charges stayed)",
                    rng,
                )
            )
        if ring.model == "private_residence" and rng.random() < 0.25:
            t.flags.append(
                self._flag(
                    "reported_address",
                    "police-liaison",
                    f"{t.extra_addresses[0]} reported for suspected in-call activity",
                    rng,
                )
            )

    def _victim(self, ring: Ring, c: Customer, alias: str, rng: np.random.Generator) -> None:
        model = ring.model
        recipient = (
            ring.collector if ring.collector is not None and rng.random() < 0.7 else ring.trafficker
        )
        v = Victim(
            c=c,
            start=ring.start + int(rng.integers(0, 4)),
            alias=alias,
            recipient=recipient,
            ads=rng.random() < (0.35 if model == "illicit_storefront" else 0.85),
            lodge=rng.random() < LODGE_SELF[model],
            night=rng.random() < 0.75,
            multi=rng.random() < 0.7,
            forward=rng.random() < 0.8,
            per_credit=rng.random() < 0.4,
            keep=float(rng.uniform(0.04, 0.18)),
            work_p=float(rng.uniform(0.65, 0.92)),
            clients_per_day=float(rng.uniform(2.0, 5.5)),
            emt_share=float(rng.uniform(0.1, 0.5)),
            city=ring.base,
        )
        c.housing = None  # lives where the trafficker puts them
        c.bills = [b for b in c.bills if b[1] == "4814"][:1]
        c.trips.clear()
        c.away.clear()
        c.opening = float(rng.uniform(80, 700))
        if model == "private_residence" and ring.rents and rng.random() < 0.6:
            # Lives at one of the trafficker's units: a shared address (PP-19).
            c.extra_addresses.append(ring.rents[int(rng.integers(len(ring.rents)))][2])
        if rng.random() < 0.25:
            # A phone controlled by the trafficker, shared across victims (PP-19).
            c.extra_phones.append(ring.trafficker.extra_phones[0])
        if rng.random() < 0.3:
            towns = ", ".join(CITIES[k].name for k in ring.circuit[:3])
            c.flags.append(
                self._flag(
                    "escort_ad_match",
                    "osint-vendor",
                    f"Phone {c.phone} found in {int(rng.integers(3, 25))} escort ads ({towns})",
                    rng,
                )
            )
        if rng.random() < 0.2:
            c.flags.append(
                self._flag(
                    "branch_observation",
                    f"branch {c.branch.location_id}",
                    "Accompanied by a third party who answered for the customer and held their ID",
                    rng,
                )
            )
        ring.victims.append(v)

    def _flag(
        self, kind: str, source: str, detail: str, rng: np.random.Generator
    ) -> dict[str, str]:
        return flag(
            kind, source, self.start + timedelta(days=int(rng.integers(-120, self.days))), detail
        )


def hash_int(*parts: object) -> int:
    """A small stable integer from parts (keys outside people's index ranges)."""
    return int(stable_id("k", *parts)[2:10], 16)
