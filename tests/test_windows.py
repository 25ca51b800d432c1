"""The window helpers (``indicators.windows``) against plain-Python oracles (STYLE item 13),
and the shared words of ``indicators.vocabulary``.

Kernels inline these helpers; here each one is called directly on small hand-drawn state
arrays: rings with repeated times and refs (ties are where the newest-first order and the
"first oldest slot" rule matter), keyed tables past capacity, day buffers that wrap.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from indicators.columns import EMPTY_TS, TXN_CODE
from indicators.vocabulary import (
    count_or_share,
    counterparty_key_text,
    is_credit,
    is_debit,
    is_lodging,
    is_payment_out,
    is_person_credit,
    is_transfer_in,
)
from indicators.windows import (
    LATEST,
    bucket_add,
    bucket_days_at_least,
    bucket_sum,
    drain_oldest_eq,
    keyed2_touch,
    keyed_distinct,
    keyed_last,
    keyed_touch,
    listed,
    ring_count,
    ring_count_eq,
    ring_count_except,
    ring_count_where,
    ring_distinct,
    ring_insert,
    ring_insert_latest,
    ring_oldest,
    ring_oldest_eq,
    ring_sum,
    ring_sum_eq,
    select_evidence,
    select_evidence_tag_in,
    select_evidence_tag_is,
    select_evidence_tag_is_not,
    tagged_window,
    window,
)
from tests.bits import REF_LODGING_PLATFORM
from tests.kernel_harness import kernel_settings

SETTINGS = kernel_settings(max_examples=200)
C = 2  # customers per state array; the helpers must only ever touch row ``c``
_NO_DAY = np.iinfo(np.int32).min

# Few distinct times and refs, so entries tie; EMPTY_TS marks free slots.
times = st.sampled_from((EMPTY_TS, 0, 10, 10, 20, 30, 30, 40))
refs = st.integers(0, 5)
tags = st.integers(0, 3)
bounds = st.sampled_from((EMPTY_TS, -1, 0, 5, 10, 20, 30, 40, 50))


@st.composite
def rings(draw: st.DrawFn, min_slots: int = 1, max_slots: int = 10) -> dict[str, np.ndarray]:
    """``ts``, ``ref``, ``tag`` (int) and ``val`` (float) arrays of shape ``(C, slots)``."""
    slots = draw(st.integers(min_slots, max_slots))

    def column(values: st.SearchStrategy, dtype: type) -> np.ndarray:
        cells = draw(st.lists(values, min_size=C * slots, max_size=C * slots))
        return np.array(cells, dtype=dtype).reshape(C, slots)

    return {
        "ts": column(times, np.int64),
        "ref": column(refs, np.int64),
        "tag": column(tags, np.int64),
        "val": column(st.integers(-3, 3), np.float64),
    }


def entries(ring: dict[str, np.ndarray], c: int) -> list[tuple[int, int, int, float]]:
    """Customer ``c``'s slots as ``(ts, ref, tag, val)``."""
    return list(
        zip(
            ring["ts"][c].tolist(),
            ring["ref"][c].tolist(),
            ring["tag"][c].tolist(),
            ring["val"][c].tolist(),
            strict=True,
        )
    )


def newest_refs(events: set[tuple[int, int]], n: int) -> list[int]:
    """Oracle of every evidence writer: refs of the ``n`` newest distinct events, ties by the
    larger ref, padded with -1."""
    chosen = [r for _, r in sorted(events, reverse=True)[:n]]
    return chosen + [-1] * (n - len(chosen))


# ----------------------------------------------------------------------------- evidence

SELECTORS = {  # selector, and the predicate it bakes in
    "every": (select_evidence, lambda tag, arg: True),
    "tag_is": (select_evidence_tag_is, lambda tag, arg: tag == arg),
    "tag_is_not": (select_evidence_tag_is_not, lambda tag, arg: tag != arg),
    "tag_in": (select_evidence_tag_in, lambda tag, arg: arg[0] <= tag < arg[1]),
}


@SETTINGS
@given(
    a=rings(),
    b=rings(),
    c=st.integers(0, C - 1),
    lo_a=bounds,
    lo_b=bounds,
    hi=bounds,
    size=st.integers(1, 8),
    two=st.booleans(),
    name=st.sampled_from(sorted(SELECTORS)),
    key=tags,
    span=st.tuples(tags, tags),
)
def test_select_evidence_is_the_newest_kept_events(
    a, b, c, lo_a, lo_b, hi, size, two, name, key, span
) -> None:
    select, oracle = SELECTORS[name]
    arg = span if name == "tag_in" else key
    sides = [(a, lo_a)] + ([(b, lo_b)] if two else [])
    events = {
        (t, r)
        for ring, lo in sides
        for t, r, tag, _ in entries(ring, c)
        if lo < t <= hi and oracle(tag, arg)
    }
    out = np.full(size + 1, 99, dtype=np.int64)
    if name == "every":
        select(out[1:], hi, *[window(ring["ts"], ring["ref"], c, lo) for ring, lo in sides])
    else:
        select(
            out[1:],
            hi,
            *[tagged_window(ring["ts"], ring["ref"], ring["tag"], c, lo) for ring, lo in sides],
            arg=arg,
        )
    assert out[0] == 99, "wrote before the slice it was given"
    assert out[1:].tolist() == newest_refs(events, size)


@SETTINGS
@given(ts=st.lists(times.filter(lambda t: t != EMPTY_TS), min_size=1, max_size=12), data=st.data())
def test_select_evidence_over_a_scratch_list(ts: list[int], data: st.DataObject) -> None:
    ev_ts = np.array(ts, dtype=np.int64)
    ev_ref = np.array(data.draw(st.lists(refs, min_size=len(ts), max_size=len(ts))), dtype=np.int64)
    n = data.draw(st.integers(0, len(ts)))
    out = np.empty(8, dtype=np.int64)
    select_evidence(out, LATEST, listed(ev_ts, ev_ref, n))
    events = set(zip(ev_ts[:n].tolist(), ev_ref[:n].tolist(), strict=True))
    assert out.tolist() == newest_refs(events, 8)


# --------------------------------------------------------------------------------- rings


@SETTINGS
@given(
    ring=rings(),
    c=st.integers(0, C - 1),
    lo=bounds,
    hi=bounds,
    key=tags,
    span=st.tuples(st.integers(-3, 3), st.integers(-3, 3)),
)
def test_ring_counts_and_sums(ring, c, lo, hi, key, span) -> None:
    inside = [(t, r, tag, v) for t, r, tag, v in entries(ring, c) if lo < t <= hi]
    ts, val, tag = ring["ts"], ring["val"], ring["tag"]
    assert ring_count(ts, c, lo, hi) == len(inside)
    assert ring_count_eq(ts, tag, c, key, lo, hi) == sum(e[2] == key for e in inside)
    assert ring_count_except(ts, tag, c, lo, hi, key) == sum(e[2] != key for e in inside)
    assert ring_count_where(ts, val, c, lo, hi, *span) == sum(
        span[0] <= e[3] < span[1] for e in inside
    )
    assert ring_sum(ts, val, c, lo, hi) == sum(e[3] for e in inside)
    assert ring_sum_eq(ts, val, tag, c, key, lo, hi) == sum(e[3] for e in inside if e[2] == key)
    assert ring_distinct(ts, tag, c, lo, hi) == len({e[2] for e in inside if e[2] != 0})


@SETTINGS
@given(ring=rings(), c=st.integers(0, C - 1), t=st.integers(0, 50), ref=refs)
def test_ring_inserts_reuse_the_oldest_slot(ring, c, t, ref) -> None:
    ts, rf = ring["ts"][c].tolist(), ring["ref"][c].tolist()
    first_oldest = ts.index(min(ts))
    oldest_pair = min(range(len(ts)), key=lambda k: (ts[k], rf[k], k))
    other = 1 - c
    before = (ring["ts"][other].copy(), ring["ref"][other].copy())
    assert ring_oldest(ring["ts"], c) == first_oldest

    plain = {k: v.copy() for k, v in ring.items()}
    assert ring_insert(plain["ts"], plain["ref"], c, t, ref) == first_oldest
    assert (plain["ts"][c, first_oldest], plain["ref"][c, first_oldest]) == (t, ref)

    assert ring_insert_latest(ring["ts"], ring["ref"], c, t, ref) == oldest_pair
    assert (ring["ts"][c, oldest_pair], ring["ref"][c, oldest_pair]) == (t, ref)
    assert (ring["ts"][other] == before[0]).all() and (ring["ref"][other] == before[1]).all()


@SETTINGS
@given(
    gaps=st.lists(st.sampled_from((0, 0, 1, 5)), min_size=1, max_size=30), slots=st.integers(1, 8)
)
def test_ring_insert_latest_keeps_exactly_the_newest_events(gaps, slots) -> None:
    """Events in time order with increasing refs (Kafka offsets): the ring holds the newest
    ``slots`` of them, so it can serve evidence on its own."""
    ts = np.full((1, slots), EMPTY_TS, dtype=np.int64)
    ref = np.full((1, slots), -1, dtype=np.int64)
    events = list(zip(np.cumsum(gaps).tolist(), range(len(gaps)), strict=True))
    for t, r in events:
        ring_insert_latest(ts, ref, 0, t, r)
    held = {(t, r) for t, r in zip(ts[0].tolist(), ref[0].tolist(), strict=True) if t != EMPTY_TS}
    assert held == set(events[-slots:])


@SETTINGS
@given(
    ring=rings(min_slots=2), c=st.integers(0, C - 1), key=tags, lo=bounds, amount=st.integers(0, 8)
)
def test_drain_oldest_eq_is_first_in_first_out(ring, c, key, lo, amount) -> None:
    hi = 40
    p_ts, p_ref, p_key = ring["ts"], ring["ref"], ring["tag"]
    p_left = np.abs(ring["val"]) + 1.0  # amounts still to match, all positive
    done_ts = np.full((C, p_ts.shape[1]), EMPTY_TS, dtype=np.int64)
    done_ref = np.full_like(done_ts, -1)
    pending = sorted(
        (t, r, k)
        for k, (t, r, tag, _) in enumerate(entries(ring, c))
        if lo < t <= hi and tag == key
    )
    if pending:
        assert ring_oldest_eq(p_ts, p_ref, p_key, c, key, lo, hi) == pending[0][2]
    else:
        assert ring_oldest_eq(p_ts, p_ref, p_key, c, key, lo, hi) == -1

    left, want_left, want_done = float(amount), p_left[c].copy(), []
    for _, r, k in pending:
        if left <= 0.0:
            break
        take = min(left, want_left[k])
        want_left[k] -= take
        left -= take
        if want_left[k] <= 0.0:
            want_done.append(r)
    want_ts = p_ts[c].copy()
    for *_, k in pending:
        if want_left[k] <= 0.0:
            want_ts[k] = EMPTY_TS  # completed: leaves the pending ring

    completed = drain_oldest_eq(
        p_ts, p_ref, p_key, p_left, done_ts, done_ref, c, key, float(amount), lo, hi
    )
    assert completed == bool(want_done)
    assert p_left[c].tolist() == want_left.tolist()
    assert p_ts[c].tolist() == want_ts.tolist()
    assert sorted(done_ref[c][done_ts[c] == hi].tolist()) == sorted(want_done)


# --------------------------------------------------------------------------- keyed tables


@SETTINGS
@given(
    touches=st.lists(
        st.tuples(st.integers(0, 2), st.integers(1, 6), st.integers(0, 3)), min_size=1, max_size=25
    ),
    slots=st.integers(1, 5),
    lo=st.integers(0, 60),
    pair=st.booleans(),
)
def test_keyed_table_is_a_least_recently_seen_cache(touches, slots, lo, pair) -> None:
    """Touches in strictly increasing time: the table holds the ``slots`` most recently seen
    keys, each with the time and ref of its last touch."""
    keys_a = np.zeros((C, slots), dtype=np.int64)
    keys_b = np.zeros((C, slots), dtype=np.int64)
    key_ts = np.full((C, slots), EMPTY_TS, dtype=np.int64)
    key_ref = np.full((C, slots), -1, dtype=np.int64)
    last: dict[tuple[int, int], tuple[int, int]] = {}
    for i, (gap, a, b) in enumerate(touches):
        t = 3 * i + gap  # strictly increasing
        key = (a, b) if pair else (a, 0)
        if key not in last and len(last) == slots:
            del last[min(last, key=lambda k: last[k][0])]
        last[key] = (t, 100 + i)
        if pair:
            slot = keyed2_touch(keys_a, keys_b, key_ts, key_ref, 1, a, b, t, 100 + i)
        else:
            slot = keyed_touch(keys_a, key_ts, key_ref, 1, a, t, 100 + i)
        assert (key_ts[1, slot], key_ref[1, slot]) == (t, 100 + i)
    held = {
        (a, b): (t, r)
        for a, b, t, r in zip(
            keys_a[1].tolist(),
            keys_b[1].tolist(),
            key_ts[1].tolist(),
            key_ref[1].tolist(),
            strict=True,
        )
        if t != EMPTY_TS
    }
    assert held == last
    assert (key_ts[0] == EMPTY_TS).all(), "touched another customer's row"
    hi = 3 * len(touches) + 3
    assert keyed_distinct(key_ts, 1, lo, hi) == sum(lo < t <= hi for t, _ in last.values())
    if not pair:
        for a in range(1, 7):
            assert keyed_last(keys_a, key_ts, 1, a) == last.get((a, 0), (EMPTY_TS, 0))[0]


def test_keyed_touch_never_moves_a_key_back_in_time() -> None:
    keys = np.zeros((1, 2), dtype=np.int64)
    key_ts = np.full((1, 2), EMPTY_TS, dtype=np.int64)
    key_ref = np.full((1, 2), -1, dtype=np.int64)
    keyed_touch(keys, key_ts, key_ref, 0, 7, 50, 1)
    keyed_touch(keys, key_ts, key_ref, 0, 7, 40, 2)  # a late row of an earlier time
    assert (keyed_last(keys, key_ts, 0, 7), key_ref[0, 0]) == (50, 1)
    keyed_touch(keys, key_ts, key_ref, 0, 7, 50, 3)  # same time: the later row's ref wins
    assert key_ref[0, 0] == 3


# ---------------------------------------------------------------------------- day buckets


@SETTINGS
@given(
    adds=st.lists(
        st.tuples(st.integers(-3, 4), st.integers(0, 1), st.integers(1, 5)), min_size=1, max_size=40
    ),
    size=st.integers(1, 9),
    first=st.integers(0, 40),
    length=st.integers(-2, 12),
    threshold=st.integers(1, 8),
)
def test_day_buckets_sum_the_newest_day_of_each_slot(adds, size, first, length, threshold) -> None:
    """Days mostly move forward (steps -3 .. +4): a day that a newer day pushed out of its
    slot (``day % size``) is gone; every other day keeps the sum of all its adds."""
    day_key = np.full((C, size), _NO_DAY, dtype=np.int32)
    sums = np.zeros((C, size, 2), dtype=np.float64)
    day, totals = 10, {}
    for step, j, value in adds:
        day = max(0, day + step)
        bucket_add(day_key, sums, 1, day, j, float(value))
        totals.setdefault(day, [0.0, 0.0])[j] += value
    newest = {}
    for d in totals:
        newest[d % size] = max(newest.get(d % size, d), d)
    alive = {d: totals[d] for d in newest.values()}
    last = first + length - 1
    assert (day_key[0] == _NO_DAY).all() and not sums[0].any()
    for j in (0, 1):
        in_range = [v[j] for d, v in alive.items() if first <= d <= last]
        assert bucket_sum(day_key, sums, 1, first, last, j) == sum(in_range)
        assert bucket_days_at_least(day_key, sums, 1, first, last, j, threshold) == sum(
            v >= threshold for v in in_range
        )


@SETTINGS
@given(size=st.integers(1, 40), data=st.data())
def test_bucket_sum_adds_in_slot_order(size: int, data: st.DataObject) -> None:
    """Reading only a window's own slots must give the bit-identical float sum of a scan of
    the whole buffer in slot order (which is how the sum was defined before)."""
    base = data.draw(st.integers(0, 1_000))
    day_key = np.full((1, size), _NO_DAY, dtype=np.int32)
    sums = np.zeros((1, size, 1), dtype=np.float64)
    for k in range(size):
        if data.draw(st.booleans()):
            day_key[0, k] = base + (k - base) % size + size * data.draw(st.integers(0, 2))
            sums[0, k, 0] = data.draw(st.floats(-1e6, 1e6, allow_nan=False))
    first = data.draw(st.integers(base - 5, base + 3 * size))
    last = first + data.draw(st.integers(-1, 2 * size))
    scan = 0.0
    for k in range(size):
        if first <= day_key[0, k] <= last:
            scan += sums[0, k, 0]
    assert bucket_sum(day_key, sums, 0, first, last, 0) == scan


# ------------------------------------------------------------- vocabulary (shared words)


def test_transaction_groups_and_lodging_are_the_named_sets() -> None:
    named = {
        is_credit: {"cash_deposit", "emt_in", "transfer_in", "wire_in", "eft_in"},
        is_transfer_in: {"emt_in", "eft_in", "transfer_in", "wire_in"},
        is_person_credit: {"emt_in", "transfer_in", "wire_in"},
        is_debit: {
            "cash_withdrawal",
            "emt_out",
            "transfer_out",
            "wire_out",
            "eft_out",
            "bill_payment",
            "purchase",
            "card_to_card",
            "vc_buy",
            "prepaid_load",
        },
        is_payment_out: {
            "purchase",
            "emt_out",
            "eft_out",
            "wire_out",
            "transfer_out",
            "bill_payment",
        },
    }
    for predicate, names in named.items():
        got = {name for name, code in TXN_CODE.items() if predicate(np.int8(code))}
        assert got == names, predicate.__name__
    lodging = {m for m in range(10_000) if is_lodging(np.int16(m), np.int64(0), np.int64(1))}
    assert lodging == {7011, 7012} | set(range(3501, 4000))
    platform = np.int64(REF_LODGING_PLATFORM)
    assert is_lodging(np.int16(5411), platform, platform)


@SETTINGS
@given(
    n=st.integers(0, 6),
    marked=st.integers(0, 6),
    extra=st.integers(0, 6),
    limits=st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 12)),
    min_share=st.sampled_from((0.1, 0.5, 0.75, 1.0)),
)
def test_count_or_share(n, marked, extra, limits, min_share) -> None:
    min_count, share_min_marked, share_min_all = limits
    n_all = marked + extra
    share = marked >= share_min_marked and n_all >= share_min_all and marked / n_all >= min_share
    assert count_or_share(
        n, min_count, float(marked), n_all, share_min_marked, share_min_all, min_share
    ) == (n >= min_count or share)


def test_counterparty_key_text_prefers_id_then_email_phone_name() -> None:
    assert counterparty_key_text("C-1", "a@b.ca", "555", "Ann") == "C-1"
    assert counterparty_key_text(None, " A@B.ca ", "555", "Ann") == "a@b.ca"
    assert counterparty_key_text("", "  ", "555", "Ann") == "555"
    assert counterparty_key_text(None, None, None, "Ann") == "Ann"
    assert counterparty_key_text(None, "", "", "") is None
