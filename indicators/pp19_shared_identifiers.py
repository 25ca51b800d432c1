"""PP-19 · Shared identifiers / common address (ID, cross-customer finding)."""

from __future__ import annotations

from indicators.profile_spec import ProfileRuleSpec

SPEC = ProfileRuleSpec(
    id="PP-19",
    title="Shared identifiers / common address",
    description=(
        "The same phone number, email or address is given by several unrelated customers or "
        "remitters (FINTRAC: the same address used by different people sending funds; FinCEN: "
        "shared contact details across accounts). Traffickers open and control accounts for the "
        "people they exploit, so one phone or address recurs across victims' profiles. This rule "
        "needs more than one customer's state: the engine's second stage keys identifier "
        "observations by the identifier (topic `identifier-observations`), a Faust agent keeps "
        "the holders of each identifier in a table, and when one is shared by "
        "`shared_identifier_min_holders` customers (default 3) it sends a finding about each "
        "holder to the `findings` topic, which the firehose joins into the holder's state."
    ),
    family="ID",
    sources=("FINTRAC-2016-OA003 P13", "FIN-2020-A008 #6", "FIN-2020-A008 behavioral"),
    facts=("shared_identifier",),
    weight=2.0,
    role_signal="context",
    strong=False,
    required_fields=("phones[]", "emails[]", "addresses[]"),
    false_positives=(
        "Families sharing a home phone or address; group homes, shelters and student residences.",
        "A business address used by its employees.",
    ),
    status="experimental",
    coverage="partial",
    coverage_note=(
        "Profile phones, emails and addresses are indexed. Device ids / IPs of online sessions and "
        "MSB remitter addresses are not yet observations; the 'shared with an escort-linked "
        "customer' branch needs the holder's indicator state and is not implemented."
    ),
)
