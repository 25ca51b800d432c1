"""PK-02 · Address where prostitution is reported, or an escort agency at a residential address
(ID, profile rule)."""

from __future__ import annotations

from indicators.profile_spec import ProfileRuleSpec

SPEC = ProfileRuleSpec(
    id="PK-02",
    title="Address where prostitution is reported, or an escort agency at a residential address",
    description=(
        "The client's address (or a rent payee's, or a storefront's) appears where media, law "
        "enforcement or classified ads report prostitution. A geocoded OSINT or law-enforcement "
        "list raises the `reported_address` flag on the profile."
    ),
    family="ID",
    sources=(
        "FINTRAC-2016-OA003 C3",
        "FINTRAC-2016-OA003 T10",
        "FINTRAC-2021-OA001 R5",
        "FINTRAC-2021-OA001 S3",
    ),
    facts=("reported_address",),
    weight=1.5,
    role_signal="context",
    strong=False,
    required_fields=("flags[].type = reported_address",),
    false_positives=(
        "Large apartment buildings where one unit was reported; neighbours share the address.",
    ),
    coverage="partial",
    coverage_note=(
        "Rent-payee and storefront addresses are not matched: the contract carries no payee "
        "address. A `payee_address` field on rent payments would complete F16-T10."
    ),
)
