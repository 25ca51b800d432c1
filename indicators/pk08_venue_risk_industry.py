"""PK-08 · Venue-risk industry (spa, body-rub, strip club, motel, rentals) (KYC, profile rule)."""

from __future__ import annotations

from indicators.profile_spec import ProfileRuleSpec

SPEC = ProfileRuleSpec(
    id="PK-08",
    title="Venue-risk industry (spa, body-rub, strip club, motel, rentals)",
    description=(
        "The individual owns, operates or works for a business in a venue-risk industry, or the "
        "entity is one: spas and body-rub centres, strip clubs, motels, residential rentals and "
        "property management (NAICS 7211, 5311, 5313, 8121, 7224). Context that raises the score, "
        "never evidence on its own."
    ),
    family="KYC",
    sources=("FINTRAC-2021-OA001 G36", "FINTRAC-2021-OA001 G37"),
    facts=("venue_industry",),
    weight=1.0,
    role_signal="trafficker",
    strong=False,
    required_fields=("industry_code",),
    false_positives=(
        "Most people in these industries: weight is low and the rule never triggers alone.",
    ),
    coverage="full",
    coverage_note="",
)
