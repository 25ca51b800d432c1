"""Limits on input messages, beyond CONTRACT.md (which allows extra constraints).

Each breach is a dead letter with its own reason class, so an operator can tell a careless
producer (``out_of_range``) from a hostile one (``oversize``, ``too_deep``). String lengths
are part of the contract structs (``schemas/contract.py``: ``Meta(max_length=...)``), checked
in C by msgspec; the limits here are settings (``[limits]`` in the config file).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

KIB = 1024

# Absolute event-time bounds: every timestamp fits int64 seconds, int32 days and a
# ``datetime`` in any offset (year 1 or 9999 with an offset overflows when converted).
EARLIEST_EVENT = int(datetime(1970, 1, 1, tzinfo=UTC).timestamp())
LATEST_EVENT = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class InputLimits:
    """What an input message may be. Defaults suit every CONTRACT message by a wide margin."""

    # Largest message value in bytes: a transaction, a profile, any other input message
    # (reference-list updates, party signals, findings).
    max_transaction_bytes: int = 64 * KIB
    max_profile_bytes: int = 256 * KIB
    max_other_bytes: int = 1024 * KIB
    # JSON nesting: a transaction is 1 deep, a profile 3; msgspec recurses per level.
    max_depth: int = 16
    # Money in CAD (or the message's currency): far above any real transaction, far below
    # what a decimal context or a float32 sum mishandles.
    max_amount: float = 1e12
    # Event time against the broker timestamp (when the record arrived): a clock a day
    # fast is tolerated, a row from the far future is not; history up to ten years back.
    max_future_s: int = 86_400
    max_past_s: int = 3_650 * 86_400


REASON_CLASSES = ("oversize", "too_deep", "out_of_range")
