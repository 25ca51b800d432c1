"""PK-06 · Aliases used to open multiple accounts, or many joint holders (KYC, profile rule)."""

from __future__ import annotations

from indicators.profile_spec import ProfileRuleSpec

SPEC = ProfileRuleSpec(
    id="PK-06",
    title="Aliases used to open multiple accounts, or many joint holders",
    description=(
        "Aliases used to open accounts at different banks or branches, or an unusual number of "
        "joint holders or authorized users added. The engine counts the aliases the RE's entity "
        "resolution attached to the profile (two or more)."
    ),
    family="KYC",
    sources=("FINTRAC-2016-OA003 K4", "FINTRAC-2016-OA003 K5"),
    facts=("aliases",),
    weight=1.0,
    role_signal="trafficker",
    strong=False,
    required_fields=("aliases[]",),
    false_positives=("Married or professional names recorded as aliases.",),
    coverage="partial",
    coverage_note=(
        "Joint holders and authorized users are not in the contract; `joint_holders` and "
        "`authorized_users` counts on the profile would complete F16-K5."
    ),
)
