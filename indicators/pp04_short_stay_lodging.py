"""PP-04 · Short-stay lodging velocity / multi-city (LODGE)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import DAY, EMPTY_TS, PREAUTH, PURCHASE
from indicators.examples import example, txn
from indicators.jit import helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.vocabulary import is_lodging
from indicators.windows import (
    bucket_add,
    bucket_sum,
    ring_count,
    ring_distinct,
    ring_insert,
    select_evidence,
    window,
)

STAYS = 16  # stay table slots per customer
DAYS = 32  # spend day buckets; one more than the widest spend window (local days can step back one)
_NO_DAY = np.iinfo(np.int32).min


@helper
def find_stay(
    stay_ts: NDArray[np.int64],
    stay_ref: NDArray[np.int64],
    stay_merchant: NDArray[np.int64],
    stay_day: NDArray[np.int32],
    c: int,
    merchant: int,
    day: int,
) -> int:
    """Slot of the most recent stay at ``merchant`` whose last day is within one day of ``day``.

    Returns -1 when the row starts a new stay.
    """
    best = -1
    for k in range(stay_ts.shape[1]):
        t = stay_ts[c, k]
        if t == EMPTY_TS or stay_merchant[c, k] != merchant:
            continue
        if abs(np.int64(day) - np.int64(stay_day[c, k])) > 1:
            continue
        if (
            best < 0
            or t > stay_ts[c, best]
            or (t == stay_ts[c, best] and stay_ref[c, k] > stay_ref[c, best])
        ):
            best = k
    return best


@kernel
def short_stay_lodging(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    local_day: NDArray[np.int32],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    mcc: NDArray[np.int16],
    city: NDArray[np.int64],
    merchant: NDArray[np.int64],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    profile_flags: NDArray[np.int64],
    stay_ts: NDArray[np.int64],
    stay_ref: NDArray[np.int64],
    stay_merchant: NDArray[np.int64],
    stay_day: NDArray[np.int32],
    stay_city: NDArray[np.int64],
    spend_day: NDArray[np.int32],
    spend_sum: NDArray[np.float64],
    stay_days: int,
    min_stays: int,
    city_days: int,
    min_cities: int,
    spend_days: int,
    max_spend_cad: float,
    ref_lodging_platforms: int,
    fact_travel_occupation: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Group lodging payments into stays and count stays, cities and spend in sliding windows.

    A lodging row (purchase or pre-auth at a lodging MCC or short-stay platform) joins the
    most recent stay at the same merchant whose last local day is within one day, else it
    starts a new stay. A stay's time and ref are those of its latest row.

    polars equivalent, per customer: assign ``stay_id`` with a cumulative sum over
    ``(merchant changed) | (local_day.diff().abs() > 1)`` within ``group_by("merchant")``;
    then ``rolling(index_column="ts", period=f"{stay_days}d")`` of ``n_unique(stay_id)``,
    ``rolling(period=f"{city_days}d")`` of ``n_unique(city)`` over stays, and a
    ``local_day`` range sum of purchase amounts over ``spend_days``.
    """
    stay_w = np.int64(stay_days * DAY)
    city_w = np.int64(city_days * DAY)
    spend_w = np.int64(spend_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        if (t_type != PURCHASE and t_type != PREAUTH) or not is_lodging(
            mcc[i], ref_flags[i], ref_lodging_platforms
        ):
            continue
        c = cust[i]
        t = ts[i]
        d = local_day[i]
        k = find_stay(stay_ts, stay_ref, stay_merchant, stay_day, c, merchant[i], d)
        if k < 0:
            k = ring_insert(stay_ts, stay_ref, c, t, seq[i])
            stay_merchant[c, k] = merchant[i]
            stay_day[c, k] = d
            stay_city[c, k] = city[i]
            touched[i] = 1
        else:
            if t >= stay_ts[c, k]:
                stay_ts[c, k] = t
                stay_ref[c, k] = seq[i]
                touched[i] = 1
            if d > stay_day[c, k]:
                stay_day[c, k] = d
            if stay_city[c, k] == 0:
                stay_city[c, k] = city[i]
        a = amount[i]
        # Spend counts settled purchases only: a pre-auth is usually followed by the
        # purchase that settles it, and counting both would double the folio.
        if t_type == PURCHASE and a == a:
            bucket_add(spend_day, spend_sum, c, d, 0, a)

        n_stays = ring_count(stay_ts, c, t - stay_w, t)
        velocity = n_stays >= min_stays
        multi_city = False
        big_spend = False
        if (profile_flags[c] & fact_travel_occupation) == 0:
            multi_city = ring_distinct(stay_ts, stay_city, c, t - city_w, t) >= min_cities
            spend = bucket_sum(spend_day, spend_sum, c, d - spend_days + 1, d, 0)
            big_spend = spend > max_spend_cad
        if velocity or multi_city or big_spend:
            # Evidence: the stays in the widest window among the sub-rules that fired.
            width = np.int64(0)
            if velocity:
                width = stay_w
            if multi_city and city_w > width:
                width = city_w
            if big_spend and spend_w > width:
                width = spend_w
            fired[i] = 1
            observed[i] = n_stays
            select_evidence(evidence[i], t, window(stay_ts, stay_ref, c, t - width))


_HOTEL: dict[str, Any] = {"mcc": "7011", "channel": "pos"}

SPEC = IndicatorSpec(
    id="PP-04",
    title="Short-stay lodging velocity / multi-city",
    description=(
        "Payments for hotels, motels and short-stay platforms grouped into stays (same "
        "merchant, consecutive local days). FINTRAC lists short stays and stays in several "
        "cities over a short period because victims are moved between hotels and cities to "
        "meet buyers where ads are posted; the rooms are often booked on the victim's own "
        "card. Fires on many distinct stays in 14 days, on stays in two or more cities within "
        "7 days, or on lodging spend above the AUSTRAC anchor (CAD 2,000 in 30 days); the last "
        "two are suppressed when the profile's occupation explains travel."
    ),
    family="LODGE",
    sources=("FINTRAC-2016-OA003 T2", "FINTRAC-2021-OA001 G25", "FIN-2020-A008 #2", "AUSTRAC-2022"),
    status="experimental",
    severity="medium",
    weight=2.5,
    role_signal="victim",
    window="14d (stays), 7d (cities), 30d (spend)",
    threshold_param="min_stays",
    false_positives=(
        "Truck drivers, travelling salespeople, construction and film crews, and consultants "
        "who move between hotels every few nights (the profile's travel occupation suppresses "
        "the multi-city and spend sub-rules, not the velocity one).",
        "People between homes (renovation, eviction, insurance claims) living in motels.",
        "Event travel (tournaments, concerts) booked at several properties in one week.",
    ),
    required_fields=("txn_type", "amount", "mcc", "merchant_id", "city", "province"),
    inputs=(
        "cust",
        "seq",
        "ts",
        "local_day",
        "txn_type",
        "amount",
        "mcc",
        "city",
        "merchant",
        "ref_flags",
        "attempted",
        "profile_flags",
    ),
    state=(
        StateArray("stay_ts", (STAYS,), np.int64, EMPTY_TS),
        StateArray("stay_ref", (STAYS,), np.int64, -1),
        StateArray("stay_merchant", (STAYS,), np.int64, 0),
        StateArray("stay_day", (STAYS,), np.int32, _NO_DAY),
        StateArray("stay_city", (STAYS,), np.int64, 0),
        StateArray("spend_day", (DAYS,), np.int32, _NO_DAY),
        StateArray("spend_sum", (DAYS, 1), np.float64, 0.0),
    ),
    params=(
        Param("stay_days", 14, 1, 90, "velocity window, days", integer=True),
        Param(
            "min_stays",
            4,
            2,
            STAYS,
            "distinct stays in the velocity window",
            integer=True,
            capacity="stay_ts",
        ),
        Param("city_days", 7, 1, 90, "multi-city window, days", integer=True),
        Param(
            "min_cities",
            2,
            2,
            STAYS,
            "distinct cities among stays in the city window",
            integer=True,
            capacity="stay_ts",
        ),
        Param(
            "spend_days",
            30,
            1,
            DAYS - 1,
            "spend window, local days",
            integer=True,
            capacity="spend_day",
            spare=1,
        ),
        Param(
            "max_spend_cad",
            2000.0,
            100.0,
            100_000.0,
            "lodging purchases in the spend window above this fire (CAD)",
        ),
    ),
    kernel=short_stay_lodging,
    reference_lists=("lodging_platforms",),
    profile_facts=("travel_occupation",),
    must_fire=(
        example(
            "four motels in ten days",
            txn(
                1,
                "purchase",
                129.0,
                merchant_id="M-MOTEL-1",
                merchant_name="BUDGET INN",
                city="Toronto",
                province="ON",
                **_HOTEL,
            ),
            txn(
                2,
                "purchase",
                119.0,
                days=3,
                merchant_id="M-MOTEL-2",
                merchant_name="AIRPORT MOTOR HOTEL",
                city="Toronto",
                province="ON",
                **_HOTEL,
            ),
            txn(
                3,
                "purchase",
                140.0,
                days=6,
                merchant_id="M-MOTEL-3",
                merchant_name="LAKESHORE MOTEL",
                city="Toronto",
                province="ON",
                **_HOTEL,
            ),
            txn(
                4,
                "purchase",
                99.0,
                days=9,
                merchant_id="M-MOTEL-4",
                merchant_name="HIGHWAY 401 INN",
                city="Toronto",
                province="ON",
                **_HOTEL,
            ),
        ),
        example(
            "hotels in two cities within a week",
            txn(
                1,
                "purchase",
                180.0,
                merchant_id="M-HOTEL-TO",
                merchant_name="DOWNTOWN SUITES",
                city="Toronto",
                province="ON",
                **_HOTEL,
            ),
            txn(
                2,
                "purchase",
                165.0,
                days=3,
                merchant_id="M-HOTEL-MTL",
                merchant_name="HOTEL CENTRE-VILLE",
                city="Montreal",
                province="QC",
                **_HOTEL,
            ),
        ),
    ),
    must_not_fire=(
        example(
            "one week-long hotel stay charged nightly",
            *(
                txn(
                    n + 1,
                    "purchase",
                    149.0,
                    days=n,
                    merchant_id="M-HOTEL-OTT",
                    merchant_name="RIDEAU HOTEL",
                    city="Ottawa",
                    province="ON",
                    **_HOTEL,
                )
                for n in range(7)
            ),
        ),
        example(
            "truck driver in two cities",
            txn(
                1,
                "purchase",
                110.0,
                merchant_id="M-TRUCK-1",
                merchant_name="TRUCK STOP INN",
                city="Kingston",
                province="ON",
                **_HOTEL,
            ),
            txn(
                2,
                "purchase",
                105.0,
                days=2,
                merchant_id="M-TRUCK-2",
                merchant_name="MOTEL RIVE-SUD",
                city="Levis",
                province="QC",
                **_HOTEL,
            ),
            profile={"occupation": "truck driver", "home_city": "Toronto", "home_province": "ON"},
        ),
    ),
)
