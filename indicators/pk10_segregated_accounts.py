"""PK-10 · Separate accounts used to segregate trafficking-related spend (KYC, profile rule)."""

from __future__ import annotations

from indicators.profile_spec import ProfileRuleSpec

SPEC = ProfileRuleSpec(
    id="PK-10",
    title="Separate accounts used to segregate trafficking-related spend",
    description=(
        "Separate accounts or cards kept to keep non-trafficking and trafficking-related "
        "transactions apart. Practically an analyst's judgement across accounts: the engine "
        "surfaces all of a subject's accounts and cards in the alert evidence and disclosure "
        "package for that comparison."
    ),
    family="KYC",
    sources=("FINTRAC-2021-OA001 G38",),
    facts=(),
    weight=1.0,
    role_signal="trafficker",
    strong=False,
    required_fields=("account_id",),
    false_positives=("Ordinary budgeting with several accounts.",),
    coverage="none",
    coverage_note=(
        "Analyst-only by nature (INDICATORS.md PK-10): no automated rule; the disclosure package "
        "lists every account and card of the subject."
    ),
)
