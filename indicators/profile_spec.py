"""What a profile / outside-information rule (PK-nn) declares about itself.

Profile rules are per-customer facts from the ``profiles`` topic (flags, occupation,
industry, aliases, birth date), not kernels: :func:`engine.core.state.profile_facts` turns a
profile into the bits of the named facts (:mod:`indicators.inputs`) and a rule holds while
any of its ``facts`` is set. They raise the constellation score and add families; per
INDICATORS.md only PK-04 (direct observation of a controlling third party) and PK-05
(someone else's ID, an unqualified minor) may trigger together with any single transaction
rule (``strong``).
PK-07 compares transactions with the profile, so it is a kernel (an IndicatorSpec).
"""

from __future__ import annotations

from dataclasses import dataclass

from indicators.spec import ROLE_SIGNALS, STATUSES, SpecError
from schemas import FAMILIES


@dataclass(frozen=True)
class ProfileRuleSpec:
    id: str
    title: str
    description: str
    family: str
    sources: tuple[str, ...]
    facts: tuple[str, ...]  # profile facts (indicators/inputs.py); () when none exists yet
    weight: float
    role_signal: str
    strong: bool
    required_fields: tuple[str, ...]
    false_positives: tuple[str, ...]
    status: str = "stable"
    coverage: str = "full"
    coverage_note: str = ""
    flag_bit: int = 0  # the facts' bits in ``profile_flags``, filled in by the registry

    def __post_init__(self) -> None:
        problems = []
        if self.family not in FAMILIES:
            problems.append(f"family {self.family!r} not in {FAMILIES}")
        if self.role_signal not in ROLE_SIGNALS:
            problems.append(f"role_signal {self.role_signal!r} not in {ROLE_SIGNALS}")
        if self.status not in STATUSES:
            problems.append(f"status {self.status!r} not in {STATUSES}")
        if self.coverage not in ("full", "partial", "none"):
            problems.append(f"coverage {self.coverage!r} not in ('full', 'partial', 'none')")
        if (not self.facts) != (self.coverage == "none"):
            problems.append("no facts exactly when coverage is 'none'")
        if self.coverage != "full" and not self.coverage_note:
            problems.append("a coverage_note must say what is missing")
        if not self.sources:
            problems.append("no FINTRAC source items")
        if problems:
            raise SpecError(f"profile rule {self.id}: " + "; ".join(problems))

    def holds(self, profile_flags: int) -> bool:
        return bool(profile_flags & self.flag_bit)
