"""PK-01 · Adverse media links the client to trafficking or prostitution rings
(ID, profile rule)."""

from __future__ import annotations

from indicators.profile_spec import ProfileRuleSpec

SPEC = ProfileRuleSpec(
    id="PK-01",
    title="Adverse media links the client to trafficking or prostitution rings",
    description=(
        "Media or other reliable sources link the client to crime that could generate proceeds, "
        "or to human trafficking in the sex trade or prostitution rings. The reporting entity's "
        "media-screening vendor raises the `adverse_media` flag on the profile; the engine joins "
        "it as a fact that raises the score of any transaction pattern."
    ),
    family="ID",
    sources=("FINTRAC-2016-OA003 C1", "FINTRAC-2016-OA003 C2"),
    facts=("adverse_media",),
    weight=2.0,
    role_signal="trafficker",
    strong=False,
    required_fields=("flags[].type = adverse_media",),
    false_positives=(
        "Name matches against the wrong person; the vendor's match score should be reviewed "
        "before filing.",
        "Victims named in coverage of a case against their trafficker.",
    ),
    coverage="full",
    coverage_note="",
)
