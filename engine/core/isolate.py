"""Finding the messages responsible when handling a batch raises.

A batch that raises is split in halves and each half tried again, down to single messages,
so the messages whose handling raises are found in O(k log n) tries (k culprits) and the
rest go on. Only *pure* handling is retried this way (decoding, column building): retrying
a stage that updates state would apply the same rows twice. :func:`pure_stage` is that stage
of :meth:`engine.core.detector.Detector.process`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from engine.core.columnar import decode_transactions
from engine.core.decode import DEFAULT_LIMITS, Message, decode_profile
from engine.core.kernel_columns import transaction_columns
from engine.core.reference import ReferenceLists
from schemas.limits import InputLimits

T = TypeVar("T")


def culprits(items: Sequence[T], handle: Callable[[Sequence[T]], object]) -> list[T]:
    """The items whose handling raises: ``handle`` is tried on halves, recursively."""
    try:
        handle(items)
        return []
    except Exception:  # noqa: BLE001 - finding what raises is the point
        if len(items) <= 1:
            return list(items)
    middle = len(items) // 2
    return culprits(items[:middle], handle) + culprits(items[middle:], handle)


def pure_stage(
    profiles: Sequence[Message],
    transactions: Sequence[Message],
    reference: ReferenceLists,
    limits: InputLimits = DEFAULT_LIMITS,
) -> None:
    """Everything :meth:`~engine.core.detector.Detector.process` does to a batch before it
    touches state: decode every message and build the kernel columns."""
    for message in profiles:
        decode_profile(message, limits)
    if transactions:
        decoded = decode_transactions(transactions, limits)
        if len(decoded):
            transaction_columns(decoded, reference)
