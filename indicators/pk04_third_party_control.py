"""PK-04 · A third party controls or accompanies the client (ID, profile rule)."""

from __future__ import annotations

from indicators.profile_spec import ProfileRuleSpec

SPEC = ProfileRuleSpec(
    id="PK-04",
    title="A third party controls or accompanies the client",
    description=(
        "A third party executes the client's transactions (for example on the pretext of "
        "interpreting), or the client is accompanied or watched while depositing, and the "
        "companion may hold the client's ID. Branch staff record it (teller observation form) and "
        "the `branch_observation` flag carries it; FinCEN treats such direct observation as a "
        "strong signal, so with any transaction rule it triggers on its own."
    ),
    family="ID",
    sources=("FINTRAC-2016-OA003 C5", "FINTRAC-2016-OA003 C6", "FIN-2020-A008 behavioral"),
    facts=("branch_observation",),
    weight=3.0,
    role_signal="victim",
    strong=True,
    required_fields=("flags[].type = branch_observation",),
    false_positives=(
        "Genuine interpreters, caregivers or family members helping elderly or newcomer clients.",
    ),
    coverage="full",
    coverage_note="",
)
