"""Hypothesis strategies for the lifestyle group: PP-29, PP-30, PP-31, PP-32, PK-07.

Registers each rule's :class:`~tests.strategies.Focus` and wraps
:func:`tests.strategies.batches`: the shared generator draws reference bits from a
vocabulary without the bits these rules read (luxury, rent, inmate-call, source
jurisdiction, vague purpose), and profiles without ``expected_monthly``, so
:func:`lifestyle_batches` redraws ``ref_flags`` per row from the rule's own vocabulary and
the profile's declared income and expected activity from values that sit on and around
the rules' thresholds.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from indicators.columns import BATCH_COLUMNS, DAY
from tests.bits import (
    REF_ESCORT_AD,
    REF_INMATE_CALL,
    REF_LUXURY,
    REF_RENT,
    REF_SOURCE_JURISDICTION,
    REF_VAGUE_PURPOSE,
)
from tests.strategies import FOCUS, HOUR, T0, TZ_OFFSETS, Focus, batches

SJ_VAGUE = REF_SOURCE_JURISDICTION | REF_VAGUE_PURPOSE

FLAGS: dict[str, tuple[int, ...]] = {
    "PP-29": (0, 0, REF_LUXURY, REF_LUXURY | REF_RENT, REF_ESCORT_AD),
    "PP-30": (0, REF_RENT, REF_RENT, REF_RENT | REF_LUXURY, REF_INMATE_CALL),
    "PP-31": (0, 0, REF_INMATE_CALL, REF_INMATE_CALL | REF_RENT, REF_LUXURY),
    "PP-32": (0, SJ_VAGUE, SJ_VAGUE, REF_SOURCE_JURISDICTION, REF_VAGUE_PURPOSE,
              SJ_VAGUE | REF_RENT),
    "PK-07": (0, 0, REF_VAGUE_PURPOSE),
}

# Yearly incomes on and around PP-29's low-income default (20,000) and PK-07's baselines.
INCOMES = (float("nan"), float("nan"), 0.0, 12_000.0, 19_999.0, 20_000.0, 24_000.0,
           36_000.0, 60_000.0, 200_000.0)
EXPECTED = (float("nan"), float("nan"), 0.0, 250.0, 500.0, 1_000.0, 2_000.0, 5_000.0)

# Day-grid regime: rows a whole number of days apart, so day-bucket windows (PP-29, PK-07)
# and day-multiple ts windows see events exactly ``window_days`` back.
DAY_STEPS = (0, 1, 1, 1, 2, 3, 7)
DAY_HOURS = (0, 1, 12, 23)

_PAYMENTS = ("bill_payment", "emt_out", "eft_out", "purchase")
_OUT = ("wire_out", "eft_out", "emt_out", "transfer_out")
_IN = ("wire_in", "eft_in")

FOCUS.update({
    # Ring 16 (evidence) and 92 day buckets: 15 rows per customer stay below the ring.
    "PP-29": Focus(types=("purchase", "purchase", "bill_payment", "preauth", "refund"),
                   mccs=(5511, 5944, 5681, 5813, 8099, 8011, 7298, 7997, 5812, 4121, 5411),
                   flags=FLAGS["PP-29"]),
    # 16-slot payee and tax tables: at most 15 distinct payees per customer.
    "PP-30": Focus(types=_PAYMENTS + ("emt_in",), mccs=(6513, 6513, 9311, 9311, 4900, -1),
                   flags=FLAGS["PP-30"], channels=("online", "mobile", "pos"),
                   patterns=((_PAYMENTS,), (("emt_out", "bill_payment"),),
                             (("bill_payment",), ("emt_out", "eft_out")))),
    "PP-31": Focus(types=("bill_payment", "purchase", "emt_out", "eft_out", "preauth"),
                   mccs=(4814, 4812, 4899, 4816, 4900, -1), flags=FLAGS["PP-31"],
                   channels=("online", "ecom", "pos")),
    "PP-32": Focus(types=_OUT + _IN + ("transfer_in",), mccs=(-1,), flags=FLAGS["PP-32"],
                   channels=("msb", "msb", "online", "branch"),
                   patterns=((_OUT,), (_OUT, _IN), (("transfer_out",),))),
    "PK-07": Focus(types=("cash_deposit", "emt_in", "transfer_in", "wire_in", "eft_in",
                          "emt_out", "purchase"),
                   mccs=(-1, 5411), flags=FLAGS["PK-07"],
                   patterns=((("cash_deposit", "emt_in", "eft_in"),),
                             (("cash_deposit", "wire_in"), ("emt_out", "purchase")))),
})


def _vocabulary(draw: st.DrawFn, values: tuple, max_size: int = 4) -> st.SearchStrategy:
    """All of ``values``, or a few of them drawn for this example (as tests.strategies)."""
    narrow = draw(st.lists(st.sampled_from(values), min_size=1, max_size=max_size))
    return st.sampled_from(draw(st.sampled_from((values, tuple(narrow)))))


@st.composite
def lifestyle_batches(draw: st.DrawFn, focus: str, dense: bool = False,
                      max_per_customer: int = 15, window_days: tuple[int, ...] = (),
                      edge: bool = False) -> dict[str, np.ndarray]:
    """:func:`tests.strategies.batches` with ``focus``'s reference bits and profile values.

    ``window_days``: the example's window parameters. In the day-grid regime (half the
    examples, every ``edge`` example), each customer's rows step by whole days, including
    exactly a window, which puts events on the window's edge; ``edge`` examples step only
    by 0, 1 or a window at one hour of the day, so most steps land on an edge.
    """
    cols = draw(batches(focus=focus, dense=dense, max_per_customer=max_per_customer))
    flags = _vocabulary(draw, FLAGS[focus])
    n = len(cols["cust"])
    if edge:
        _day_grid(draw, cols, (0, 1) + tuple(window_days) * 2, (12,))
    elif draw(st.booleans()):
        _day_grid(draw, cols, DAY_STEPS + tuple(window_days), DAY_HOURS)
    cols["ref_flags"] = np.array([draw(flags) for _ in range(n)], dtype=np.int64)
    n_cust = len(cols["home_city"])
    incomes = st.one_of(st.sampled_from(INCOMES), st.integers(0, 200_000).map(float))
    expected = st.one_of(st.sampled_from(EXPECTED), st.integers(0, 10_000).map(float))
    cols["declared_income"] = np.array([draw(incomes) for _ in range(n_cust)], dtype=np.float64)
    cols["expected_monthly"] = np.array([draw(expected) for _ in range(n_cust)],
                                        dtype=np.float64)
    return cols


def _day_grid(draw: st.DrawFn, cols: dict[str, np.ndarray], day_steps: tuple[int, ...],
              day_hours: tuple[int, ...]) -> None:
    """Re-time each customer's rows on whole days, then re-sort the batch by time.

    Each customer's rows step by ``day_steps`` days (at a few hours of the day, one or two
    UTC offsets), so one customer's events land exactly a window apart; the rows are then
    merged in time order and ``seq`` renumbered in that order.
    """
    n = len(cols["ts"])
    if n == 0:
        return
    steps = _vocabulary(draw, day_steps)
    hours = _vocabulary(draw, day_hours)
    offsets = _vocabulary(draw, TZ_OFFSETS, max_size=2)
    day: dict[int, int] = {}
    ts = np.empty(n, dtype=np.int64)
    for i, c in enumerate(cols["cust"].tolist()):
        day[c] = day.get(c, 0) + draw(steps)
        ts[i] = T0 + day[c] * DAY + draw(hours) * HOUR
    order = np.argsort(ts, kind="stable")
    for name in BATCH_COLUMNS:
        if name != "seq":
            cols[name] = cols[name][order]
    ts = ts[order]
    local = ts + np.array([draw(offsets) for _ in range(n)], dtype=np.int64)
    cols["ts"] = ts
    cols["local_day"] = (local // DAY).astype(np.int32)
    cols["local_tod"] = (local % DAY).astype(np.int32)
    cols["seq"] = cols["seq"][0] + np.arange(n, dtype=np.int64)
