"""Contract messages → typed rows → kernel columns; anything unusable → a dead letter.

Each message value is first framed (present, within the size limit, not nested too deep:
:mod:`schemas.limits`), then decoded on its own by msgspec against :class:`schemas.Transaction`
(types, enums, string lengths and bounds checked in C), then checked column-wise (patterns,
by polars) and per row where msgspec cannot (key = customer_id, money within the limit,
event time within bounds). Every failure becomes a dead letter with a reason a person can
act on and a bounded reason class; the hot path never raises on bad data (STYLE item 6).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, NamedTuple

import msgspec
import numpy as np
import polars as pl

from engine.core.hashing import bulk_hash, contact_key, place_key, stable_hash
from engine.core.reference import MATCHABLE_FIELDS, ReferenceLists
from indicators.columns import CHANNEL_CODE, TXN_CODE
from indicators.registry import LAYOUT
from indicators.vocabulary import counterparty_key_text
from schemas import (
    CHANNELS,
    FIELD_PATTERNS,
    FLAG_TYPES,
    TXN_TYPES,
    DeadLetter,
    Profile,
    Transaction,
)
from schemas.limits import EARLIEST_EVENT, LATEST_EVENT, InputLimits

DEFAULT_LIMITS = InputLimits()
_ONE_DECODER: msgspec.json.Decoder[Transaction] = msgspec.json.Decoder(Transaction)
_PROFILE_DECODER: msgspec.json.Decoder[Profile] = msgspec.json.Decoder(Profile)
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


def decode_transactions(
    messages: Sequence[Message], limits: InputLimits = DEFAULT_LIMITS
) -> DecodedTransactions:
    """Validate a batch of ``transactions`` messages against the contract and the limits.

    Each value is decoded on its own (never joined with its neighbours: two invalid halves
    must not make one valid array), by msgspec in C; a value that fails is explained.
    """
    out = DecodedTransactions()
    accepted: list[Message] = []
    rows: list[Transaction] = []
    for message in messages:
        problem = frame_problem(message, limits.max_transaction_bytes, limits)
        if problem is None:
            try:
                row = _ONE_DECODER.decode(message.value)  # type: ignore[arg-type]
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                problem = describe_error(exc, message.value)  # type: ignore[arg-type]
        if problem is None:
            accepted.append(message)
            rows.append(row)
        else:
            out.dead.append(dead_letter(message, *problem))
    _accept_all(out, accepted, rows, limits)
    return out


def frame_problem(
    message: Message, max_bytes: int, limits: InputLimits = DEFAULT_LIMITS
) -> tuple[str, str] | None:
    """What makes a message unusable before it is decoded: no value, too large, too deep."""
    value = message.value
    if value is None:
        return (
            "message has no value (tombstone); a transaction cannot be deleted",
            "empty_message",
        )
    if len(value) > max_bytes:
        return f"message of {len(value):,} bytes exceeds the limit of {max_bytes:,}", "oversize"
    if value.count(b"{") + value.count(b"[") > limits.max_depth:  # cheap: almost never true
        depth = json_depth(value)
        if depth > limits.max_depth:
            return (f"JSON nested {depth} deep exceeds the limit of {limits.max_depth}", "too_deep")
    return None


def json_depth(value: bytes) -> int:
    """The deepest nesting of objects and arrays in ``value`` (brackets inside strings do
    not count). Linear, no recursion: safe on any input."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in value:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):  # { [
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x7D, 0x5D):
            depth -= 1
    return deepest


def _accept_all(
    out: DecodedTransactions,
    messages: Sequence[Message],
    rows: list[Transaction],
    limits: InputLimits,
) -> None:
    problems = _pattern_problems(rows)
    for i, (message, row) in enumerate(zip(messages, rows, strict=True)):
        problem = problems.get(i) or _semantic_problem(message, row, limits)
        if problem:
            out.dead.append(dead_letter(message, *problem))
        else:
            out.rows.append(row)
            out.offsets.append(message.offset)
            out.arrivals_ms.append(message.timestamp_ms)
            out.values.append(message.value)  # type: ignore[arg-type]


def mcc_text(mcc: str | int | None) -> str | None:
    """The MCC as its four-digit string: the contract allows a JSON string or a number."""
    return f"{mcc:04d}" if isinstance(mcc, int) else mcc


def _pattern_problems(rows: list[Transaction]) -> dict[int, tuple[str, str]]:
    """FIELD_PATTERNS checked column by column (polars' regex engine, no Python per row);
    returns the rows that fail. Absent optional fields are not checked."""
    problems: dict[int, tuple[str, str]] = {}
    for name, pattern in _PATTERNS.items():
        column = [getattr(r, name) for r in rows]
        if name == "mcc":
            column = [mcc_text(v) for v in column]
        values = pl.Series(name, column, dtype=pl.Utf8)
        failing = values.str.contains(pattern.pattern).not_().fill_null(False)
        if failing.any():
            for i in np.flatnonzero(failing.to_numpy()).tolist():
                problems.setdefault(
                    i,
                    (
                        f"{name}: expected a string matching {pattern.pattern}, got {values[i]!r}",
                        "invalid_field",
                    ),
                )
    return problems


def _semantic_problem(
    message: Message, row: Transaction, limits: InputLimits
) -> tuple[str, str] | None:
    """Checks msgspec cannot express: the key matching the subject, finite money within the
    limit, an event time within bounds."""
    if message.key is not None and message.key != row.customer_id.encode():
        return (
            f"key {message.key[:80]!r} does not match customer_id {row.customer_id!r}; produce "
            "with key = customer_id so each customer's events stay in one partition",
            "key_mismatch",
        )
    for name in ("amount", "amount_cad", "balance_after"):
        value = getattr(row, name)
        if value is None:
            continue
        number = float(value)
        if not math.isfinite(number):
            return f"{name}: expected a finite number >= 0, got {value!r}", "invalid_field"
        if abs(number) > limits.max_amount:
            return (
                f"{name}: {value!r} exceeds the limit of {limits.max_amount:,.0f}",
                "out_of_range",
            )
    return time_problem(row.ts, message.timestamp_ms, limits)


def time_problem(
    ts: datetime, arrival_ms: int, limits: InputLimits = DEFAULT_LIMITS
) -> tuple[str, str] | None:
    """``ts`` outside the absolute bounds, or too far from when the record arrived."""
    try:
        seconds = ts.timestamp()
    except (OverflowError, ValueError):
        seconds = float("nan")
    if not EARLIEST_EVENT <= seconds < LATEST_EVENT:
        return (
            f"ts: {ts.isoformat()} is outside {_iso(EARLIEST_EVENT)} to {_iso(LATEST_EVENT)}",
            "out_of_range",
        )
    if arrival_ms > 0:
        ahead = seconds - arrival_ms / 1000
        if ahead > limits.max_future_s:
            return (
                f"ts: {ts.isoformat()} is {ahead / 3600:,.1f} h after the record arrived "
                f"(limit {limits.max_future_s / 3600:g} h)",
                "out_of_range",
            )
        if -ahead > limits.max_past_s:
            return (
                f"ts: {ts.isoformat()} is {-ahead / 86_400:,.0f} days before the record "
                f"arrived (limit {limits.max_past_s / 86_400:g} days)",
                "out_of_range",
            )
    return None


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def describe_error(exc: Exception, raw: bytes) -> tuple[str, str]:
    """A reason a person can act on, and its class (a bounded metric label)."""
    if not isinstance(exc, msgspec.ValidationError):  # ValidationError subclasses DecodeError
        return f"not valid JSON: {exc}", "invalid_json"
    match = _AT_PATH.match(str(exc))
    msg, path = (match["msg"], match["path"] or "") if match else (str(exc), "")
    field_name = path.lstrip(".") or "message"
    if "missing required field" in msg:
        return (
            f"{msg.replace('Object missing required field', 'missing required field')}",
            "missing_field",
        )
    got = _value_at(raw, path)
    if field_name in ("amount", "amount_cad"):
        msg = 'expected a finite number >= 0 (JSON number or decimal string like "12.50")'
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


def _text_or_base64(data: bytes | None) -> tuple[str | None, Literal["utf-8", "base64"]]:
    if data is None:
        return None, "utf-8"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def decode_profile(
    message: Message, limits: InputLimits = DEFAULT_LIMITS
) -> Profile | DeadLetter | None:
    """A profile, ``None`` for a tombstone (delete), or a dead letter."""
    if message.value is None:
        return None
    problem = frame_problem(message, limits.max_profile_bytes, limits)
    if problem is not None:
        return dead_letter(message, *problem)
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
    lookup: dict[str | None, int] = {v: stable_hash(v) for v in set(values) if v}
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
    """Kernel columns (``indicators.columns.BATCH_COLUMNS``) except ``cust``, which the state
    assigns."""
    stamps = [r.ts for r in rows]
    ts = np.floor(np.array([d.timestamp() for d in stamps], dtype=np.float64)).astype(np.int64)
    local = ts + _offset_seconds(stamps)
    text = pl.DataFrame(
        {name: [getattr(r, name) for r in rows] for name in MATCHABLE_FIELDS},
        schema={name: pl.Utf8 for name in MATCHABLE_FIELDS},
    )
    ref_flags = reference.flags(text)
    white_label = np.array([r.terminal_owner == "white_label" for r in rows], dtype=bool)
    white_label_bit = np.int64(LAYOUT.bit("reference", "white_label_atms"))
    ref_flags = ref_flags | np.where(white_label, white_label_bit, np.int64(0))
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
            [nan if r.balance_after is None else float(r.balance_after) for r in rows],
            dtype=np.float64,
        ),
        "mcc": np.array([-1 if r.mcc is None else int(r.mcc) for r in rows], dtype=np.int16),
        "city": _place_column([r.city for r in rows], [r.province for r in rows]),
        "province": _hash_column([r.province.upper() if r.province else None for r in rows]),
        "location": _hash_column([r.location_id for r in rows]),
        "merchant": _hash_column([r.merchant_id or _descriptor(r.merchant_name) for r in rows]),
        "counterparty": _hash_column(
            [
                counterparty_key_text(
                    r.counterparty_id,
                    r.counterparty_email,
                    r.counterparty_phone,
                    r.counterparty_name,
                )
                for r in rows
            ]
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
