"""Rings: a fixed number of ``(ts, ref)`` slots per customer holding its most recent events.

A ring may carry more per-slot columns beside ``ts`` and ``ref`` (a key, a value, a flag),
kept by the kernel at the slot an insert returns. When the ring is full the oldest slot is
reused, so a count saturates at the ring size, which is chosen above every threshold that
reads it. A window ending at ``hi`` covers ``lo < ts <= hi``; free slots hold ``EMPTY_TS``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import EMPTY_TS
from indicators.jit import Int64, helper


@helper
def ring_oldest(ring_ts: NDArray[np.int64], c: int) -> int:
    """Slot of customer ``c``'s oldest entry, the first one on a tie (a free slot if any).

    For rings that keep times and values but no refs (``ring_insert`` needs a ref array).
    """
    slot = 0
    oldest = ring_ts[c, 0]
    for k in range(1, ring_ts.shape[1]):
        if ring_ts[c, k] < oldest:
            oldest = ring_ts[c, k]
            slot = k
    return slot


@helper
def ring_insert(
    ring_ts: NDArray[np.int64], ring_ref: NDArray[np.int64], c: int, t: Int64, ref: Int64
) -> int:
    """Store event ``(t, ref)`` in customer ``c``'s ring, reusing the oldest slot; returns it."""
    slot = ring_oldest(ring_ts, c)
    ring_ts[c, slot] = t
    ring_ref[c, slot] = ref
    return slot


@helper
def ring_insert_latest(
    ring_ts: NDArray[np.int64], ring_ref: NDArray[np.int64], c: int, t: Int64, ref: Int64
) -> int:
    """Store ``(t, ref)`` in the slot of the oldest entry, ties broken by the smaller ref.

    Unlike :func:`ring_insert` (first oldest slot), a ring of ``EVIDENCE_SLOTS`` kept this
    way always holds exactly the newest events in evidence order, so it can serve evidence
    for a count kept elsewhere (day buckets). Returns the slot.
    """
    slot = 0
    for k in range(1, ring_ts.shape[1]):
        if ring_ts[c, k] < ring_ts[c, slot] or (
            ring_ts[c, k] == ring_ts[c, slot] and ring_ref[c, k] < ring_ref[c, slot]
        ):
            slot = k
    ring_ts[c, slot] = t
    ring_ref[c, slot] = ref
    return slot


@helper
def ring_count(ring_ts: NDArray[np.int64], c: int, lo: Int64, hi: Int64) -> int:
    """Number of ring entries with ``lo < ts <= hi``."""
    n = 0
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        if lo < t <= hi:
            n += 1
    return n


@helper
def ring_count_eq(
    ring_ts: NDArray[np.int64],
    ring_key: NDArray[np.integer[Any]],
    c: int,
    key: Int64,
    lo: Int64,
    hi: Int64,
) -> int:
    """Number of entries with ``lo < ts <= hi`` and ``ring_key == key``."""
    n = 0
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        if lo < t <= hi and ring_key[c, k] == key:
            n += 1
    return n


@helper
def ring_count_except(
    ring_ts: NDArray[np.int64],
    ring_key: NDArray[np.integer[Any]],
    c: int,
    lo: Int64,
    hi: Int64,
    skip: Int64,
) -> int:
    """Number of entries with ``lo < ts <= hi`` and ``ring_key != skip``.

    On a keyed table (one entry per key) this is the number of distinct keys other than
    ``skip`` last seen in the window (cities other than the home city).
    """
    n = 0
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        if lo < t <= hi and ring_key[c, k] != skip:
            n += 1
    return n


@helper
def ring_count_where(
    ring_ts: NDArray[np.int64],
    ring_val: NDArray[np.number[Any]],
    c: int,
    lo: Int64,
    hi: Int64,
    val_lo: float | np.number[Any],
    val_hi: float | np.number[Any],
) -> int:
    """Number of entries with ``lo < ts <= hi`` and ``val_lo <= val < val_hi``."""
    n = 0
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        v = ring_val[c, k]
        if lo < t <= hi and val_lo <= v < val_hi:
            n += 1
    return n


@helper
def ring_sum(
    ring_ts: NDArray[np.int64], ring_val: NDArray[np.number[Any]], c: int, lo: Int64, hi: Int64
) -> float:
    """Sum of ``ring_val`` over entries with ``lo < ts <= hi``."""
    s = 0.0
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        if lo < t <= hi:
            s += ring_val[c, k]
    return s


@helper
def ring_sum_eq(
    ring_ts: NDArray[np.int64],
    ring_val: NDArray[np.number[Any]],
    ring_key: NDArray[np.integer[Any]],
    c: int,
    key: Int64,
    lo: Int64,
    hi: Int64,
) -> float:
    """Sum of ``ring_val`` over entries with ``lo < ts <= hi`` and ``ring_key == key``."""
    s = 0.0
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        if lo < t <= hi and ring_key[c, k] == key:
            s += ring_val[c, k]
    return s


@helper
def ring_distinct(
    ring_ts: NDArray[np.int64], ring_key: NDArray[np.integer[Any]], c: int, lo: Int64, hi: Int64
) -> int:
    """Number of distinct non-zero ``ring_key`` values among entries with ``lo < ts <= hi``.

    Quadratic in the ring size, which is small (16 to 32 slots).
    """
    n = 0
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        key = ring_key[c, k]
        if not (lo < t <= hi) or key == 0:
            continue
        seen = False
        for j in range(k):
            if ring_key[c, j] == key and lo < ring_ts[c, j] <= hi:
                seen = True
                break
        if not seen:
            n += 1
    return n


@helper
def ring_oldest_eq(
    ring_ts: NDArray[np.int64],
    ring_ref: NDArray[np.int64],
    ring_key: NDArray[np.integer[Any]],
    c: int,
    key: Int64,
    lo: Int64,
    hi: Int64,
) -> int:
    """Slot of the oldest entry (ties: smaller ref) with ``lo < ts <= hi`` and
    ``ring_key == key``, or -1. FIFO matching of pending events (buy-ins, transfers)."""
    best = -1
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        if not (lo < t <= hi) or ring_key[c, k] != key:
            continue
        if (
            best < 0
            or t < ring_ts[c, best]
            or (t == ring_ts[c, best] and ring_ref[c, k] < ring_ref[c, best])
        ):
            best = k
    return best


@helper
def drain_oldest_eq(
    p_ts: NDArray[np.int64],
    p_ref: NDArray[np.int64],
    p_key: NDArray[np.integer[Any]],
    p_left: NDArray[np.number[Any]],
    done_ts: NDArray[np.int64],
    done_ref: NDArray[np.int64],
    c: int,
    key: Int64,
    amount: float,
    lo: Int64,
    hi: Int64,
) -> bool:
    """Apply ``amount`` first-in first-out to the pending entries with ``p_key == key`` in
    ``(lo, hi]``; an entry whose ``p_left`` reaches 0 leaves the pending ring and enters the
    done ring at ``hi`` (keeping its ref). Returns True when at least one entry completed.
    Shared by the pass-through rules (own-account chains, casino / investment round trips).
    """
    completed = False
    left = amount
    while left > 0.0:
        k = ring_oldest_eq(p_ts, p_ref, p_key, c, key, lo, hi)
        if k < 0:
            break
        take = min(left, p_left[c, k])
        p_left[c, k] -= take
        left -= take
        if p_left[c, k] <= 0.0:
            ring_insert(done_ts, done_ref, c, hi, p_ref[c, k])
            p_ts[c, k] = EMPTY_TS
            completed = True
    return completed
