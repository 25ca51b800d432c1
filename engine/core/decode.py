"""Contract messages → typed rows → kernel columns; anything unusable → a dead letter.

The firehose decodes a whole batch at once: the message values are joined into one JSON
array and decoded by msgspec against :class:`schemas.Transaction` (~700k rows/s, with
the contract's types, enums, patterns and bounds checked in C). Only when that fails is
the batch decoded message by message, to find and explain the bad ones. The hot path
never raises on bad data (STYLE item 6).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

import msgspec
import numpy as np
import polars as pl

from engine.core.hashing import bulk_hash, contact_key, place_key, stable_hash
from engine.core.reference import MATCHABLE_FIELDS, ReferenceLists
from indicators.columns import CHANNEL_CODE, REF_WHITE_LABEL_ATM, TXN_CODE
from schemas import (
    CHANNELS,
    FIELD_PATTERNS,
    FLAG_TYPES,
    TXN_TYPES,
    DeadLetter,
    Profile,
    Transaction,
)

_BATCH_DECODER = msgspec.json.Decoder(list[Transaction])
_ONE_DECODER = msgspec.json.Decoder(Transaction)
_PROFILE_DECODER = msgspec.json.Decoder(Profile)
_ANY_DECODER = msgspec.json.Decoder()
_DEAD_LETTER_ENCODER = msgspec.json.Encoder()
_CHOICES = {
    "txn_type": TXN_TYPES,
    "channel": CHANNELS,
    "terminal_owner": ("fi", "white_label"),
    "party_type": ("person", "entity"),
}
_CHOICES.update({f"flags[{i}].type": FLAG_TYPES for i in range(64)})
_PATTERNS = {name: re.compile(pattern) for name, pattern in FIELD_PATTERNS.items()}
_AT_PATH = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


class Message(NamedTuple):
    """One consumed Kafka record (or one line of a file, with a synthetic offset).

    A NamedTuple rather than a dataclass: one is built per record on the hot path.
    """

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int = 0  # broker / producer timestamp: when the record arrived


@dataclass
class DecodedTransactions:
    rows: list[Transaction] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)  # the event ref of each row
    arrivals_ms: list[int] = field(default_factory=list)  # Kafka timestamp of each row
    values: list[bytes] = field(default_factory=list)  # each row's message value, kept for evidence
    dead: list[DeadLetter] = field(default_factory=list)


def decode_transactions(messages: Sequence[Message]) -> DecodedTransactions:
    """Validate a batch of ``transactions`` messages against the contract."""
    out = DecodedTransactions()
    values = [m.value for m in messages]
    if values and all(_looks_like_object(v) for v in values):
        try:
            rows = _BATCH_DECODER.decode(b"[" + b",".join(values) + b"]")  # type: ignore[arg-type]
        except (msgspec.DecodeError, msgspec.ValidationError):
            rows = None
        if rows is not None and len(rows) == len(messages):
            _accept_all(out, messages, rows)
            return out
    for message in messages:  # slow path: find and explain the bad ones
        if message.value is None:
            out.dead.append(dead_letter(message, "message has no value (tombstone); a transaction "
                                        "cannot be deleted", "empty_message"))
            continue
        try:
            row = _ONE_DECODER.decode(message.value)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            out.dead.append(dead_letter(message, *describe_error(exc, message.value)))
            continue
        _accept_all(out, [message], [row])
    return out


def _looks_like_object(value: bytes | None) -> bool:
    # Joining values into one array is only safe when each is a single JSON object.
    return bool(value) and value.lstrip()[:1] == b"{" and value.rstrip()[-1:] == b"}"  # type: ignore[union-attr]


def _accept_all(out: DecodedTransactions, messages: Sequence[Message], rows: list[Transaction]) -> None:
    problems = _pattern_problems(rows)
    for i, (message, row) in enumerate(zip(messages, rows, strict=True)):
        problem = problems.get(i) or _semantic_problem(message, row)
        if problem:
            out.dead.append(dead_letter(message, *problem))
        else:
            out.rows.append(row)
            out.offsets.append(message.offset)
            out.arrivals_ms.append(message.timestamp_ms)
            out.values.append(message.value)  # type: ignore[arg-type]


def _pattern_problems(rows: list[Transaction]) -> dict[int, tuple[str, str]]:
    """FIELD_PATTERNS checked column by column (polars' regex engine, no Python per row);
    returns the rows that fail. Absent optional fields are not checked."""
    problems: dict[int, tuple[str, str]] = {}
    for name, pattern in _PATTERNS.items():
        values = pl.Series(name, [getattr(r, name) for r in rows], dtype=pl.Utf8)
        failing = values.str.contains(pattern.pattern).not_().fill_null(False)
        if failing.any():
            for i in np.flatnonzero(failing.to_numpy()).tolist():
                problems.setdefault(
                    i, (f"{name}: expected a string matching {pattern.pattern}, got {values[i]!r}", "invalid_field")
                )
    return problems


def _semantic_problem(message: Message, row: Transaction) -> tuple[str, str] | None:
    """Checks msgspec cannot express: finite money, and the key matching the subject."""
    if message.key is not None and message.key != row.customer_id.encode():
        return (
            f"key {message.key[:80]!r} does not match customer_id {row.customer_id!r}; produce "
            "with key = customer_id so each customer's events stay in one partition",
            "key_mismatch",
        )
    for name in ("amount", "amount_cad"):
        value = getattr(row, name)
        if value is not None and not math.isfinite(float(value)):
            return f"{name}: expected a finite number >= 0, got {value!r}", "invalid_field"
    return None


def describe_error(exc: Exception, raw: bytes) -> tuple[str, str]:
    """A reason a person can act on, and its class (a bounded metric label)."""
    if not isinstance(exc, msgspec.ValidationError):  # ValidationError subclasses DecodeError
        return f"not valid JSON: {exc}", "invalid_json"
    match = _AT_PATH.match(str(exc))
    msg, path = (match["msg"], match["path"] or "") if match else (str(exc), "")
    field_name = path.lstrip(".") or "message"
    if "missing required field" in msg:
        return f"{msg.replace('Object missing required field', 'missing required field')}", "missing_field"
    got = _value_at(raw, path)
    if field_name in ("amount", "amount_cad"):
        msg = "expected a finite number >= 0 (JSON number or decimal string like \"12.50\")"
    if field_name in _CHOICES:
        msg = f"expected one of {', '.join(_CHOICES[field_name])}"
    reason = f"{field_name}: {msg[:1].lower()}{msg[1:]}"
    if got is not None and repr(got) not in reason:
        reason += f", got {got!r}"
    return reason, "invalid_field" if path else "invalid_type"


def _value_at(raw: bytes, path: str) -> object | None:
    try:
        node = _ANY_DECODER.decode(raw)
        for part in filter(None, re.split(r"\.|\[(\d+)\]", path)):
            node = node[int(part)] if part.isdigit() else node[part]
        return node if not isinstance(node, dict | list) else None
    except Exception:  # noqa: BLE001 - only used to enrich a message
        return None


def dead_letter(message: Message, reason: str, reason_class: str) -> DeadLetter:
    key_text, key_encoding = _text_or_base64(message.key)
    value_text, value_encoding = _text_or_base64(message.value)
    return DeadLetter(
        source_topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=key_text,
        key_encoding=key_encoding,
        value=value_text,
        value_encoding=value_encoding,
        reason=reason,
        reason_class=reason_class,
        received_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
    )


def encode_dead_letter(letter: DeadLetter) -> bytes:
    return _DEAD_LETTER_ENCODER.encode(letter)


def _text_or_base64(data: bytes | None) -> tuple[str | None, str]:
    if data is None:
        return None, "utf-8"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def decode_profile(message: Message) -> Profile | DeadLetter | None:
    """A profile, ``None`` for a tombstone (delete), or a dead letter."""
    if message.value is None:
        return None
    try:
        profile = _PROFILE_DECODER.decode(message.value)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return dead_letter(message, *describe_error(exc, message.value))
    if message.key is not None and message.key != profile.customer_id.encode():
        return dead_letter(
            message,
            f"key {message.key[:80]!r} does not match customer_id {profile.customer_id!r}",
            "key_mismatch",
        )
    return profile


def _hash_column(values: list[str | None]) -> np.ndarray:
    """Stable hashes of a column, 0 for missing. Values repeat heavily within a batch, so
    hashing each distinct value once and mapping back is far cheaper than a call per row."""
    lookup = {v: stable_hash(v) for v in set(values) if v}
    lookup[None] = 0
    lookup[""] = 0
    return np.array([lookup[v] for v in values], dtype=np.int64)


def _place_column(cities: list[str | None], provinces: list[str | None]) -> np.ndarray:
    pairs = list(zip(cities, provinces, strict=True))
    lookup = {}
    for city, province in set(pairs):
        key = place_key(city, province)
        lookup[(city, province)] = stable_hash(key) if key else 0
    return np.array([lookup[p] for p in pairs], dtype=np.int64)


def _offset_seconds(stamps: list[datetime]) -> np.ndarray:
    # Offsets repeat (a handful of zones): resolve each distinct tzinfo once.
    zones = [d.tzinfo for d in stamps]
    offset = {z: z.utcoffset(None).total_seconds() for z in set(zones)}  # type: ignore[union-attr]
    return np.array([offset[z] for z in zones], dtype=np.int64)


def transaction_columns(
    rows: Sequence[Transaction], refs: Sequence[int], reference: ReferenceLists
) -> dict[str, np.ndarray]:
    """Kernel columns (``indicators.columns.BATCH_COLUMNS``) except ``cust``, which the state assigns."""
    stamps = [r.ts for r in rows]
    ts = np.floor(np.array([d.timestamp() for d in stamps], dtype=np.float64)).astype(np.int64)
    local = ts + _offset_seconds(stamps)
    text = pl.DataFrame(
        {name: [getattr(r, name) for r in rows] for name in MATCHABLE_FIELDS},
        schema={name: pl.Utf8 for name in MATCHABLE_FIELDS},
    )
    ref_flags = reference.flags(text)
    white_label = np.array([r.terminal_owner == "white_label" for r in rows], dtype=bool)
    ref_flags = ref_flags | np.where(white_label, np.int64(REF_WHITE_LABEL_ATM), np.int64(0))
    nan = float("nan")
    return {
        "seq": np.asarray(refs, dtype=np.int64),
        "ts": ts,
        "local_day": (local // 86_400).astype(np.int32),
        "local_tod": (local % 86_400).astype(np.int32),
        "txn_type": np.array([TXN_CODE[r.txn_type] for r in rows], dtype=np.int8),
        "channel": np.array([CHANNEL_CODE[r.channel] for r in rows], dtype=np.int8),
        "amount": np.array([_cad(r) for r in rows], dtype=np.float64),
        "balance": np.array(
            [nan if r.balance_after is None else float(r.balance_after) for r in rows], dtype=np.float64
        ),
        "mcc": np.array([-1 if r.mcc is None else int(r.mcc) for r in rows], dtype=np.int16),
        "city": _place_column([r.city for r in rows], [r.province for r in rows]),
        "province": _hash_column([r.province.upper() if r.province else None for r in rows]),
        "location": _hash_column([r.location_id for r in rows]),
        "merchant": _hash_column([r.merchant_id or _descriptor(r.merchant_name) for r in rows]),
        "counterparty": _hash_column(
            [r.counterparty_id or _email(r.counterparty_email) or r.counterparty_phone or r.counterparty_name
             for r in rows]
        ),
        "ref_flags": ref_flags,
        "attempted": np.array([r.attempted for r in rows], dtype=np.int8),
        "account": _hash_column([r.account_id for r in rows]),
        "card": _hash_column([r.card_id for r in rows]),
        "device": _hash_column([r.device_id or r.ip for r in rows]),
        # transaction ids are all distinct: hashed in bulk (they are only compared with each other)
        "txn_key": bulk_hash([r.txn_id for r in rows]),
        "linked": bulk_hash([r.linked_txn_id for r in rows]),
        "foreign": np.array([_foreign(r) for r in rows], dtype=np.int8),
        "cp_contact": _contact_column(rows),
    }


def _email(email: str | None) -> str | None:
    return email.strip().casefold() if email else None  # e-mail addresses are case-blind in practice


def _contact_column(rows: Sequence[Transaction]) -> np.ndarray:
    pairs = [(r.counterparty_email, r.counterparty_phone) for r in rows]
    lookup = {pair: contact_key(*pair) for pair in set(pairs)}
    return np.array([lookup[p] for p in pairs], dtype=np.int64)


def _foreign(row: Transaction) -> bool:
    return (row.counterparty_country not in (None, "CA")) or (row.country not in (None, "CA"))


def _cad(row: Transaction) -> float:
    """The CAD value; NaN when another currency comes without ``amount_cad``."""
    if row.currency == "CAD":
        return float(row.amount)
    return float(row.amount_cad) if row.amount_cad is not None else float("nan")


def _descriptor(name: str | None) -> str | None:
    return " ".join(name.upper().split()) if name else None
