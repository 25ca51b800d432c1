"""Keyed tables: per customer, the last time each distinct key was seen (senders, cities,
devices, payees), for distinct counts in a window.

A table has the ring's ``(ts, ref)`` slots plus the key; the ref is that of the key's most
recent event, so a table serves evidence like a ring. When the table is full the least
recently seen key is replaced.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import EMPTY_TS
from indicators.jit import Int64, helper
from indicators.windows.ring import ring_count


@helper
def keyed_touch(
    keys: NDArray[np.integer[Any]],
    key_ts: NDArray[np.int64],
    key_ref: NDArray[np.int64],
    c: int,
    key: Int64,
    t: Int64,
    ref: Int64,
) -> int:
    """Record that ``key`` was seen at ``t``; replaces the least recently seen key when full.

    Returns the key's slot, for the kernel's own per-key columns.
    """
    slot = -1
    oldest_slot = 0
    oldest = key_ts[c, 0]
    for k in range(keys.shape[1]):
        if keys[c, k] == key and key_ts[c, k] != EMPTY_TS:
            slot = k
            break
        if key_ts[c, k] < oldest:
            oldest = key_ts[c, k]
            oldest_slot = k
    if slot < 0:
        slot = oldest_slot
        keys[c, slot] = key
        key_ts[c, slot] = t
        key_ref[c, slot] = ref
    elif t >= key_ts[c, slot]:
        key_ts[c, slot] = t
        key_ref[c, slot] = ref
    return slot


@helper
def keyed2_touch(
    keys_a: NDArray[np.integer[Any]],
    keys_b: NDArray[np.integer[Any]],
    key_ts: NDArray[np.int64],
    key_ref: NDArray[np.int64],
    c: int,
    a: Int64,
    b: Int64,
    t: Int64,
    ref: Int64,
) -> int:
    """:func:`keyed_touch` for a pair key ``(a, b)`` kept in two arrays; returns the slot."""
    slot = -1
    oldest_slot = 0
    oldest = key_ts[c, 0]
    for k in range(key_ts.shape[1]):
        if keys_a[c, k] == a and keys_b[c, k] == b and key_ts[c, k] != EMPTY_TS:
            slot = k
            break
        if key_ts[c, k] < oldest:
            oldest = key_ts[c, k]
            oldest_slot = k
    if slot < 0:
        slot = oldest_slot
        keys_a[c, slot] = a
        keys_b[c, slot] = b
        key_ts[c, slot] = t
        key_ref[c, slot] = ref
    elif t >= key_ts[c, slot]:
        key_ts[c, slot] = t
        key_ref[c, slot] = ref
    return slot


@helper
def keyed_last(
    keys: NDArray[np.integer[Any]], key_ts: NDArray[np.int64], c: int, key: Int64
) -> Int64:
    """When ``key`` was last seen in customer ``c``'s keyed table (``EMPTY_TS`` if absent)."""
    for k in range(keys.shape[1]):
        if keys[c, k] == key and key_ts[c, k] != EMPTY_TS:
            # numpy's stubs type an array element as Any, so mypy cannot see an int64 here.
            return key_ts[c, k]  # type: ignore[no-any-return]
    return EMPTY_TS


@helper
def keyed_distinct(key_ts: NDArray[np.int64], c: int, lo: Int64, hi: Int64) -> int:
    """Number of distinct keys last seen in ``(lo, hi]``."""
    return ring_count(key_ts, c, lo, hi)
