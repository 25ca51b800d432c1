"""Profile and outside-information rules (PK-nn) available from the ``profiles`` topic.

They are not kernels: a profile flag is a per-customer fact, joined into state when the
profile arrives. They raise the constellation score and add families; per INDICATORS.md
only PK-04 (a third party observed controlling the client) and PK-05 (someone else's ID)
may trigger together with any single transaction rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from indicators import columns as col


@dataclass(frozen=True)
class ProfileRule:
    id: str
    title: str
    family: str
    sources: tuple[str, ...]
    flag_bit: int
    weight: float
    role_signal: str
    strong: bool  # may trigger with any one transaction rule


PROFILE_RULES: tuple[ProfileRule, ...] = (
    ProfileRule("PK-01", "Adverse media links the client to trafficking or prostitution rings", "ID",
                ("FINTRAC-2016-OA003 C1", "FINTRAC-2016-OA003 C2"), col.PROFILE_ADVERSE_MEDIA, 2.0,
                "trafficker", False),
    ProfileRule("PK-02", "Address where prostitution is reported", "ID",
                ("FINTRAC-2016-OA003 C3", "FINTRAC-2021-OA001 R5"), col.PROFILE_REPORTED_ADDRESS, 1.5,
                "context", False),
    ProfileRule("PK-03", "Contact details found in escort advertising", "ID",
                ("FINTRAC-2016-OA003 K2", "FINTRAC-2016-OA003 C4", "FINTRAC-2021-OA001 G31"),
                col.PROFILE_ESCORT_AD_MATCH, 2.5, "victim", False),
    ProfileRule("PK-04", "Third party controls or accompanies the client", "ID",
                ("FINTRAC-2016-OA003 C5", "FINTRAC-2016-OA003 C6"), col.PROFILE_BRANCH_OBSERVATION, 3.0,
                "victim", True),
    ProfileRule("PK-05", "Someone else's ID or an account for an unqualified minor", "KYC",
                ("FINTRAC-2016-OA003 K3",), col.PROFILE_ID_CONCERN, 3.0, "victim", True),
    ProfileRule("PK-08", "Venue-risk industry (spa, body-rub, strip club, motel, rentals)", "KYC",
                ("FINTRAC-2021-OA001 G36", "FINTRAC-2021-OA001 G37"), col.PROFILE_VENUE_INDUSTRY, 1.0,
                "trafficker", False),
)  # fmt: skip
