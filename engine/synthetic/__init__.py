"""Synthetic bank data for developing and evaluating the engine: no real person in it.

``generate`` writes three files into ``out_dir``:

- ``transactions.jsonl``: CONTRACT §1 rows, globally ordered by UTC instant, ``ts`` with the
  local offset of the city where the transaction happened;
- ``profiles.jsonl``: one CONTRACT §2 profile per customer;
- ``labels.csv``: ground truth (role, business model, ring, first ring activity, look-alike type).

The population is mostly ordinary customers (``routine``), about 3 % look-alikes whose
behaviour resembles one indicator (``lookalikes``), and ``max(2, customers // 500)``
trafficking rings (``rings``). Same arguments, same bytes::

    >>> from pathlib import Path
    >>> out = Path("out/demo")
    >>> print(generate(out, customers=300, days=20, progress=False))  # doctest: +SKIP
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import msgspec
import numpy as np

from engine.synthetic import lookalikes as la
from engine.synthetic.ecosystem import Ecosystem
from engine.synthetic.identity import Identities
from engine.synthetic.merchants import Catalogue
from engine.synthetic.places import Clock
from engine.synthetic.population import (
    Customer,
    adverse_media_noise,
    make_customer,
    pick_home,
    plan_trips,
)
from engine.synthetic.rings import PERSONAS as RING_PERSONAS
from engine.synthetic.rings import Rings
from engine.synthetic.routine import Routine
from engine.synthetic.writer import Ledger, open_output

__all__ = ["GenerateSummary", "generate"]

RE_ID = "RE-SYN-0001"
LABEL_COLUMNS = (
    "customer_id",
    "role",
    "business_model",
    "ring_id",
    "first_activity",
    "lookalike_type",
)


@dataclass(frozen=True)
class GenerateSummary:
    """What ``generate`` wrote."""

    transactions: int
    profiles: int
    customers: int
    ring_members: int
    rings: int
    paths: dict[str, Path] = field(default_factory=dict)

    def __str__(self) -> str:
        where = self.paths["transactions"].parent if "transactions" in self.paths else "?"
        return (
            f"{self.transactions:,} transactions and {self.profiles:,} profiles for "
            f"{self.customers:,} customers "
            f"({self.ring_members} ring members in {self.rings} rings) "
            f"in {where}"
        )


def generate(
    out_dir: Path,
    customers: int = 2000,
    days: int = 30,
    seed: int = 7,
    start: date = date(2026, 1, 5),
    progress: bool = True,
) -> GenerateSummary:
    """Write ``transactions.jsonl``, ``profiles.jsonl`` and ``labels.csv`` into ``out_dir``.

    ``customers`` account holders over ``days`` local days from ``start``. Deterministic:
    every random draw comes from ``numpy.random.default_rng`` streams spawned from ``seed``.
    Raises ``ValueError`` when the population is too small to hold the rings and look-alikes.
    """
    if days < 1:
        raise ValueError(f"days: expected >= 1, got {days}")
    n_rings = max(2, customers // 500)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "transactions": out_dir / "transactions.jsonl",
        "profiles": out_dir / "profiles.jsonl",
        "labels": out_dir / "labels.csv",
    }
    pop_seq, ring_seq, day_seq = np.random.SeedSequence(seed).spawn(3)
    rng, ring_rng = np.random.default_rng(pop_seq), np.random.default_rng(ring_seq)
    ident, cat, clock = Identities(rng, seed), Catalogue(rng), Clock(start, days)

    with open_output(paths["transactions"]) as out:
        ledger = Ledger(out, clock, RE_ID)
        routine = Routine(customers, cat, ledger, start, days)
        eco = Ecosystem(ledger, cat)
        looks = la.Lookalikes(eco, routine, ident, start, days)
        rings = Rings(eco, routine, ident, start, days, seed)
        people = _build(
            customers, n_rings, rng, ring_rng, ident, cat, routine, looks, rings, seed, start, days
        )
        _write_profiles(paths["profiles"], people)
        ledger.open_accounts([int(round(c.opening * 100)) for c in people])

        day_rngs = [[np.random.default_rng(s) for s in seq.spawn(3)] for seq in day_seq.spawn(days)]
        steps = range(days)
        if progress:
            from tqdm import tqdm

            steps = tqdm(steps, desc="synthetic days", unit="day")
        for d in steps:
            ring_day, look_day, routine_day = day_rngs[d]
            rings.run_day(d, ring_day)  # first: it decides where victims are today
            looks.run_day(d, look_day)
            routine.run_day(d, routine_day)
            ledger.flush(clock.day_cutoff(d))
        ledger.flush()

    _write_labels(paths["labels"], people, rings.first, start)
    members = sum(1 for c in people if c.ring_id)
    return GenerateSummary(
        ledger.written, len(people), len(people), members, len(rings.rings), paths
    )


def _build(
    n: int,
    n_rings: int,
    rng: np.random.Generator,
    ring_rng: np.random.Generator,
    ident: Identities,
    cat: Catalogue,
    routine: Routine,
    looks: la.Lookalikes,
    rings: Rings,
    seed: int,
    start: date,
    days: int,
) -> list[Customer]:
    """Assign roles to random customer indexes, build everyone, then wire rings and routines."""
    shapes = rings.plan(n_rings, ring_rng)
    ring_slots = [(shape, role) for shape in shapes for role in shape[3]]
    n_look = max(len(la.TYPES), round(n * 0.03))
    if len(ring_slots) + n_look > n // 2:
        raise ValueError(
            f"customers: {n} is too few for {n_rings} rings and {n_look} look-alikes; use >= 100"
        )
    order = [int(i) for i in rng.permutation(n)]  # role slots land on random ids
    ring_of = {order[k]: slot for k, slot in enumerate(ring_slots)}
    look_types = [la.TYPES[k % len(la.TYPES)] for k in range(n_look)]
    look_of = {order[len(ring_slots) + k]: t for k, t in enumerate(look_types)}

    people: list[Customer] = []
    for idx in range(n):
        if idx in ring_of:
            (_, base, _, _), role = ring_of[idx]
            occupations, ages = RING_PERSONAS[role]
            home = base if role != "victim" or rng.random() < 0.7 else pick_home(rng)
            occ = occupations[int(rng.integers(len(occupations)))]
            people.append(make_customer(idx, rng, ident, cat, seed, start, home, occ, ages))
        elif idx in look_of:
            occ, ages = la.persona(look_of[idx], rng)
            c = make_customer(idx, rng, ident, cat, seed, start, None, occ, ages)
            looks.configure(c, look_of[idx], rng)
            people.append(c)
        else:
            c = make_customer(idx, rng, ident, cat, seed, start)
            if rng.random() < 0.006:
                adverse_media_noise(c, rng, start)
            people.append(c)
        if not people[-1].lookalike:
            plan_trips(people[-1], rng, days, 0.12)

    households(people, rng)
    for shape in shapes:  # members in slot order, so roles line up with shape[3]
        members = [people[order[k]] for k, slot in enumerate(ring_slots) if slot[0] is shape]
        rings.build(shape, members, ring_rng)

    routine.customers = people
    for c in people:
        routine.add(c, rng)
        if c.lookalike:
            looks.adjust_rates(c)
    return people


# Adults of one household who bank here: 1 (alone, or the others bank elsewhere) to 4.
HOUSEHOLD_SIZES = (1, 2, 3, 4)
HOUSEHOLD_WEIGHTS = (0.70, 0.27, 0.025, 0.005)  # about 7 % of customers share with two or more


def households(people: list[Customer], rng: np.random.Generator) -> None:
    """Group ordinary customers of one city into households that share their address, and
    some a landline phone: couples, parents with adult children, roommates. Realistic
    noise for shared-identifier rules (PP-19), which rings' shared phones and apartments
    must stand out from."""
    by_city: dict[int, list[Customer]] = {}
    for c in people:
        if c.role == "background":
            by_city.setdefault(c.home, []).append(c)
    for city in sorted(by_city):
        group = by_city[city]
        order = [group[int(k)] for k in rng.permutation(len(group))]
        k = 0
        while k < len(order):
            size = int(rng.choice(HOUSEHOLD_SIZES, p=HOUSEHOLD_WEIGHTS))
            head, others = order[k], order[k + 1 : k + size]
            landline = rng.random() < 0.25
            for c in others:
                c.address = head.address
                if landline:
                    c.extra_phones.append(head.phone)
            k += max(1, len(others) + 1)


def _write_profiles(path: Path, people: list[Customer]) -> None:
    encoder = msgspec.json.Encoder()
    with path.open("wb") as f:
        f.write(encoder.encode_lines([c.profile() for c in people]))


def _write_labels(path: Path, people: list[Customer], first: dict[int, int], start: date) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(LABEL_COLUMNS)
        for c in people:
            when = (start + timedelta(days=first[c.idx])).isoformat() if c.idx in first else ""
            w.writerow((c.customer_id, c.role, c.model, c.ring_id, when, c.lookalike))
