"""What a profile / outside-information rule (PK-nn) declares about itself.

Profile rules are per-customer facts from the ``profiles`` topic (flags, occupation,
industry, aliases, birth date), not kernels: :func:`engine.state.profile_facts` turns a
profile into ``PROFILE_*`` bits and a rule holds while any bit of its ``flag_bit`` mask
is set. They raise the constellation score and add families; per INDICATORS.md only
PK-04 (direct observation of a controlling third party) and PK-05 (someone else's ID,
an unqualified minor) may trigger together with any single transaction rule (``strong``).
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
    flag_bit: int  # PROFILE_* mask; 0 when the contract cannot carry the signal yet
    weight: float
    role_signal: str
    strong: bool
    required_fields: tuple[str, ...]
    false_positives: tuple[str, ...]
    status: str = "stable"
    coverage: str = "full"
    coverage_note: str = ""

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
        if (self.flag_bit == 0) != (self.coverage == "none"):
            problems.append("flag_bit 0 exactly when coverage is 'none'")
        if self.coverage != "full" and not self.coverage_note:
            problems.append("a coverage_note must say what is missing")
        if not self.sources:
            problems.append("no FINTRAC source items")
        if problems:
            raise SpecError(f"profile rule {self.id}: " + "; ".join(problems))

    def holds(self, profile_flags: int) -> bool:
        return bool(profile_flags & self.flag_bit)
