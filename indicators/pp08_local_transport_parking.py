"""PP-08 · Local transport and parking (TRAVEL)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import DAY, EMPTY_TS, PURCHASE
from indicators.examples import example, txn
from indicators.jit import helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import ring_count, ring_insert, select_evidence, window

RIDES = 32  # taxi / ride-share / car-rental purchases per customer
PARKING = 32  # low-value parking payments per customer


@helper
def is_ride_mcc(mcc: int) -> bool:
    """Taxis and limousines (ride-hail brands post here), car rental 7512 and brands 3351-3441."""
    return mcc == 4121 or mcc == 7512 or (3351 <= mcc <= 3441)


@kernel
def local_transport_parking(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    mcc: NDArray[np.int16],
    attempted: NDArray[np.int8],
    ride_ts: NDArray[np.int64],
    ride_ref: NDArray[np.int64],
    park_ts: NDArray[np.int64],
    park_ref: NDArray[np.int64],
    ride_days: int,
    min_rides: int,
    park_days: int,
    min_parking: int,
    max_parking_cad: float,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Taxi / ride-share / car-rental purchases per week, and low-value parking per month.

    Two rings. A ride purchase fires when rides in ``ride_days`` reach ``min_rides``; a
    parking purchase (MCC 7523) of a known amount below ``max_parking_cad`` fires when such
    payments in ``park_days`` reach ``min_parking``. Each row is judged, and evidenced, by
    its own category; ``observed`` is that category's count.

    polars equivalent, per customer and category: filter the category's purchases, then
    ``rolling(index_column="ts", period=f"{days}d").agg(pl.len())``.
    """
    ride_w = np.int64(ride_days * DAY)
    park_w = np.int64(park_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0 or txn_type[i] != PURCHASE:
            continue
        m = mcc[i]
        c = cust[i]
        t = ts[i]
        if is_ride_mcc(m):
            ring_insert(ride_ts, ride_ref, c, t, seq[i])
            touched[i] = 1
            n = ring_count(ride_ts, c, t - ride_w, t)
            if n >= min_rides:
                fired[i] = 1
                observed[i] = n
                select_evidence(evidence[i], t, window(ride_ts, ride_ref, c, t - ride_w))
        elif m == 7523:
            a = amount[i]
            if not (a == a and a < max_parking_cad):
                continue
            ring_insert(park_ts, park_ref, c, t, seq[i])
            touched[i] = 1
            n = ring_count(park_ts, c, t - park_w, t)
            if n >= min_parking:
                fired[i] = 1
                observed[i] = n
                select_evidence(evidence[i], t, window(park_ts, park_ref, c, t - park_w))


_TAXI: dict[str, Any] = {
    "mcc": "4121",
    "channel": "mobile",
    "merchant_name": "UBER TRIP",
    "merchant_id": "M-UBER",
    "city": "Vancouver",
    "province": "BC",
}
_PARK: dict[str, Any] = {
    "mcc": "7523",
    "channel": "pos",
    "merchant_name": "IMPARK LOT 212",
    "merchant_id": "M-IMPARK-212",
    "city": "Vancouver",
    "province": "BC",
}

SPEC = IndicatorSpec(
    id="PP-08",
    title="Local transport and parking",
    description=(
        "Frequent taxi, limousine, ride-share or car-rental purchases over a short time "
        "(F16-T4, F21-G4) and frequent low-value parking payments (F21-G10). Victims are "
        "driven to buyers' homes and hotels for out-calls, or drivers wait in parking lots "
        "while calls take place; the spend is inconsistent with ordinary commuting. Fires on "
        "15 rides in 7 days, or 10 parking payments under $20 in 30 days."
    ),
    family="TRAVEL",
    sources=("FINTRAC-2016-OA003 T4", "FINTRAC-2021-OA001 G4", "FINTRAC-2021-OA001 G10"),
    status="experimental",
    severity="low",
    weight=1.0,
    role_signal="context",
    window="7d (rides), 30d (parking)",
    threshold_param="min_rides",
    false_positives=(
        "People without a car who commute by ride-share; couriers and delivery drivers.",
        "Commuters paying daily for parking near work or a hospital; people paying street "
        "parking by app several times a day.",
    ),
    required_fields=("txn_type", "amount", "mcc"),
    inputs=("cust", "seq", "ts", "txn_type", "amount", "mcc", "attempted"),
    state=(
        StateArray("ride_ts", (RIDES,), np.int64, EMPTY_TS),
        StateArray("ride_ref", (RIDES,), np.int64, -1),
        StateArray("park_ts", (PARKING,), np.int64, EMPTY_TS),
        StateArray("park_ref", (PARKING,), np.int64, -1),
    ),
    params=(
        Param("ride_days", 7, 1, 30, "ride window, days", integer=True),
        Param(
            "min_rides",
            15,
            2,
            RIDES,
            "taxi / ride-share / car-rental purchases in the window",
            integer=True,
            capacity="ride_ts",
        ),
        Param("park_days", 30, 1, 90, "parking window, days", integer=True),
        Param(
            "min_parking",
            10,
            2,
            PARKING,
            "low-value parking payments in the window",
            integer=True,
            capacity="park_ts",
        ),
        Param("max_parking_cad", 20.0, 1.0, 200.0, "parking payments below this are low-value"),
    ),
    kernel=local_transport_parking,
    coverage="partial",
    coverage_note=(
        "F16-T4's 'inconsistent with expected activity' needs a baseline (count >= 3 x the "
        "customer's own history); the rule uses absolute floors only. Ride-hail brands are "
        "taken to post as MCC 4121 (not confirmed); a descriptor list of ride-hail merchants "
        "would complete it."
    ),
    must_fire=(
        example(
            "sixteen rides in six days",
            *(txn(n + 1, "purchase", 18.0 + n, hours=9 * n, **_TAXI) for n in range(16)),
        ),
        example(
            "ten short parking stays in three weeks",
            *(txn(n + 1, "purchase", 6.5, days=2 * n, at="22:30", **_PARK) for n in range(10)),
        ),
    ),
    must_not_fire=(
        example(
            "daily commute by ride-share",
            *(txn(n + 1, "purchase", 21.0, days=n, **_TAXI) for n in range(10)),
        ),
        example(
            "monthly parking passes",
            *(txn(n + 1, "purchase", 180.0, days=3 * n, **_PARK) for n in range(10)),
        ),
    ),
)
