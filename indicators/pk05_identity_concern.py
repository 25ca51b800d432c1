"""PK-05 · Someone else's ID, or an account opened for an unqualified minor (KYC, profile rule)."""

from __future__ import annotations

from indicators.profile_spec import ProfileRuleSpec

SPEC = ProfileRuleSpec(
    id="PK-05",
    title="Someone else's ID, or an account opened for an unqualified minor",
    description=(
        "Use of someone else's identification, or an account in the name of a minor who could not "
        "qualify for it. Raised by KYC onboarding and ID-verification results (`id_concern` flag) "
        "or computed from `birth_date` (under 18). INDICATORS.md lists it among the strong "
        "signals; the calibrated constellation keeps only PK-04 as strong by default "
        "(`constellation.strong_rules`) because a KYC doubt on its own also fits fraud and "
        "identity theft."
    ),
    family="KYC",
    sources=("FINTRAC-2016-OA003 K3",),
    facts=("id_concern", "minor"),
    weight=3.0,
    role_signal="victim",
    strong=False,
    required_fields=("flags[].type = id_concern", "birth_date"),
    false_positives=(
        "Youth accounts opened legitimately with a guardian; the guardian's relationship is on "
        "file.",
    ),
    coverage="full",
    coverage_note="",
)
