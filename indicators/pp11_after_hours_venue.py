"""PP-11 · After-hours venue spend (LIVING)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import CHANNEL_CODE, DAY, EMPTY_TS, PURCHASE
from indicators.examples import example, txn
from indicators.jit import helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import ring_count, ring_insert, select_evidence, window

RING = 16  # after-hours venue purchases per customer
POS = CHANNEL_CODE["pos"]


@helper
def is_venue_mcc(mcc: int) -> bool:
    """Massage parlours, spas, beauty shops, bars / nightclubs, dating and escort services,
    entertainers, miscellaneous personal services."""
    return (
        mcc == 7297
        or mcc == 7298
        or mcc == 7230
        or mcc == 5813
        or mcc == 7273
        or mcc == 7929
        or mcc == 7299
    )


@helper
def in_hours(tod: int, start_hour: int, end_hour: int) -> bool:
    """Local time of day in ``[start_hour, end_hour)``, wrapping midnight when start > end."""
    start = start_hour * 3600
    end = end_hour * 3600
    if start > end:
        return tod >= start or tod < end
    return start <= tod < end


@kernel
def after_hours_venue(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    local_tod: NDArray[np.int32],
    txn_type: NDArray[np.int8],
    channel: NDArray[np.int8],
    mcc: NDArray[np.int16],
    attempted: NDArray[np.int8],
    ring_ts: NDArray[np.int64],
    ring_ref: NDArray[np.int64],
    window_days: int,
    min_purchases: int,
    start_hour: int,
    end_hour: int,
    bar_start_hour: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Card-present purchases at venue MCCs outside business hours, in a sliding window.

    Only ``pos`` purchases count: an online booking or subscription (dating sites post as
    7273) made at night says nothing about the venue's hours. After hours is local
    ``[start_hour, end_hour)``; bars and nightclubs (5813), which are open late, are after
    hours only from ``bar_start_hour``. A venue purchase after hours fires when such
    purchases in the window reach ``min_purchases``.

    polars equivalent, per customer: filter venue purchases with ``after_hours(local_tod)``,
    then ``rolling(index_column="ts", period=f"{window_days}d").agg(pl.len())``.
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0 or txn_type[i] != PURCHASE or channel[i] != POS:
            continue
        m = mcc[i]
        if not is_venue_mcc(m):
            continue
        start = bar_start_hour if m == 5813 else start_hour
        if not in_hours(local_tod[i], start, end_hour):
            continue
        c = cust[i]
        t = ts[i]
        ring_insert(ring_ts, ring_ref, c, t, seq[i])
        touched[i] = 1
        lo = t - width
        n = ring_count(ring_ts, c, lo, t)
        if n >= min_purchases:
            fired[i] = 1
            observed[i] = n
            select_evidence(evidence[i], t, window(ring_ts, ring_ref, c, lo))


_SPA: dict[str, Any] = {
    "mcc": "7297",
    "channel": "pos",
    "merchant_id": "M-SPA-3",
    "merchant_name": "GOLDEN TOUCH SPA",
    "city": "Edmonton",
    "province": "AB",
}
_BAR: dict[str, Any] = {
    "mcc": "5813",
    "channel": "pos",
    "merchant_id": "M-BAR-8",
    "merchant_name": "THE LOUNGE",
    "city": "Edmonton",
    "province": "AB",
}

SPEC = IndicatorSpec(
    id="PP-11",
    title="After-hours venue spend",
    description=(
        "Card-present purchases at massage parlours, spas, beauty salons, strip clubs, escort and "
        "dating services and entertainers after the establishment's normal business hours "
        "(F16-T7, F21-S2). A massage parlour taking card payments at 02:00 is selling "
        "something other than massages; the payer may be a buyer, a worker or the operator. "
        "Fires on two such purchases in 30 days between 23:00 and 06:00 local time "
        "(03:00-06:00 for bars and nightclubs, which are normally open until then)."
    ),
    family="LIVING",
    sources=("FINTRAC-2016-OA003 T7", "FINTRAC-2021-OA001 S2"),
    status="experimental",
    severity="low",
    weight=1.5,
    role_signal="context",
    window="30d",
    threshold_param="min_purchases",
    false_positives=(
        "Venues with legitimately late hours (24-hour spas, late-night entertainment "
        "licences) and bars in cities with 04:00 closing.",
        "Late settlement of a tab opened during opening hours (posted time, not sale time).",
    ),
    required_fields=("txn_type", "channel", "mcc", "ts"),
    inputs=("cust", "seq", "ts", "local_tod", "txn_type", "channel", "mcc", "attempted"),
    state=(
        StateArray("ring_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("ring_ref", (RING,), np.int64, -1),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "min_purchases",
            2,
            1,
            RING,
            "after-hours venue purchases in the window",
            integer=True,
            capacity="ring_ts",
        ),
        Param("start_hour", 23, 18, 23, "after hours start at this local hour", integer=True),
        Param("end_hour", 6, 0, 9, "after hours end at this local hour", integer=True),
        Param(
            "bar_start_hour",
            3,
            0,
            23,
            "after hours start at this local hour for bars and nightclubs (5813)",
            integer=True,
        ),
    ),
    kernel=after_hours_venue,
    coverage="partial",
    coverage_note=(
        "FINTRAC asks for purchases outside the merchant's own opening hours; the contract "
        "has no merchant-hours reference, so a fixed local window stands in (23:00-06:00, "
        "bars from 03:00). A `merchant_hours` reference list (merchant_id -> opening hours) "
        "would complete it. Modelling agencies have no MCC of their own."
    ),
    must_fire=(
        example(
            "massage parlour at 01:30 twice",
            txn(1, "purchase", 160.0, at="01:30", **_SPA),
            txn(2, "purchase", 200.0, days=9, at="02:10", **_SPA),
        ),
        example(
            "nightclub at 04:00 twice",
            txn(1, "purchase", 340.0, at="04:05", **_BAR),
            txn(2, "purchase", 410.0, days=6, at="03:40", **_BAR),
        ),
    ),
    must_not_fire=(
        example(
            "spa visits in the afternoon",
            *(txn(n + 1, "purchase", 120.0, days=5 * n, at="15:00", **_SPA) for n in range(4)),
        ),
        example(
            "bar tabs before last call",
            txn(1, "purchase", 85.0, at="23:45", **_BAR),
            txn(2, "purchase", 62.0, days=7, at="01:50", **_BAR),
        ),
    ),
)
