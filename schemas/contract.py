"""The data contract (`CONTRACT.md`) as typed structs: the executable form of the topics.

These structs are the single source of truth for field names and constraints. The JSON
Schema files beside this module are generated from them (``python -m schemas``) and a test
keeps the two in step, so a producer written in another language can validate against the
files while the engine validates with msgspec at ~700k rows/s.

Extra fields are accepted and ignored (CONTRACT: "Extra optional fields are allowed").
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

TXN_TYPES = (
    "purchase", "refund", "reversal", "preauth", "cash_deposit", "cash_withdrawal",
    "cash_advance", "emt_in", "emt_out", "wire_in", "wire_out", "eft_in", "eft_out",
    "transfer_in", "transfer_out", "bill_payment", "prepaid_load", "card_to_card",
    "vc_buy", "vc_sell", "casino_buy_in", "casino_cash_out",
)  # fmt: skip
CHANNELS = ("branch", "atm", "pos", "ecom", "online", "mobile", "msb", "other")
# The last type extends CONTRACT §2 (an extra value, nothing renamed): an OSINT vendor's
# foreign-recruitment match, which completes PK-09 (FINTRAC-2021-OA001 X1-X6).
FLAG_TYPES = (
    "adverse_media",
    "escort_ad_match",
    "reported_address",
    "branch_observation",
    "id_concern",
    "foreign_recruitment",
)
ROLE_HYPOTHESES = ("possible_victim", "suspected_trafficker", "collector_nominee", "unknown")
FAMILIES = (
    "ADV",
    "LODGE",
    "TRAVEL",
    "LIVING",
    "CASHGEO",
    "FUNNEL",
    "RAILS",
    "LUX",
    "PROP",
    "INTL",
    "ID",
    "KYC",
)
# The case workflow (CONTRACT §5 packages carry `status`; analysts' decisions arrive on
# `dispositions`): the engine's statuses and the actions that move between them.
CASE_STATUSES = ("open", "escalated", "filed", "closed_false_positive", "needs_information")
DISPOSITION_ACTIONS = ("escalate", "file", "close_false_positive", "needs_information", "snooze")

TxnType = Literal[TXN_TYPES]  # type: ignore[valid-type]
Channel = Literal[CHANNELS]  # type: ignore[valid-type]
FlagType = Literal[FLAG_TYPES]  # type: ignore[valid-type]

# Regular expressions on hot fields are checked once per distinct value in a batch by the
# decoder (engine.core.decode), not per row inside msgspec: that halves decoding time. The JSON
# Schema files still carry them (schemas.json_schema injects them).
FIELD_PATTERNS = {
    "txn_id": r"^[A-Za-z0-9_-]+$",
    "currency": r"^[A-Z]{3}$",
    "mcc": r"^[0-9]{4}$",
    "country": r"^[A-Z]{2}$",
    "counterparty_country": r"^[A-Z]{2}$",
}

NonEmpty = Annotated[str, Meta(min_length=1, max_length=200)]
TxnId = Annotated[str, Meta(min_length=1, max_length=200)]
# Money: a JSON number or a decimal string, finite and >= 0 (CONTRACT preamble).
Money = Annotated[float, Meta(ge=0)] | Annotated[str, Meta(pattern=r"^[0-9]+(\.[0-9]+)?$")]
SignedMoney = float | Annotated[str, Meta(pattern=r"^-?[0-9]+(\.[0-9]+)?$")]
# RFC 3339 with an explicit offset: the offset is the local one, which "late night" rules need.
Timestamp = Annotated[datetime, Meta(tz=True)]
Currency = Annotated[str, Meta(max_length=3)]
Mcc = Annotated[str, Meta(max_length=4)] | Annotated[int, Meta(ge=0, le=9999)]
Country = Annotated[str, Meta(max_length=2)]
# Every free string has a length limit (schemas/limits.py: a breach is a dead letter): long
# enough for any real name, descriptor or address, short enough that no value can blow up
# a batch's hash arrays.
Text = Annotated[str, Meta(max_length=200)]
LongText = Annotated[str, Meta(max_length=2000)]


class Transaction(msgspec.Struct, kw_only=True, omit_defaults=True):
    """CONTRACT §1: one posted or attempted transaction, keyed by ``customer_id``."""

    txn_id: TxnId
    re_id: NonEmpty
    ts: Timestamp
    customer_id: NonEmpty
    account_id: NonEmpty
    txn_type: TxnType
    channel: Channel
    amount: Money
    currency: Currency
    amount_cad: Money | None = None
    balance_after: SignedMoney | None = None
    mcc: Mcc | None = None
    merchant_id: Text | None = None
    merchant_name: Text | None = None
    city: Text | None = None
    province: Text | None = None
    country: Country | None = None
    location_id: Text | None = None
    terminal_owner: Literal["fi", "white_label"] | None = None
    counterparty_id: Text | None = None
    counterparty_name: Text | None = None
    counterparty_email: Text | None = None
    counterparty_phone: Text | None = None
    counterparty_country: Country | None = None
    memo: Annotated[str, Meta(max_length=1000)] | None = None
    linked_txn_id: Text | None = None
    card_id: Text | None = None
    device_id: Text | None = None
    ip: Text | None = None
    attempted: bool = False


class ProfileFlag(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An outside-information flag on a profile (adverse media, branch observation, ...)."""

    type: FlagType
    source: Text | None = None
    ts: Text | None = None
    detail: LongText | None = None


class Profile(msgspec.Struct, kw_only=True, omit_defaults=True):
    """CONTRACT §2: the latest KYC view of a customer (compacted topic; null value deletes)."""

    customer_id: NonEmpty
    party_type: Literal["person", "entity"] | None = None
    name: Text | None = None
    aliases: Annotated[list[Text], Meta(max_length=50)] = []
    birth_date: Text | None = None
    home_city: Text | None = None
    home_province: Text | None = None
    home_country: Text | None = None
    occupation: Text | None = None
    industry_code: Text | None = None
    declared_income_cad: Money | None = None
    expected_monthly_cad: Money | None = None
    phones: Annotated[list[Text], Meta(max_length=50)] = []
    emails: Annotated[list[Text], Meta(max_length=50)] = []
    addresses: Annotated[list[Text], Meta(max_length=50)] = []
    flags: Annotated[list[ProfileFlag], Meta(max_length=64)] = []


class AlertIndicator(msgspec.Struct, kw_only=True):
    """One indicator inside an alert: what was observed against which threshold, and why."""

    id: str
    title: str
    family: str
    sources: list[str]
    observed: float
    threshold: float
    window: str
    evidence_txn_ids: list[str]


class Alert(msgspec.Struct, kw_only=True):
    """CONTRACT §4: a suspicious-transaction candidate, keyed by ``customer_id``."""

    alert_id: str
    customer_id: str
    role_hypothesis: Literal[ROLE_HYPOTHESES]  # type: ignore[valid-type]
    score: float
    families: list[str]
    indicators: list[AlertIndicator]
    window_start: str
    window_end: str
    created_at: str
    ppp_code: Literal["PROTECT"]
    engine_version: str
    config_hash: str
    trigger_txn_id: str
    trigger: str
    transactions: list[Transaction] = []  # the evidence transactions in full, oldest first
    # Evidence rows left out of ``transactions`` because the alert with them was larger than
    # the broker accepts (their ids stay in indicators[].evidence_txn_ids). 0 normally.
    transactions_omitted: int = 0


class DeadLetter(msgspec.Struct, kw_only=True):
    """CONTRACT §6: an input message the engine could not use, with a reason a person can act on."""

    source_topic: str
    partition: int
    offset: int
    key: str | None
    key_encoding: Literal["utf-8", "base64"]
    value: str | None
    value_encoding: Literal["utf-8", "base64"]
    reason: str
    reason_class: str
    received_at: str


CONTRACT_TYPES: dict[str, type] = {
    "transaction": Transaction,
    "profile": Profile,
    "alert": Alert,
    "dead_letter": DeadLetter,
}
