"""PK-09 · Foreign recruitment or ads, training abroad (ID, profile rule)."""

from __future__ import annotations

from indicators.profile_spec import ProfileRuleSpec

SPEC = ProfileRuleSpec(
    id="PK-09",
    title="Foreign recruitment or ads, training abroad",
    description=(
        "Association with ads recruiting escorts from foreign countries, escort ads abroad or in "
        "a foreign language, storefronts or agencies abroad, job ads posted abroad, or an ad "
        "saying the escort was trained abroad. These come only from OSINT."
    ),
    family="ID",
    sources=(
        "FINTRAC-2021-OA001 X1",
        "FINTRAC-2021-OA001 X2",
        "FINTRAC-2021-OA001 X3",
        "FINTRAC-2021-OA001 X4",
        "FINTRAC-2021-OA001 X5",
        "FINTRAC-2021-OA001 X6",
    ),
    facts=("foreign_recruitment",),
    weight=1.5,
    role_signal="context",
    strong=False,
    required_fields=("flags[]",),
    false_positives=("Legitimate international recruitment agencies.",),
    coverage="full",
    coverage_note=(
        "CONTRACT §2's flag types have no foreign-recruitment type, so the engine accepts one "
        "more, "
        "`foreign_recruitment` (schemas/contract.py FLAG_TYPES), for an OSINT vendor's match; "
        "profiles "
        "that never carry it simply never fire this rule."
    ),
)
