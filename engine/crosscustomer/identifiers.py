"""The cross-customer stage: which customers share an identifier (PP-19).

Per-customer state cannot see that three customers gave the same phone number. So the
firehose emits *observations* (identifier, holder) to the ``identifier-observations``
topic keyed by the identifier; a Faust agent, partitioned by identifier, keeps each
identifier's holders in a changelog-backed table and, once ``min_holders`` customers share
it, sends a *finding* about each holder to the ``findings`` topic keyed by customer id.
The firehose joins findings into the holder's state like a profile fact, so they raise
the score of that customer's next alert.

Eventually consistent by design: a finding arrives some time after the profile that
completes the group, so the backtest (which has no second stage) and the stream agree
only with ``cross_customer = false``.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from engine import pseudonyms
from schemas import Profile

MAX_HOLDERS = 32  # bounded per identifier: the finding needs a handful, not everyone


class Observation(msgspec.Struct, kw_only=True):
    identifier: str  # "phone:<digest>", "email:<digest>", "address:<digest>"
    kind: str
    customer_id: str


class Finding(msgspec.Struct, kw_only=True):
    customer_id: str
    rule: str
    kind: str
    holders: int
    identifier: str


_FINDING: msgspec.json.Decoder[Finding] = msgspec.json.Decoder(Finding)
_ENCODER = msgspec.json.Encoder()
# The profile fact (indicators.inputs) each rule's finding sets in its holder's state.
FINDING_FACTS = {"PP-19": "shared_identifier"}


def _digest(kind: str, value: str) -> str:
    # Identifiers are personal data: the topic carries a keyed digest, never the value.
    return f"{kind}:{pseudonyms.keyed_hex(kind, value, 12)}"


def _normal_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone.split("x")[0])
    return digits[-10:] if len(digits) >= 10 else digits


def profile_observations(profile: Profile) -> list[tuple[bytes, bytes]]:
    """(key, value) messages for every identifier on a profile."""
    seen: dict[str, str] = {}
    for phone in profile.phones:
        if _normal_phone(phone):
            seen[
                _digest(
                    "phone", _normal_phone(phone) + (phone.split("x")[1] if "x" in phone else "")
                )
            ] = "phone"
    for email in profile.emails:
        if "@" in email:
            seen[_digest("email", email.strip().lower())] = "email"
    for address in profile.addresses:
        normal = " ".join(address.upper().replace(",", " ").split())
        if normal:
            seen[_digest("address", normal)] = "address"
    return [
        (
            key.encode(),
            _ENCODER.encode(
                Observation(identifier=key, kind=kind, customer_id=profile.customer_id)
            ),
        )
        for key, kind in seen.items()
    ]


def update_holders(
    entry: dict[str, Any], observation: Observation, min_holders: int
) -> tuple[dict[str, Any], list[Finding]]:
    """Fold one observation into an identifier's table entry; returns findings to send.

    ``entry`` is ``{"holders": [customer ids, oldest first], "notified": [...]}``.
    """
    holders = list(entry.get("holders", []))
    notified = list(entry.get("notified", []))
    if observation.customer_id not in holders:
        holders.append(observation.customer_id)
        holders = holders[-MAX_HOLDERS:]
    findings = []
    if len(holders) >= min_holders:
        for customer in holders:
            if customer not in notified:
                notified.append(customer)
                findings.append(
                    Finding(
                        customer_id=customer,
                        rule="PP-19",
                        kind=observation.kind,
                        holders=len(holders),
                        identifier=observation.identifier,
                    )
                )
        notified = notified[-MAX_HOLDERS:]
    return {"holders": holders, "notified": notified}, findings


def decode_finding(value: bytes | None) -> Finding | None:
    try:
        return _FINDING.decode(value) if value else None
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
