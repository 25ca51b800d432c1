"""PP-10 · Living-cost spend velocity (LIVING)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import DAY, ECOM, EMPTY_TS, EVIDENCE_SLOTS, MOBILE, ONLINE, PURCHASE
from indicators.examples import example, txn
from indicators.jit import helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import (
    bucket_add,
    bucket_days_at_least,
    bucket_sum,
    ring_insert_latest,
    select_evidence,
    window,
)

DAYS = 128  # count buckets: the widest window plus its 90-day baseline, and a spare day
RECENT = EVIDENCE_SLOTS  # newest purchases per category, for evidence only
# Day-bucket measures (purchase counts per local day).
FAST = 0
DELIVERY = 1
PHARMACY = 2
BEAUTY = 3
_NO_DAY = np.iinfo(np.int32).min


@helper
def is_beauty_mcc(mcc: int) -> bool:
    """Women's ready-to-wear, women's accessory / specialty (lingerie), cosmetic stores."""
    return mcc == 5621 or mcc == 5631 or mcc == 5977


@helper
def above_baseline(
    day_key: NDArray[np.int32],
    counts: NDArray[np.uint16],
    c: int,
    d: int,
    j: int,
    days: int,
    baseline_days: int,
    floor: int,
    k: float,
    first_day: int,
) -> tuple[float, bool]:
    """``(count, hit)``: purchases of measure ``j`` on local days ``d - days + 1 .. d``, and
    whether the count reaches ``max(floor, k * baseline)``.

    The baseline is the customer's own average count per ``days`` over the
    ``baseline_days`` before the window, or over the part of them since ``first_day`` (the
    customer's first living-cost purchase) when the history is shorter; that part counts
    as at least ``days`` long, so a day or two of history cannot set a huge baseline. With
    no history before the window the floor alone decides. Read only when the count
    reaches the floor.
    """
    n = bucket_sum(day_key, counts, c, d - days + 1, d, j)
    if n < floor:
        return n, False
    last = d - days
    first = last - baseline_days + 1
    if first_day > first:
        first = first_day
    span = last - first + 1
    if span <= 0:
        return n, True
    before = bucket_sum(day_key, counts, c, first, last, j)
    if span < days:
        span = days
    return n, n >= k * before * days / span


@kernel
def living_cost_velocity(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    local_day: NDArray[np.int32],
    txn_type: NDArray[np.int8],
    channel: NDArray[np.int8],
    mcc: NDArray[np.int16],
    attempted: NDArray[np.int8],
    first_day: NDArray[np.int32],
    day_key: NDArray[np.int32],
    day_count: NDArray[np.uint16],
    fast_ts: NDArray[np.int64],
    fast_ref: NDArray[np.int64],
    dlv_ts: NDArray[np.int64],
    dlv_ref: NDArray[np.int64],
    pharm_ts: NDArray[np.int64],
    pharm_ref: NDArray[np.int64],
    beauty_ts: NDArray[np.int64],
    beauty_ref: NDArray[np.int64],
    fast_days: int,
    min_fast_food: int,
    living_days: int,
    min_delivery_days: int,
    min_orders_per_day: int,
    min_pharmacy: int,
    min_beauty: int,
    baseline_k: float,
    baseline_days: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Purchase counts per living-cost category against floors and the customer's baseline.

    Categories of a purchase: fast food (MCC 5814); food delivery (5814 ordered through
    ecom / online / mobile, also fast food); pharmacy (5912); lingerie and cosmetics (5621,
    5631, 5977). Counts are per local day in buckets; windows are local days ending on
    the row's day. Fast food fires at ``max(min_fast_food, baseline_k x baseline)`` in
    ``fast_days``, the baseline being the customer's own rate before the window (see
    :func:`above_baseline`); pharmacy and beauty likewise in ``living_days``; delivery fires when
    ``min_delivery_days`` days of the last ``living_days`` each have at least
    ``min_orders_per_day`` orders. A row is judged by its own categories. Evidence: the
    newest purchases of the categories that fired within the window (by event time,
    ``(t - days x 24h, t]``); ``observed`` is the count of the first category that fired
    (fast food, delivery days, pharmacy, beauty).

    polars equivalent, per customer: ``group_by("local_day", "category").len()``, then
    range sums over the window's days and the 90 days before it, and for delivery
    ``(orders >= min_orders_per_day).sum()`` over the window's days.
    """
    fast_w = np.int64(fast_days * DAY)
    living_w = np.int64(living_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0 or txn_type[i] != PURCHASE:
            continue
        m = mcc[i]
        fast = m == 5814
        ch = channel[i]
        delivery = fast and (ch == ECOM or ch == ONLINE or ch == MOBILE)
        pharmacy = m == 5912
        beauty = is_beauty_mcc(m)
        if not (fast or pharmacy or beauty):
            continue
        c = cust[i]
        t = ts[i]
        d = local_day[i]
        ref = seq[i]
        touched[i] = 1
        if first_day[c] == _NO_DAY or d < first_day[c]:
            first_day[c] = d
        first = first_day[c]
        if fast:
            bucket_add(day_key, day_count, c, d, FAST, 1)
            ring_insert_latest(fast_ts, fast_ref, c, t, ref)
            n_fast, hit_fast = above_baseline(
                day_key,
                day_count,
                c,
                d,
                FAST,
                fast_days,
                baseline_days,
                min_fast_food,
                baseline_k,
                first,
            )
            hit_dlv = False
            n_days = 0
            if delivery:
                bucket_add(day_key, day_count, c, d, DELIVERY, 1)
                ring_insert_latest(dlv_ts, dlv_ref, c, t, ref)
                n_days = bucket_days_at_least(
                    day_key, day_count, c, d - living_days + 1, d, DELIVERY, min_orders_per_day
                )
                hit_dlv = n_days >= min_delivery_days
            if hit_fast or hit_dlv:
                fired[i] = 1
                observed[i] = n_fast if hit_fast else n_days
                # A ring whose sub-rule did not fire contributes nothing: its window is (t, t].
                select_evidence(
                    evidence[i],
                    t,
                    window(fast_ts, fast_ref, c, t - fast_w if hit_fast else t),
                    window(dlv_ts, dlv_ref, c, t - living_w if hit_dlv else t),
                )
        elif pharmacy:
            bucket_add(day_key, day_count, c, d, PHARMACY, 1)
            ring_insert_latest(pharm_ts, pharm_ref, c, t, ref)
            n, hit = above_baseline(
                day_key,
                day_count,
                c,
                d,
                PHARMACY,
                living_days,
                baseline_days,
                min_pharmacy,
                baseline_k,
                first,
            )
            if hit:
                fired[i] = 1
                observed[i] = n
                select_evidence(evidence[i], t, window(pharm_ts, pharm_ref, c, t - living_w))
        else:
            bucket_add(day_key, day_count, c, d, BEAUTY, 1)
            ring_insert_latest(beauty_ts, beauty_ref, c, t, ref)
            n, hit = above_baseline(
                day_key,
                day_count,
                c,
                d,
                BEAUTY,
                living_days,
                baseline_days,
                min_beauty,
                baseline_k,
                first,
            )
            if hit:
                fired[i] = 1
                observed[i] = n
                select_evidence(evidence[i], t, window(beauty_ts, beauty_ref, c, t - living_w))


def _food(n: int, days: float, hours: float = 0.0, channel: str = "pos") -> dict[str, Any]:
    return txn(
        n,
        "purchase",
        11.5,
        days=days,
        hours=hours,
        mcc="5814",
        channel=channel,
        merchant_id="M-FAST-1",
        merchant_name="MCDONALD'S 4411",
    )


SPEC = IndicatorSpec(
    id="PP-10",
    title="Living-cost spend velocity",
    description=(
        "Frequent fast food (F16-T5), several food-delivery orders on the same day, "
        "repeatedly (F21-G11: food for several people, or one account used by several), and "
        "frequent drug-store, lingerie and cosmetics purchases (F16-T6). Victims' basic "
        "living costs are paid from the account they are made to use, often for a group "
        "held together, and the frequency is out of line with the customer's own history. "
        "Fires on 3 delivery orders a day on 3 days in 30, and on 15 fast-food purchases in "
        "7 days or 6 pharmacy or 8 lingerie / cosmetics purchases in 30 days when the count "
        "is also at least 3 x the customer's own baseline (the 90 days before the window)."
    ),
    family="LIVING",
    sources=(
        "FINTRAC-2016-OA003 T5",
        "FINTRAC-2016-OA003 T6",
        "FINTRAC-2021-OA001 G11",
        "FIN-2020-A008 #2",
    ),
    status="experimental",
    severity="low",
    weight=1.0,
    role_signal="victim",
    window="7d (fast food), 30d (delivery, pharmacy, beauty), 90d (baseline)",
    threshold_param="min_fast_food",
    false_positives=(
        "Students, shift workers and people living alone who eat fast food daily (the "
        "baseline keeps steady habits from firing, not a new habit).",
        "Families ordering delivery for several people; office lunch orders paid by one " "person.",
        "Carers and people with chronic illness visiting pharmacies often.",
    ),
    required_fields=("txn_type", "channel", "mcc"),
    inputs=("cust", "seq", "ts", "local_day", "txn_type", "channel", "mcc", "attempted"),
    state=(
        StateArray("first_day", (), np.int32, _NO_DAY),
        StateArray("day_key", (DAYS,), np.int32, _NO_DAY),
        StateArray("day_count", (DAYS, 4), np.uint16, 0),
        StateArray("fast_ts", (RECENT,), np.int64, EMPTY_TS),
        StateArray("fast_ref", (RECENT,), np.int64, -1),
        StateArray("dlv_ts", (RECENT,), np.int64, EMPTY_TS),
        StateArray("dlv_ref", (RECENT,), np.int64, -1),
        StateArray("pharm_ts", (RECENT,), np.int64, EMPTY_TS),
        StateArray("pharm_ref", (RECENT,), np.int64, -1),
        StateArray("beauty_ts", (RECENT,), np.int64, EMPTY_TS),
        StateArray("beauty_ref", (RECENT,), np.int64, -1),
    ),
    params=(
        Param("fast_days", 7, 1, 14, "fast-food window, local days", integer=True),
        Param(
            "min_fast_food", 15, 2, 1000, "fast-food purchases in the window (floor)", integer=True
        ),
        Param(
            "living_days",
            30,
            7,
            30,
            "delivery, pharmacy and beauty window, local days",
            integer=True,
        ),
        Param(
            "min_delivery_days",
            3,
            1,
            30,
            "days in the window with many delivery orders",
            integer=True,
        ),
        Param(
            "min_orders_per_day", 3, 2, 50, "delivery orders that make a day count", integer=True
        ),
        Param("min_pharmacy", 6, 2, 1000, "pharmacy purchases in the window (floor)", integer=True),
        Param(
            "min_beauty",
            8,
            2,
            1000,
            "lingerie / cosmetics purchases in the window (floor)",
            integer=True,
        ),
        Param(
            "baseline_k",
            3.0,
            0.0,
            20.0,
            "the count must also reach this multiple of the customer's own baseline "
            "(0: floors only)",
        ),
        Param("baseline_days", 90, 28, 90, "baseline: local days before the window", integer=True),
    ),
    kernel=living_cost_velocity,
    coverage="partial",
    coverage_note=(
        "Food delivery is taken to be MCC 5814 ordered through ecom / online / mobile; "
        "delivery platforms that post as 4215 or under other MCCs need a descriptor list "
        "(e.g. `food_delivery_platforms`). The baseline is the customer's own 90 days; a "
        "peer-segment baseline (age band x province x product) is not available."
    ),
    must_fire=(
        example(
            "fast food fifteen times in six days",
            *(_food(n + 1, 0.4 * n) for n in range(15)),
        ),
        example(
            "three delivery orders a day, three days",
            *(
                _food(3 * d + k + 1, 4 * d, hours=3 * k, channel="mobile")
                for d in range(3)
                for k in range(3)
            ),
        ),
    ),
    must_not_fire=(
        example(
            "a steady fast-food habit",
            *(_food(n + 1, n * 0.5) for n in range(120)),
            *(_food(200 + n, 60 + n * 0.4) for n in range(15)),
        ),
        example(
            "pharmacy twice a month",
            *(
                txn(
                    n + 1,
                    "purchase",
                    23.4,
                    days=15 * n,
                    mcc="5912",
                    merchant_id="M-SDM",
                    merchant_name="SHOPPERS DRUG MART",
                )
                for n in range(6)
            ),
        ),
    ),
)
