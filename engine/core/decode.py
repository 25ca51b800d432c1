"""One message at a time: framing, the strict per-row decoder, dead letters, profiles.

Each value is framed first (present, within the size limit, not nested too deep:
:mod:`schemas.limits`), then decoded on its own by msgspec against the contract structs
(types, enums, string lengths and bounds checked in C), then checked where msgspec cannot
(patterns, key = customer_id, money within the limit, event time within bounds). Every
failure becomes a dead letter with a reason a person can act on and a bounded reason class;
nothing here raises on bad data (STYLE item 6). Batches of transactions go through
:mod:`engine.core.columnar`, which comes here only for the rows it cannot vouch for.
"""

from __future__ import annotations

import base64
import math
import re
from datetime import UTC, datetime
from typing import Literal, NamedTuple

import msgspec

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


def explain(
    message: Message, limits: InputLimits = DEFAULT_LIMITS
) -> Transaction | tuple[str, str]:
    """The strict per-row decision on one ``transactions`` message: the row, or why it is
    refused (a reason a person can act on, and its class). msgspec decodes the value on its
    own, in C; then the checks msgspec cannot express. The batch decoder
    (:mod:`engine.core.columnar`) sends here only the rows it cannot vouch for."""
    problem = frame_problem(message, limits.max_transaction_bytes, limits)
    if problem is not None:
        return problem
    try:
        row = _ONE_DECODER.decode(message.value)  # type: ignore[arg-type]
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return describe_error(exc, message.value)  # type: ignore[arg-type]
    return _pattern_problem(row) or _semantic_problem(message, row, limits) or row


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


def mcc_text(mcc: str | int | None) -> str | None:
    """The MCC as its four-digit string: the contract allows a JSON string or a number."""
    return f"{mcc:04d}" if isinstance(mcc, int) else mcc


def _pattern_problem(row: Transaction) -> tuple[str, str] | None:
    """FIELD_PATTERNS on one row (absent optional fields are not checked)."""
    for name, pattern in _PATTERNS.items():
        value = getattr(row, name)
        text = mcc_text(value) if name == "mcc" else value
        if text is not None and not pattern.search(text):
            return (
                f"{name}: expected a string matching {pattern.pattern}, got {text!r}",
                "invalid_field",
            )
    return None


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
