"""PP-06 · Lodging and cash in the same city (LODGE)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import (
    CASH_DEPOSIT,
    CASH_WITHDRAWAL,
    CHANNEL_CODE,
    DAY,
    EMPTY_TS,
    PREAUTH,
    PURCHASE,
)
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.vocabulary import is_lodging
from indicators.windows import (
    LATEST,
    listed,
    ring_count,
    ring_distinct,
    ring_insert,
    select_evidence,
)

LODGINGS = 16  # recent lodging payments with a city, per customer
PAIRS = 16  # matched lodging -> cash pairs, per customer
ATM = CHANNEL_CODE["atm"]


@kernel
def lodging_cash_colocation(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    channel: NDArray[np.int8],
    mcc: NDArray[np.int16],
    city: NDArray[np.int64],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    profile_flags: NDArray[np.int64],
    lod_ts: NDArray[np.int64],
    lod_ref: NDArray[np.int64],
    lod_city: NDArray[np.int64],
    pair_ts: NDArray[np.int64],
    pair_ref: NDArray[np.int64],
    pair_city: NDArray[np.int64],
    pair_lts: NDArray[np.int64],
    pair_lref: NDArray[np.int64],
    pair_hours: int,
    window_days: int,
    min_pairs: int,
    min_cities: int,
    ref_lodging_platforms: int,
    fact_travel_occupation: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Cash deposits or ATM withdrawals within ``pair_hours`` after a lodging payment in the
    same city, counted over ``window_days``.

    Lodging payments (purchase or pre-auth at a lodging MCC or short-stay platform) with a
    known city go to a ring. A cash deposit (any channel) or a cash withdrawal at an ATM in
    a known city pairs with the most recent lodging payment in that city in the
    ``pair_hours`` before it. A paired cash row fires when the pairs (by cash time) in the
    window reach ``min_pairs`` or their distinct cities reach ``min_cities``, unless the
    profile's occupation explains travel (pairs are still recorded). Evidence: the cash
    rows of those pairs and their lodging payments, newest first.

    polars equivalent, per customer: ``join_asof(strategy="backward", by="city",
    tolerance=f"{pair_hours}h")`` of cash rows onto lodging payments, then
    ``rolling(index_column="ts", period=f"{window_days}d")`` over the matched cash rows of
    ``len()`` and ``city.n_unique()``.
    """
    pair_w = np.int64(pair_hours * 3600)
    width = np.int64(window_days * DAY)
    cand_ts = np.empty(2 * PAIRS, dtype=np.int64)
    cand_ref = np.empty(2 * PAIRS, dtype=np.int64)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        cy = city[i]
        if cy == 0:
            continue
        t_type = txn_type[i]
        c = cust[i]
        t = ts[i]
        if (t_type == PURCHASE or t_type == PREAUTH) and is_lodging(
            mcc[i], ref_flags[i], ref_lodging_platforms
        ):
            k = ring_insert(lod_ts, lod_ref, c, t, seq[i])
            lod_city[c, k] = cy
            touched[i] = 1
            continue
        if not (t_type == CASH_DEPOSIT or (t_type == CASH_WITHDRAWAL and channel[i] == ATM)):
            continue
        best = -1
        for k in range(lod_ts.shape[1]):
            lt = lod_ts[c, k]
            if lod_city[c, k] != cy or not (t - pair_w < lt <= t):
                continue
            if (
                best < 0
                or lt > lod_ts[c, best]
                or (lt == lod_ts[c, best] and lod_ref[c, k] > lod_ref[c, best])
            ):
                best = k
        if best < 0:
            continue
        k = ring_insert(pair_ts, pair_ref, c, t, seq[i])
        pair_city[c, k] = cy
        pair_lts[c, k] = lod_ts[c, best]
        pair_lref[c, k] = lod_ref[c, best]
        touched[i] = 1
        lo = t - width
        n_pairs = ring_count(pair_ts, c, lo, t)
        n_cities = ring_distinct(pair_ts, pair_city, c, lo, t)
        if (profile_flags[c] & fact_travel_occupation) != 0:
            continue
        if n_pairs >= min_pairs or n_cities >= min_cities:
            n = 0
            for k in range(pair_ts.shape[1]):
                if lo < pair_ts[c, k] <= t:
                    cand_ts[n] = pair_ts[c, k]
                    cand_ref[n] = pair_ref[c, k]
                    cand_ts[n + 1] = pair_lts[c, k]
                    cand_ref[n + 1] = pair_lref[c, k]
                    n += 2
            fired[i] = 1
            observed[i] = n_pairs
            select_evidence(evidence[i], LATEST, listed(cand_ts, cand_ref, n))


_HOTEL: dict[str, Any] = {"mcc": "7011", "channel": "pos"}
_ATM: dict[str, Any] = {"channel": "atm"}
_HOME = {"home_city": "Toronto", "home_province": "ON"}

SPEC = IndicatorSpec(
    id="PP-06",
    title="Lodging and cash in the same city",
    description=(
        "A cash deposit or ATM withdrawal within 24 hours after a hotel or short-stay payment "
        "in the same city. FINTRAC (2021) notes that accommodation bookings and cash deposits "
        "happen in the same places, often across several cities (G22), and that ATMs near "
        "the booking are used right after paying for it (G23): a victim deposits the cash "
        "earned where she is being held, or withdraws for the trafficker. Fires on two "
        "matched pairs in 30 days, or matches in two cities; suppressed when the profile's "
        "occupation explains travel."
    ),
    family="LODGE",
    sources=("FINTRAC-2021-OA001 G22", "FINTRAC-2021-OA001 G23"),
    status="experimental",
    severity="medium",
    weight=2.5,
    role_signal="victim",
    window="24h (pair), 30d (pairs)",
    threshold_param="min_pairs",
    false_positives=(
        "Travellers withdrawing cash on arrival at a hotel (tourists, business travellers); "
        "suppressed when the profile's occupation explains travel (truck drivers, sales).",
        "Hotel staff or residents of long-stay motels using the ATM in the lobby.",
    ),
    required_fields=("txn_type", "channel", "mcc", "city", "province"),
    inputs=(
        "cust",
        "seq",
        "ts",
        "txn_type",
        "channel",
        "mcc",
        "city",
        "ref_flags",
        "attempted",
        "profile_flags",
    ),
    state=(
        StateArray("lod_ts", (LODGINGS,), np.int64, EMPTY_TS),
        StateArray("lod_ref", (LODGINGS,), np.int64, -1),
        StateArray("lod_city", (LODGINGS,), np.int64, 0),
        StateArray("pair_ts", (PAIRS,), np.int64, EMPTY_TS),
        StateArray("pair_ref", (PAIRS,), np.int64, -1),
        StateArray("pair_city", (PAIRS,), np.int64, 0),
        StateArray("pair_lts", (PAIRS,), np.int64, EMPTY_TS),
        StateArray("pair_lref", (PAIRS,), np.int64, -1),
    ),
    params=(
        Param(
            "pair_hours",
            24,
            1,
            168,
            "cash within this many hours after the lodging payment",
            integer=True,
        ),
        Param("window_days", 30, 1, 90, "window over matched pairs, days", integer=True),
        Param(
            "min_pairs",
            2,
            1,
            PAIRS,
            "matched lodging -> cash pairs in the window",
            integer=True,
            capacity="pair_ts",
        ),
        Param(
            "min_cities",
            2,
            1,
            PAIRS,
            "distinct cities with a matched pair in the window",
            integer=True,
            capacity="pair_ts",
        ),
    ),
    kernel=lodging_cash_colocation,
    reference_lists=("lodging_platforms",),
    profile_facts=("travel_occupation",),
    coverage="partial",
    coverage_note=(
        "The rule asks for cash within 10 km of the lodging; the contract has no coordinates, "
        "so the test is the same city (city + province). Optional merchant and ATM "
        "latitude / longitude would complete it."
    ),
    must_fire=(
        example(
            "motel then ATM deposit, in two cities",
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
                "cash_deposit",
                600.0,
                hours=5,
                location_id="ATM-TO-9",
                city="Toronto",
                province="ON",
                **_ATM,
            ),
            txn(
                3,
                "purchase",
                149.0,
                days=3,
                merchant_id="M-MOTEL-2",
                merchant_name="MOTEL ST-LAURENT",
                city="Montreal",
                province="QC",
                **_HOTEL,
            ),
            txn(
                4,
                "cash_deposit",
                800.0,
                days=3,
                hours=7,
                location_id="ATM-MTL-2",
                city="Montreal",
                province="QC",
                **_ATM,
            ),
            profile=_HOME,
        ),
    ),
    must_not_fire=(
        example(
            "truck driver at the ATM after motel nights in two cities",
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
                "cash_withdrawal",
                100.0,
                hours=5,
                location_id="ATM-TO-9",
                city="Toronto",
                province="ON",
                **_ATM,
            ),
            txn(
                3,
                "purchase",
                149.0,
                days=3,
                merchant_id="M-MOTEL-2",
                merchant_name="MOTEL ST-LAURENT",
                city="Montreal",
                province="QC",
                **_HOTEL,
            ),
            txn(
                4,
                "cash_withdrawal",
                80.0,
                days=3,
                hours=7,
                location_id="ATM-MTL-2",
                city="Montreal",
                province="QC",
                **_ATM,
            ),
            profile={**_HOME, "occupation": "long-haul truck driver"},
        ),
        example(
            "hotel and cash in different cities",
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
                "cash_withdrawal",
                100.0,
                hours=5,
                location_id="ATM-OTT-3",
                city="Ottawa",
                province="ON",
                **_ATM,
            ),
            txn(
                3,
                "cash_withdrawal",
                100.0,
                hours=9,
                location_id="ATM-OTT-3",
                city="Ottawa",
                province="ON",
                **_ATM,
            ),
        ),
        example(
            "one trip with one withdrawal",
            txn(
                1,
                "purchase",
                210.0,
                merchant_id="M-HOTEL-Q",
                merchant_name="CHATEAU HOTEL",
                city="Quebec",
                province="QC",
                **_HOTEL,
            ),
            txn(
                2,
                "cash_withdrawal",
                100.0,
                hours=3,
                location_id="ATM-QC-1",
                city="Quebec",
                province="QC",
                **_ATM,
            ),
            txn(
                3,
                "cash_withdrawal",
                60.0,
                days=3,
                location_id="ATM-QC-1",
                city="Quebec",
                province="QC",
                **_ATM,
            ),
        ),
    ),
)
