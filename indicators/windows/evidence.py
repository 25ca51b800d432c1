"""Evidence: the refs of the newest events a rule counted, newest first, for the alert.

One selection loop serves every rule. What it reads is a *window*: a tuple ``(ts, ref,
lo)`` of one customer's ring row (or keyed-table row, or scratch list) and the window's
lower bound, optionally with a fourth member, a per-entry *tag* (a key or a value). A
filter is a predicate ``keep(window, k, arg)`` on entry ``k``; :func:`evidence_selector`
compiles the loop with a predicate inlined, and the module holds one selector per
predicate: :func:`select_evidence` (every entry), :func:`select_evidence_tag_is`,
:func:`select_evidence_tag_is_not`, :func:`select_evidence_tag_in`. Build windows with
:func:`window`, :func:`tagged_window` and :func:`listed`.

Selectors are ``cold`` (a call, not inlined): evidence is written only on the rows that
fire. A predicate is baked in rather than passed as an argument because a kernel that
passes a function to a call that is not inlined cannot be cached by numba.

Example: the newest rows of a city table outside the home city::

    select_evidence_tag_is_not(evidence[i], t, tagged_window(cty_ts, cty_ref, cty_key, c, lo),
                               arg=home)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from indicators.columns import EMPTY_TS
from indicators.jit import Int64, cold, helper

LATEST = np.int64(2**62)  # above every event time and ref: an upper bound that excludes none

Window = tuple[NDArray[np.int64], NDArray[np.int64], Int64]
"""``(ts, ref, lo)``: one customer's entries and the window's lower bound (exclusive)."""

TaggedWindow = tuple[NDArray[np.int64], NDArray[np.int64], Int64, NDArray[np.number[Any]]]
"""``(ts, ref, lo, tag)``: a :data:`Window` with a per-entry tag (a key or a value)."""

Predicate = Callable[[Any, int, Any], bool]
"""A filter ``keep(window, k, arg)`` on entry ``k``; each one names the window shape and the
``arg`` it reads (a key, bounds), so the shared signature leaves those two open."""


class Selector(Protocol):
    """What :func:`evidence_selector` returns (a numba dispatcher, called like this)."""

    def __call__(
        self,
        out: NDArray[np.int64],
        hi: Int64,
        a: Window | TaggedWindow,
        b: Window | TaggedWindow | None = None,
        arg: object = 0,
    ) -> None: ...


@helper
def window(ring_ts: NDArray[np.int64], ring_ref: NDArray[np.int64], c: int, lo: Int64) -> Window:
    """Customer ``c``'s entries of a ring or keyed table with ``ts > lo``."""
    return (ring_ts[c], ring_ref[c], lo)


@helper
def tagged_window(
    ring_ts: NDArray[np.int64],
    ring_ref: NDArray[np.int64],
    ring_tag: NDArray[np.number[Any]],
    c: int,
    lo: Int64,
) -> TaggedWindow:
    """:func:`window` with a per-entry tag column (a key or a value) for a predicate."""
    return (ring_ts[c], ring_ref[c], lo, ring_tag[c])


@helper
def listed(ev_ts: NDArray[np.int64], ev_ref: NDArray[np.int64], n: int) -> Window:
    """The first ``n`` events ``(ev_ts[k], ev_ref[k])`` of a scratch list, all candidates:
    for rules whose evidence is a set of matched pairs rather than one window."""
    return (ev_ts[:n], ev_ref[:n], EMPTY_TS)


@helper
def every(win: Window | TaggedWindow, k: int, arg: object) -> bool:
    """Keep every entry of the window."""
    return True


@helper
def tag_is(win: TaggedWindow, k: int, key: Int64) -> bool:
    """Keep entries tagged ``key`` (the payments from one sender, to one account)."""
    # numpy's stubs type an array element as Any, so mypy cannot see a bool here.
    return win[3][k] == key  # type: ignore[no-any-return]


@helper
def tag_is_not(win: TaggedWindow, k: int, skip: Int64) -> bool:
    """Keep entries not tagged ``skip`` (cities other than the home city)."""
    # numpy's stubs type an array element as Any, so mypy cannot see a bool here.
    return win[3][k] != skip  # type: ignore[no-any-return]


@helper
def tag_in(win: TaggedWindow, k: int, bounds: tuple[Int64, Int64]) -> bool:
    """Keep entries whose tag ``v`` has ``bounds[0] <= v < bounds[1]`` (a lag, a time)."""
    # numpy's stubs type an array element as Any, so mypy cannot see a bool here.
    return bounds[0] <= win[3][k] < bounds[1]  # type: ignore[no-any-return]


@helper
def _newest_below(
    win: Window | TaggedWindow,
    keep: Predicate,
    arg: object,
    upper: Int64,
    upper_ref: Int64,
    found: bool,
    best_t: Int64,
    best_ref: Int64,
) -> tuple[bool, Int64, Int64]:
    """Fold ``win``'s kept entries older than ``(upper, upper_ref)`` into the running best
    ``(found, best_t, best_ref)``: the newest, ties broken by the larger ref."""
    ts = win[0]
    ref = win[1]
    lo = win[2]
    for k in range(ts.shape[0]):
        t = ts[k]
        r = ref[k]
        if t <= lo or not keep(win, k, arg):
            continue
        # strictly older than the last entry taken: an event held twice is taken once
        if t > upper or (t == upper and r >= upper_ref):
            continue
        if not found or t > best_t or (t == best_t and r > best_ref):
            best_t = t
            best_ref = r
            found = True
    return found, best_t, best_ref


def evidence_selector(keep: Predicate) -> Selector:
    """A selector ``select(out, hi, a, b=None, arg=0)`` keeping the entries for which
    ``keep(window, k, arg)`` holds: it fills ``out`` with the refs of the newest kept
    entries of window ``a`` (merged with window ``b`` if given) with ``ts <= hi``, newest
    first, ties: larger ref first.

    An event in both windows (same ts and ref) appears once; unused positions are -1. Pass
    a slice (``evidence[i, 1:]``) to keep positions the caller fills itself. Selection sort
    over a few dozen slots, ``len(out)`` passes.
    """

    @cold
    def select(
        out: NDArray[np.int64],
        hi: Int64,
        a: Window | TaggedWindow,
        b: Window | TaggedWindow | None = None,
        arg: object = 0,
    ) -> None:
        for j in range(out.shape[0]):
            out[j] = -1
        upper = hi
        upper_ref: Int64 = LATEST  # later the ref of the entry last taken
        for j in range(out.shape[0]):
            found, best_t, best_ref = _newest_below(
                a, keep, arg, upper, upper_ref, False, EMPTY_TS, np.int64(-1)
            )
            if b is not None:
                found, best_t, best_ref = _newest_below(
                    b, keep, arg, upper, upper_ref, found, best_t, best_ref
                )
            if not found:
                break
            out[j] = best_ref
            upper = best_t
            upper_ref = best_ref

    return select


select_evidence = evidence_selector(every)
select_evidence_tag_is = evidence_selector(tag_is)
select_evidence_tag_is_not = evidence_selector(tag_is_not)
select_evidence_tag_in = evidence_selector(tag_in)
