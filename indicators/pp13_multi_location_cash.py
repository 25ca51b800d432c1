"""PP-13 · Multi-location cash deposits / cross-city deposit then spend (CASHGEO)."""

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
    EVIDENCE_SLOTS,
    PURCHASE,
)
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import (
    keyed_distinct,
    keyed_touch,
    ring_count,
    ring_insert,
    select_evidence,
    window,
)

LOCATIONS = 16  # distinct deposit locations kept per customer
CITIES = 16  # distinct deposit cities kept per customer
AWAY = 16  # recent deposits away from the home city
POS = CHANNEL_CODE["pos"]
ATM = CHANNEL_CODE["atm"]
BRANCH = CHANNEL_CODE["branch"]


@kernel
def multi_location_cash(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    channel: NDArray[np.int8],
    city: NDArray[np.int64],
    location: NDArray[np.int64],
    attempted: NDArray[np.int8],
    home_city: NDArray[np.int64],
    loc_key: NDArray[np.int64],
    loc_ts: NDArray[np.int64],
    loc_ref: NDArray[np.int64],
    city_key: NDArray[np.int64],
    city_ts: NDArray[np.int64],
    city_ref: NDArray[np.int64],
    away_ts: NDArray[np.int64],
    away_ref: NDArray[np.int64],
    dep_ts: NDArray[np.int64],
    dep_city: NDArray[np.int64],
    dep_ref: NDArray[np.int64],
    loc_days: int,
    min_locations: int,
    min_cities: int,
    away_days: int,
    min_away: int,
    pair_hours: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Distinct cash-deposit locations and cities, away-from-home deposits, and A→B pairs.

    A deposit's location is its ``location`` hash (branch / ATM), else its city hash.
    ``dep_*`` remembers the last deposit with a known city; a later in-person withdrawal or
    purchase (pos / atm / branch) in another known city within ``pair_hours`` fires.

    polars equivalent, per customer: over cash deposits,
    ``rolling(index_column="ts", period=f"{loc_days}d")`` of ``n_unique(location)`` and
    ``n_unique(city)``, and ``rolling(period=f"{away_days}d")`` of
    ``((city != home_city) & (city != 0) & (home_city != 0)).sum()``; for the pairs, a
    ``join_asof(strategy="backward", tolerance=f"{pair_hours}h")`` of in-person debits onto
    the deposits with a known city, keeping pairs whose cities differ.
    """
    loc_w = np.int64(loc_days * DAY)
    away_w = np.int64(away_days * DAY)
    pair_w = np.int64(pair_hours * 3600)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        c = cust[i]
        t = ts[i]
        cy = city[i]
        if t_type == CASH_DEPOSIT:
            key = location[i] if location[i] != 0 else cy
            if key != 0:
                keyed_touch(loc_key, loc_ts, loc_ref, c, key, t, seq[i])
                touched[i] = 1
            if cy != 0:
                keyed_touch(city_key, city_ts, city_ref, c, cy, t, seq[i])
                touched[i] = 1
                if t >= dep_ts[c]:
                    dep_ts[c] = t
                    dep_city[c] = cy
                    dep_ref[c] = seq[i]
                home = home_city[c]
                if home != 0 and cy != home:
                    ring_insert(away_ts, away_ref, c, t, seq[i])
            lo = t - loc_w
            n_loc = keyed_distinct(loc_ts, c, lo, t)
            n_city = keyed_distinct(city_ts, c, lo, t)
            n_away = ring_count(away_ts, c, t - away_w, t)
            # Evidence from the first sub-rule that fired, in this order.
            if n_loc >= min_locations:
                select_evidence(evidence[i], t, window(loc_ts, loc_ref, c, lo))
            elif n_city >= min_cities:
                select_evidence(evidence[i], t, window(city_ts, city_ref, c, lo))
            elif n_away >= min_away:
                select_evidence(evidence[i], t, window(away_ts, away_ref, c, t - away_w))
            else:
                continue
            fired[i] = 1
            observed[i] = n_loc
        elif t_type == CASH_WITHDRAWAL or t_type == PURCHASE:
            ch = channel[i]
            if ch != POS and ch != ATM and ch != BRANCH:
                continue
            d_ts = dep_ts[c]
            if cy == 0 or d_ts == EMPTY_TS or dep_city[c] == cy:
                continue
            if not (t - pair_w < d_ts <= t):
                continue
            fired[i] = 1
            observed[i] = keyed_distinct(loc_ts, c, t - loc_w, t)
            evidence[i, 0] = seq[i]
            evidence[i, 1] = dep_ref[c]
            for j in range(2, EVIDENCE_SLOTS):
                evidence[i, j] = -1
            # The current row is evidence; mark it so the engine keeps its transaction id.
            touched[i] = 1


_TORONTO: dict[str, Any] = {"city": "Toronto", "province": "ON"}
_HOME = {"home_city": "Toronto", "home_province": "ON"}

SPEC = IndicatorSpec(
    id="PP-13",
    title="Multi-location cash deposits / cross-city deposit then spend",
    description=(
        "Cash deposits at several branches or ATMs, in several cities, or away from the "
        "customer's home city, and a deposit in one city followed within 36 hours by an "
        "in-person withdrawal or purchase in another. Victims moved on a circuit deposit each "
        "stop's cash where they are, so the account is fed from places the client neither "
        "lives nor does business in (funnel account behaviour, F16-P2, P8, P9)."
    ),
    family="CASHGEO",
    sources=(
        "FINTRAC-2016-OA003 P2",
        "FINTRAC-2016-OA003 P8",
        "FINTRAC-2016-OA003 P9",
        "AUSTRAC-2022",
    ),
    status="experimental",
    severity="medium",
    weight=2.0,
    role_signal="victim",
    window="7d (locations, cities), 30d (away from home), 36h (city pairs)",
    threshold_param="min_locations",
    false_positives=(
        "Cash-heavy small businesses depositing at whichever branch is nearest the day's work.",
        "Commuters and people living near a city boundary (two cities in one week).",
        "Travelling workers depositing cash on the road; students away from the home address "
        "on file (stale profiles).",
    ),
    required_fields=("txn_type", "channel", "city", "province", "location_id"),
    inputs=(
        "cust",
        "seq",
        "ts",
        "txn_type",
        "channel",
        "city",
        "location",
        "attempted",
        "home_city",
    ),
    state=(
        StateArray("loc_key", (LOCATIONS,), np.int64, 0),
        StateArray("loc_ts", (LOCATIONS,), np.int64, EMPTY_TS),
        StateArray("loc_ref", (LOCATIONS,), np.int64, -1),
        StateArray("city_key", (CITIES,), np.int64, 0),
        StateArray("city_ts", (CITIES,), np.int64, EMPTY_TS),
        StateArray("city_ref", (CITIES,), np.int64, -1),
        StateArray("away_ts", (AWAY,), np.int64, EMPTY_TS),
        StateArray("away_ref", (AWAY,), np.int64, -1),
        StateArray("dep_ts", (), np.int64, EMPTY_TS),
        StateArray("dep_city", (), np.int64, 0),
        StateArray("dep_ref", (), np.int64, -1),
    ),
    params=(
        Param("loc_days", 7, 1, 90, "window for distinct locations and cities, days", integer=True),
        Param(
            "min_locations",
            3,
            2,
            LOCATIONS,
            "distinct deposit locations in the window",
            integer=True,
            capacity="loc_key",
        ),
        Param(
            "min_cities",
            2,
            2,
            CITIES,
            "distinct deposit cities in the window",
            integer=True,
            capacity="city_key",
        ),
        Param("away_days", 30, 1, 90, "window for deposits away from home, days", integer=True),
        Param(
            "min_away",
            3,
            1,
            AWAY,
            "deposits outside the home city in the window",
            integer=True,
            capacity="away_ts",
        ),
        Param(
            "pair_hours",
            36,
            1,
            72,
            "deposit then spend in another city within, hours",
            integer=True,
        ),
    ),
    kernel=multi_location_cash,
    must_fire=(
        example(
            "three ATMs in five days",
            txn(1, "cash_deposit", 400.0, channel="atm", location_id="ATM-TO-001", **_TORONTO),
            txn(
                2,
                "cash_deposit",
                350.0,
                days=2,
                channel="atm",
                location_id="ATM-TO-114",
                **_TORONTO,
            ),
            txn(
                3,
                "cash_deposit",
                500.0,
                days=5,
                channel="atm",
                location_id="ATM-TO-207",
                **_TORONTO,
            ),
            profile=_HOME,
        ),
        example(
            "deposit in Toronto, withdrawal in Montreal next day",
            txn(1, "cash_deposit", 700.0, channel="atm", location_id="ATM-TO-001", **_TORONTO),
            txn(
                2,
                "cash_withdrawal",
                300.0,
                hours=26,
                channel="atm",
                location_id="ATM-MTL-9",
                city="Montreal",
                province="QC",
            ),
            profile=_HOME,
        ),
    ),
    must_not_fire=(
        example(
            "weekly deposits at the home branch",
            *(
                txn(
                    n + 1,
                    "cash_deposit",
                    250.0,
                    days=7 * n,
                    channel="branch",
                    location_id="BR-TO-0042",
                    **_TORONTO,
                )
                for n in range(4)
            ),
            profile=_HOME,
        ),
        example(
            "deposit then purchase in the same city",
            txn(1, "cash_deposit", 300.0, channel="atm", location_id="ATM-TO-001", **_TORONTO),
            txn(
                2,
                "purchase",
                45.0,
                hours=20,
                mcc="5411",
                merchant_name="METRO 123",
                merchant_id="M-METRO-123",
                **_TORONTO,
            ),
            txn(
                3,
                "purchase",
                30.0,
                days=3,
                mcc="5814",
                merchant_name="TIM HORTONS",
                merchant_id="M-TIMS-9",
                city="Ottawa",
                province="ON",
            ),
            profile=_HOME,
        ),
    ),
)
