"""Day buckets: per customer, a circular buffer of sums per local day, for window sums at
day granularity (credits, spend, purchase counts over the last N local days).

Day ``d`` lives in slot ``d % size`` (``size`` = the buffer's second dimension); the third
dimension holds several measures side by side. A slot is reset when a newer day claims it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.jit import helper


@helper
def bucket_add(
    day_key: NDArray[np.integer[Any]],
    sums: NDArray[np.number[Any]],
    c: int,
    day: int,
    j: int,
    value: float,
) -> None:
    """Add ``value`` to measure ``j`` of customer ``c``'s bucket for local ``day``.

    A bucket older than the buffer's span is dropped (it can no longer be in any window).
    """
    slot = day % day_key.shape[1]
    if day_key[c, slot] != day:
        if day < day_key[c, slot]:
            return
        day_key[c, slot] = day
        for m in range(sums.shape[2]):
            sums[c, slot, m] = 0.0
    sums[c, slot, j] += value


# A day's bucket is always ``day % size``, so a short window needs only its own slots: a
# 7-day window over a 128-day buffer reads 7 slots, not 128. A window wider than a quarter
# of the buffer scans all of it in one loop: there, finding its slots (a modulo, a wrap)
# costs more than it saves (measured). Either way slots are visited in ascending order, so
# a float sum is bit-identical to a scan of the whole buffer.


@helper
def _sum_slots(
    day_key: NDArray[np.integer[Any]],
    sums: NDArray[np.number[Any]],
    c: int,
    first_day: int,
    last_day: int,
    j: int,
    k_lo: int,
    k_hi: int,
    s: float,
) -> float:
    """``s`` plus measure ``j`` of slots ``k_lo .. k_hi - 1`` that hold a day in range."""
    for k in range(k_lo, k_hi):
        d = day_key[c, k]
        if first_day <= d <= last_day:
            s += sums[c, k, j]
    return s


@helper
def _count_slots(
    day_key: NDArray[np.integer[Any]],
    sums: NDArray[np.number[Any]],
    c: int,
    first_day: int,
    last_day: int,
    j: int,
    threshold: float,
    k_lo: int,
    k_hi: int,
    n: int,
) -> int:
    """``n`` plus the slots ``k_lo .. k_hi - 1`` holding a day in range whose measure ``j``
    is at least ``threshold``."""
    for k in range(k_lo, k_hi):
        d = day_key[c, k]
        if first_day <= d <= last_day and sums[c, k, j] >= threshold:
            n += 1
    return n


@helper
def bucket_sum(
    day_key: NDArray[np.integer[Any]],
    sums: NDArray[np.number[Any]],
    c: int,
    first_day: int,
    last_day: int,
    j: int,
) -> float:
    """Sum of measure ``j`` over buckets with ``first_day <= day <= last_day``."""
    size = day_key.shape[1]
    days = last_day - first_day + 1
    if days * 4 > size:
        return _sum_slots(day_key, sums, c, first_day, last_day, j, 0, size, 0.0)
    start = first_day % size
    stop = start + days  # at most start when the range is empty
    if stop <= size:
        return _sum_slots(day_key, sums, c, first_day, last_day, j, start, stop, 0.0)
    wrapped = _sum_slots(day_key, sums, c, first_day, last_day, j, 0, stop - size, 0.0)
    return _sum_slots(day_key, sums, c, first_day, last_day, j, start, size, wrapped)


@helper
def bucket_days_at_least(
    day_key: NDArray[np.integer[Any]],
    sums: NDArray[np.number[Any]],
    c: int,
    first_day: int,
    last_day: int,
    j: int,
    threshold: float,
) -> int:
    """Number of buckets with ``first_day <= day <= last_day`` whose measure ``j`` is at
    least ``threshold`` (for example days with three or more food-delivery orders)."""
    size = day_key.shape[1]
    days = last_day - first_day + 1
    if days * 4 > size:
        return _count_slots(day_key, sums, c, first_day, last_day, j, threshold, 0, size, 0)
    start = first_day % size
    stop = start + days
    if stop <= size:
        return _count_slots(day_key, sums, c, first_day, last_day, j, threshold, start, stop, 0)
    wrapped = _count_slots(day_key, sums, c, first_day, last_day, j, threshold, 0, stop - size, 0)
    return _count_slots(day_key, sums, c, first_day, last_day, j, threshold, start, size, wrapped)
