"""Bounded per-customer event-time windows that kernels share.

Three shapes cover the catalogue, each a fixed number of slots per customer, so state
never grows with a customer's activity (the design's bound on bytes per customer):

* **ring**: the most recent relevant events ``(ts, ref)``; counts and evidence in a window.
  When full, the oldest slot is reused, so a count saturates at the ring size, which is
  chosen above every threshold that reads it.
* **keyed table**: the last time each distinct key was seen (senders, cities, locations);
  distinct counts in a window. When full, the least recently seen key is replaced.
* **day buckets**: sums per local day in a circular buffer; window sums at day granularity.

A window ending at ``t`` covers ``(t - width, t]``. Slots with ``ts == EMPTY_TS`` are free.
Helpers are inlined into kernels; none allocates.
"""

from __future__ import annotations

import numpy as np

from indicators.columns import EMPTY_TS, EVIDENCE_SLOTS
from indicators.jit import helper


@helper
def ring_insert(ring_ts, ring_ref, c, t, ref):
    """Store event ``(t, ref)`` in customer ``c``'s ring, reusing the oldest slot; returns it."""
    slot = 0
    oldest = ring_ts[c, 0]
    for k in range(1, ring_ts.shape[1]):
        if ring_ts[c, k] < oldest:
            oldest = ring_ts[c, k]
            slot = k
    ring_ts[c, slot] = t
    ring_ref[c, slot] = ref
    return slot


@helper
def ring_count(ring_ts, c, lo, hi):
    """Number of ring entries with ``lo < ts <= hi``."""
    n = 0
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        if lo < t <= hi:
            n += 1
    return n


@helper
def ring_sum(ring_ts, ring_val, c, lo, hi):
    """Sum of ``ring_val`` over entries with ``lo < ts <= hi``."""
    s = 0.0
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        if lo < t <= hi:
            s += ring_val[c, k]
    return s


@helper
def write_evidence(ring_ts, ring_ref, c, lo, hi, out):
    """Fill ``out`` with the refs of the most recent entries in ``(lo, hi]``, newest first.

    Unused positions are set to -1. Used for rings and keyed tables alike (both keep a
    ``ts`` and a ``ref`` per slot).
    """
    for j in range(EVIDENCE_SLOTS):
        out[j] = -1
    upper = hi  # entries must be older than (upper, upper_ref): moves down as entries are taken
    upper_ref = np.int64(2**62)
    for j in range(EVIDENCE_SLOTS):
        best = -1
        best_t = EMPTY_TS
        best_ref = np.int64(-1)
        for k in range(ring_ts.shape[1]):
            t = ring_ts[c, k]
            r = ring_ref[c, k]
            if t <= lo:
                continue
            # strictly older than the last taken entry, ties broken by ref (deterministic)
            if t > upper or (t == upper and r >= upper_ref):
                continue
            if t > best_t or (t == best_t and r > best_ref):
                best = k
                best_t = t
                best_ref = r
        if best < 0:
            break
        out[j] = best_ref
        upper = best_t
        upper_ref = best_ref


@helper
def keyed_touch(keys, key_ts, key_ref, c, key, t, ref):
    """Record that ``key`` was seen at ``t``; replaces the least recently seen key when full."""
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
def keyed_distinct(key_ts, c, lo, hi):
    """Number of distinct keys last seen in ``(lo, hi]``."""
    return ring_count(key_ts, c, lo, hi)


@helper
def bucket_add(day_key, sums, c, day, j, value):
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


@helper
def bucket_sum(day_key, sums, c, first_day, last_day, j):
    """Sum of measure ``j`` over buckets with ``first_day <= day <= last_day``."""
    s = 0.0
    for k in range(day_key.shape[1]):
        d = day_key[c, k]
        if first_day <= d <= last_day:
            s += sums[c, k, j]
    return s


@helper
def ring_oldest(ring_ts, c):
    """Slot of customer ``c``'s oldest entry (a free slot when there is one).

    For rings that keep only times and values, not refs (``ring_insert`` needs a ref array).
    """
    slot = 0
    oldest = ring_ts[c, 0]
    for k in range(1, ring_ts.shape[1]):
        if ring_ts[c, k] < oldest:
            oldest = ring_ts[c, k]
            slot = k
    return slot


@helper
def ring_count_where(ring_ts, ring_val, c, lo, hi, val_lo, val_hi):
    """Number of entries with ``lo < ts <= hi`` and ``val_lo <= val < val_hi``."""
    n = 0
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        v = ring_val[c, k]
        if lo < t <= hi and val_lo <= v < val_hi:
            n += 1
    return n


@helper
def ring_distinct(ring_ts, ring_key, c, lo, hi):
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
def write_evidence_where(ring_ts, ring_ref, ring_val, c, lo, hi, val_lo, val_hi, out):
    """Like :func:`write_evidence`, restricted to entries with ``val_lo <= val < val_hi``.

    Refs of the most recent such entries in ``(lo, hi]``, newest first (ties: larger ref
    first); unused positions are -1.
    """
    for j in range(EVIDENCE_SLOTS):
        out[j] = -1
    upper = hi  # entries must be older than the last one taken (or at most hi at first)
    upper_ref = np.int64(2**62)
    for j in range(EVIDENCE_SLOTS):
        best = -1
        best_t = EMPTY_TS
        best_ref = np.int64(-1)
        for k in range(ring_ts.shape[1]):
            t = ring_ts[c, k]
            r = ring_ref[c, k]
            v = ring_val[c, k]
            if t <= lo or not (val_lo <= v < val_hi):
                continue
            if t > upper or (t == upper and r >= upper_ref):
                continue
            if t > best_t or (t == best_t and r > best_ref):
                best = k
                best_t = t
                best_ref = r
        if best < 0:
            break
        out[j] = best_ref
        upper = best_t
        upper_ref = best_ref


# --------------------------------------------------------------------------------------------
# Appended by the `rails` group (PP-14, PP-15, PP-20, PP-21, PP-23 ... PP-28): key lookups,
# key-filtered counts, FIFO matching and evidence, and evidence merged from two rings. Like
# the helpers above none allocates; these evidence writers fill ``out`` up to its own length.


@helper
def keyed_last(keys, key_ts, c, key):
    """When ``key`` was last seen in customer ``c``'s keyed table (``EMPTY_TS`` if absent)."""
    for k in range(keys.shape[1]):
        if keys[c, k] == key and key_ts[c, k] != EMPTY_TS:
            return key_ts[c, k]
    return EMPTY_TS


@helper
def keyed2_touch(keys_a, keys_b, key_ts, key_ref, c, a, b, t, ref):
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
def ring_count_eq(ring_ts, ring_key, c, key, lo, hi):
    """Number of entries with ``lo < ts <= hi`` and ``ring_key == key``."""
    n = 0
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        if lo < t <= hi and ring_key[c, k] == key:
            n += 1
    return n


@helper
def ring_oldest_eq(ring_ts, ring_ref, ring_key, c, key, lo, hi):
    """Slot of the oldest entry (ties: smaller ref) with ``lo < ts <= hi`` and
    ``ring_key == key``, or -1. FIFO matching of pending events (buy-ins, transfers)."""
    best = -1
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        if not (lo < t <= hi) or ring_key[c, k] != key:
            continue
        if best < 0 or t < ring_ts[c, best] or (t == ring_ts[c, best]
                                                and ring_ref[c, k] < ring_ref[c, best]):
            best = k
    return best


@helper
def write_evidence_eq(ring_ts, ring_ref, ring_key, c, key, lo, hi, out, first):
    """Like :func:`write_evidence`, for entries with ``ring_key == key``, into ``out[first:]``.

    ``out[:first]`` is left as the caller set it (for example the current row's ref).
    """
    for j in range(first, out.shape[0]):
        out[j] = -1
    upper = hi
    upper_ref = np.int64(2**62)
    for j in range(first, out.shape[0]):
        best = -1
        best_t = EMPTY_TS
        best_ref = np.int64(-1)
        for k in range(ring_ts.shape[1]):
            t = ring_ts[c, k]
            r = ring_ref[c, k]
            if t <= lo or ring_key[c, k] != key:
                continue
            if t > upper or (t == upper and r >= upper_ref):
                continue
            if t > best_t or (t == best_t and r > best_ref):
                best = k
                best_t = t
                best_ref = r
        if best < 0:
            break
        out[j] = best_ref
        upper = best_t
        upper_ref = best_ref


@helper
def write_evidence_two(a_ts, a_ref, a_lo, b_ts, b_ref, b_lo, c, hi, out):
    """Refs of the most recent entries of ring ``a`` in ``(a_lo, hi]`` and ring ``b`` in
    ``(b_lo, hi]``, merged newest first (ties: larger ref first); an event held by both
    rings (same ts and ref) appears once. Unused positions are -1."""
    for j in range(out.shape[0]):
        out[j] = -1
    upper = hi
    upper_ref = np.int64(2**62)
    for j in range(out.shape[0]):
        best_t = EMPTY_TS
        best_ref = np.int64(-1)
        found = False
        for side in range(2):
            ring_ts = a_ts if side == 0 else b_ts
            ring_ref = a_ref if side == 0 else b_ref
            lo = a_lo if side == 0 else b_lo
            for k in range(ring_ts.shape[1]):
                t = ring_ts[c, k]
                r = ring_ref[c, k]
                if t <= lo:
                    continue
                if t > upper or (t == upper and r >= upper_ref):
                    continue
                if not found or t > best_t or (t == best_t and r > best_ref):
                    best_t = t
                    best_ref = r
                    found = True
        if not found:
            break
        out[j] = best_ref
        upper = best_t
        upper_ref = best_ref


# --------------------------------------------------------------------------------------------
# Appended by the `adv_travel` group (PP-02, PP-03, PP-05 ... PP-11): counts and evidence that
# leave one key out (the home city or province), evidence chosen from a scratch list of
# events, day-bucket counts of days that reach a threshold, and a ring insert that keeps
# exactly the newest events. None allocates.


@helper
def ring_count_except(ring_ts, ring_key, c, lo, hi, skip):
    """Number of entries with ``lo < ts <= hi`` and ``ring_key != skip``.

    On a keyed table (one entry per key) this is the number of distinct keys other than
    ``skip`` last seen in the window.
    """
    n = 0
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        if lo < t <= hi and ring_key[c, k] != skip:
            n += 1
    return n


@helper
def write_evidence_except(ring_ts, ring_ref, ring_key, c, lo, hi, skip, out):
    """Like :func:`write_evidence`, leaving out entries with ``ring_key == skip``."""
    for j in range(out.shape[0]):
        out[j] = -1
    upper = hi
    upper_ref = np.int64(2**62)
    for j in range(out.shape[0]):
        best = -1
        best_t = EMPTY_TS
        best_ref = np.int64(-1)
        for k in range(ring_ts.shape[1]):
            t = ring_ts[c, k]
            r = ring_ref[c, k]
            if t <= lo or ring_key[c, k] == skip:
                continue
            if t > upper or (t == upper and r >= upper_ref):
                continue
            if t > best_t or (t == best_t and r > best_ref):
                best = k
                best_t = t
                best_ref = r
        if best < 0:
            break
        out[j] = best_ref
        upper = best_t
        upper_ref = best_ref


@helper
def write_evidence_list(ev_ts, ev_ref, n, out):
    """Refs of the newest of the first ``n`` events ``(ev_ts[k], ev_ref[k])`` of a scratch
    list, newest first (ties: larger ref first); a repeated event appears once. Unused
    positions are -1. For rules whose evidence is a set of pairs rather than one window."""
    for j in range(out.shape[0]):
        out[j] = -1
    upper = np.int64(2**62)
    upper_ref = np.int64(2**62)
    for j in range(out.shape[0]):
        best_t = EMPTY_TS
        best_ref = np.int64(-1)
        found = False
        for k in range(n):
            t = ev_ts[k]
            r = ev_ref[k]
            if t > upper or (t == upper and r >= upper_ref):
                continue
            if not found or t > best_t or (t == best_t and r > best_ref):
                best_t = t
                best_ref = r
                found = True
        if not found:
            break
        out[j] = best_ref
        upper = best_t
        upper_ref = best_ref


@helper
def bucket_days_at_least(day_key, sums, c, first_day, last_day, j, threshold):
    """Number of buckets with ``first_day <= day <= last_day`` whose measure ``j`` is at
    least ``threshold`` (for example days with three or more food-delivery orders)."""
    n = 0
    for k in range(day_key.shape[1]):
        d = day_key[c, k]
        if first_day <= d <= last_day and sums[c, k, j] >= threshold:
            n += 1
    return n


@helper
def ring_insert_latest(ring_ts, ring_ref, c, t, ref):
    """Store ``(t, ref)`` in the slot of the oldest entry, ties broken by the smaller ref.

    Unlike :func:`ring_insert` (first oldest slot), a ring of ``EVIDENCE_SLOTS`` kept this
    way always holds exactly the newest events in evidence order, so it can serve evidence
    for a count kept elsewhere (day buckets). Returns the slot.
    """
    slot = 0
    for k in range(1, ring_ts.shape[1]):
        if ring_ts[c, k] < ring_ts[c, slot] or (ring_ts[c, k] == ring_ts[c, slot]
                                                and ring_ref[c, k] < ring_ref[c, slot]):
            slot = k
    ring_ts[c, slot] = t
    ring_ref[c, slot] = ref
    return slot


@helper
def drain_oldest_eq(p_ts, p_ref, p_key, p_left, done_ts, done_ref, c, key, amount, lo, hi):
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


@helper
def ring_sum_eq(ring_ts, ring_val, ring_key, c, key, lo, hi):
    """Sum of ``ring_val`` over entries with ``lo < ts <= hi`` and ``ring_key == key``."""
    s = 0.0
    for k in range(ring_ts.shape[1]):
        t = ring_ts[c, k]
        if lo < t <= hi and ring_key[c, k] == key:
            s += ring_val[c, k]
    return s
