"""PK-03 · Contact details found in escort advertising (ID, profile rule)."""

from __future__ import annotations

from indicators.profile_spec import ProfileRuleSpec

SPEC = ProfileRuleSpec(
    id="PK-03",
    title="Contact details found in escort advertising",
    description=(
        "The client's phone number, email or handle is traceable in open sources to escort "
        "advertising, possibly in several cities within a short period. An OSINT ad-scrape index "
        "raises the `escort_ad_match` flag; the ad ids, cities and dates belong in the flag's "
        "detail, not the ad content."
    ),
    family="ID",
    sources=(
        "FINTRAC-2016-OA003 K2",
        "FINTRAC-2016-OA003 C4",
        "FINTRAC-2021-OA001 G31",
        "FIN-2020-A008 #6",
    ),
    facts=("escort_ad_match",),
    weight=2.5,
    role_signal="victim",
    strong=False,
    required_fields=("flags[].type = escort_ad_match",),
    false_positives=(
        "Independent adult workers advertising for themselves (no trafficker); the role "
        "hypothesis and other families decide.",
    ),
    coverage="full",
    coverage_note="",
)
