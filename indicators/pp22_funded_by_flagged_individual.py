"""PP-22 · Funded mainly by one individual with escort signals (FUNNEL, cross-customer)."""

from __future__ import annotations

from indicators.profile_spec import ProfileRuleSpec

SPEC = ProfileRuleSpec(
    id="PP-22",
    title="Funded mainly by one individual whose own account shows escort signals",
    description=(
        "FINTRAC-2021-OA001 G28: an account funded mainly (60 % or more of credits) by transfers "
        "from one other individual, where both accounts suggest escort activity. FINTRAC frames "
        "it as one female funding another; the engine implements it gender-neutrally. It needs "
        "the funder's indicator state (does the funder's account fire an ADV or LODGE rule?), "
        "which lives in another customer's partition."
    ),
    family="FUNNEL",
    sources=("FINTRAC-2021-OA001 G28",),
    flag_bit=0,
    weight=2.0,
    role_signal="victim",
    strong=False,
    required_fields=("counterparty_id", "counterparty_email", "amount"),
    false_positives=("Family members supporting each other.",),
    status="experimental",
    coverage="none",
    coverage_note=(
        "Not implemented yet. Design: the cross-customer stage (engine/identifiers.py) would also "
        "index funders by counterparty email / phone, receive 'fires ADV or LODGE' observations "
        "from the funder's partition, and send a finding to the funded customer when the funder "
        "provides >= 60 % of 30-day credits. Until then the rule cannot fire."
    ),
)
