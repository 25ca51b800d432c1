"""The ring members' records: who a victim is and what a ring holds (shared by ``rings``,
which builds them, and ``ring_activity``, which posts what they do each day)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.synthetic.identity import Party
from engine.synthetic.population import Customer


@dataclass(eq=False)
class Victim:
    c: Customer
    start: int
    alias: str
    recipient: Customer  # trafficker or collector: where the money goes
    ads: bool  # each flag: does this victim show the pattern at all
    lodge: bool
    night: bool
    multi: bool
    forward: bool
    per_credit: bool  # forward each credit, else a nightly sweep
    keep: float  # share of credits the victim keeps
    work_p: float
    clients_per_day: float
    emt_share: float
    city: int = -1
    stay_left: int = 0
    booked: int = 0


@dataclass(eq=False)
class Ring:
    ring_id: str
    model: str
    base: int
    circuit: list[int]
    start: int
    trafficker: Customer
    collector: Customer | None
    victims: list[Victim] = field(default_factory=list)
    clients: list[Party] = field(default_factory=list)
    rents: list[tuple[Party, float, str]] = field(default_factory=list)
    cash_held: float = 0.0
    collector_in: float = 0.0
    vc: bool = False
    car: bool = False
    lux: float = 0.15  # daily chance of a luxury purchase: some traffickers keep a low profile
