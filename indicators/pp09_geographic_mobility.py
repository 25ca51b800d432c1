"""PP-09 · Geographic mobility (TRAVEL)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import CHANNEL_CODE, DAY, EMPTY_TS
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import (
    keyed_touch,
    ring_count_except,
    select_evidence_tag_is_not,
    tagged_window,
)

CITIES = 16  # distinct cities kept per customer
PROVINCES = 16  # distinct provinces kept per customer
POS = CHANNEL_CODE["pos"]
ATM = CHANNEL_CODE["atm"]
BRANCH = CHANNEL_CODE["branch"]


@kernel
def geographic_mobility(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    channel: NDArray[np.int8],
    city: NDArray[np.int64],
    province: NDArray[np.int64],
    attempted: NDArray[np.int8],
    home_city: NDArray[np.int64],
    profile_flags: NDArray[np.int64],
    cty_key: NDArray[np.int64],
    cty_ts: NDArray[np.int64],
    cty_ref: NDArray[np.int64],
    prv_key: NDArray[np.int64],
    prv_ts: NDArray[np.int64],
    prv_ref: NDArray[np.int64],
    home_key: NDArray[np.int64],
    home_prov: NDArray[np.int64],
    window_days: int,
    min_cities: int,
    min_provinces: int,
    fact_travel_occupation: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Distinct cities and provinces of in-person transactions, away from home, in a window.

    In-person rows (pos, atm, branch) with a known city outside the profile's home city
    update two keyed tables (last time and ref per city, per province) and fire when
    distinct non-home cities in the window reach ``min_cities``, or distinct non-home
    provinces reach ``min_provinces``; while the home city (province) is unknown, one more
    city (province) is needed, as one of those seen is presumably home. Rows in the home
    city are not recorded (they count towards nothing: their province is the home
    province); they teach the home province, kept with the home city it was learned for,
    so a new home city starts unknown. Customers whose profile's occupation explains
    travel are suppressed and not recorded. Evidence: the latest row in each non-home city
    (or, when only the province rule fired, each non-home province) in the window.

    polars equivalent, per customer: filter in-person rows with a city, then
    ``rolling(index_column="ts", period=f"{window_days}d")`` of
    ``city.n_unique()`` and ``province.filter(province != home_province).n_unique()`` over
    rows outside the home city.
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        ch = channel[i]
        cy = city[i]
        if cy == 0 or (ch != POS and ch != ATM and ch != BRANCH):
            continue
        c = cust[i]
        pv = province[i]
        home = home_city[c]
        if home != 0 and cy == home:
            # Most in-person rows are at home: nothing to count (the city is excluded, and
            # the city's province is the home province), only the province to learn.
            if pv != 0:
                home_key[c] = home
                home_prov[c] = pv
            continue
        if (profile_flags[c] & fact_travel_occupation) != 0:
            continue
        t = ts[i]
        keyed_touch(cty_key, cty_ts, cty_ref, c, cy, t, seq[i])
        if pv != 0:
            keyed_touch(prv_key, prv_ts, prv_ref, c, pv, t, seq[i])
        touched[i] = 1
        hp = home_prov[c] if (home != 0 and home_key[c] == home) else np.int64(0)
        # An unknown home city or province is presumably one of those seen: one more.
        need_cities = min_cities if home != 0 else min_cities + 1
        need_prov = min_provinces if hp != 0 else min_provinces + 1
        lo = t - width
        n_cities = ring_count_except(cty_ts, cty_key, c, lo, t, home)
        n_prov = ring_count_except(prv_ts, prv_key, c, lo, t, hp)
        if n_cities >= need_cities:
            select_evidence_tag_is_not(
                evidence[i], t, tagged_window(cty_ts, cty_ref, cty_key, c, lo), arg=home
            )
        elif n_prov >= need_prov:
            select_evidence_tag_is_not(
                evidence[i], t, tagged_window(prv_ts, prv_ref, prv_key, c, lo), arg=hp
            )
        else:
            continue
        fired[i] = 1
        observed[i] = n_cities


_HOME = {"home_city": "Toronto", "home_province": "ON"}


def _buy(n: int, days: float, city: str, province: str) -> dict[str, Any]:
    return txn(
        n,
        "purchase",
        24.0 + n,
        days=days,
        mcc="5411",
        merchant_id=f"M-GROCER-{n}",
        merchant_name="GROCERY",
        city=city,
        province=province,
    )


SPEC = IndicatorSpec(
    id="PP-09",
    title="Geographic mobility",
    description=(
        "In-person card, ATM and branch transactions in several cities or provinces within "
        "a week, away from the customer's home city (F16-P3). Victims are moved on a circuit "
        "between cities to follow demand and avoid detection, so their everyday spending "
        "shows up in a new city every few days. Fires on three cities, or two provinces, "
        "other than the home city and province within 7 days; suppressed when the profile's "
        "occupation explains travel."
    ),
    family="TRAVEL",
    sources=("FINTRAC-2016-OA003 P3", "FIN-2020-A008 #1"),
    status="experimental",
    severity="low",
    weight=1.5,
    role_signal="victim",
    window="7d",
    threshold_param="min_cities",
    false_positives=(
        "Travelling workers whose occupation is missing or vague in the profile.",
        "Road trips and holidays; people living near a provincial border (Ottawa-Gatineau).",
        "A stale home address (students, recent movers): every city looks like travel.",
    ),
    required_fields=("channel", "city", "province"),
    inputs=(
        "cust",
        "seq",
        "ts",
        "channel",
        "city",
        "province",
        "attempted",
        "home_city",
        "profile_flags",
    ),
    state=(
        StateArray("cty_key", (CITIES,), np.int64, 0),
        StateArray("cty_ts", (CITIES,), np.int64, EMPTY_TS),
        StateArray("cty_ref", (CITIES,), np.int64, -1),
        StateArray("prv_key", (PROVINCES,), np.int64, 0),
        StateArray("prv_ts", (PROVINCES,), np.int64, EMPTY_TS),
        StateArray("prv_ref", (PROVINCES,), np.int64, -1),
        StateArray("home_key", (), np.int64, 0),
        StateArray("home_prov", (), np.int64, 0),
    ),
    params=(
        Param("window_days", 7, 1, 30, "sliding window, days", integer=True),
        Param(
            "min_cities",
            3,
            2,
            CITIES - 1,
            "distinct cities other than home in the window",
            integer=True,
            capacity="cty_key",
            spare=1,
        ),
        Param(
            "min_provinces",
            2,
            1,
            PROVINCES - 1,
            "distinct provinces other than the home province in the window",
            integer=True,
            capacity="prv_key",
            spare=1,
        ),
    ),
    kernel=geographic_mobility,
    profile_facts=("travel_occupation",),
    coverage="partial",
    coverage_note=(
        "The profile's home province is not a kernel column: it is learned from the province "
        "of the customer's transactions in the home city, and until one is seen the province "
        "rule needs one more province (and without a home city on file, the city rule one "
        "more city). A `home_province` profile column would complete it. "
        "Travel-consistent profiles are recognised from the occupation text only."
    ),
    must_fire=(
        example(
            "groceries in four cities in five days",
            _buy(1, 0, "Toronto", "ON"),
            _buy(2, 1, "Kingston", "ON"),
            _buy(3, 2, "Ottawa", "ON"),
            _buy(4, 3, "Montreal", "QC"),
            _buy(5, 5, "Quebec", "QC"),
            profile=_HOME,
        ),
        example(
            "two provinces away from home",
            _buy(1, 0, "Toronto", "ON"),
            _buy(2, 2, "Winnipeg", "MB"),
            _buy(3, 4, "Regina", "SK"),
            profile=_HOME,
        ),
    ),
    must_not_fire=(
        example(
            "truck driver across three provinces",
            _buy(1, 0, "Toronto", "ON"),
            _buy(2, 1, "Montreal", "QC"),
            _buy(3, 2, "Moncton", "NB"),
            _buy(4, 3, "Halifax", "NS"),
            profile={**_HOME, "occupation": "long-haul truck driver"},
        ),
        example(
            "home city and one weekend away",
            _buy(1, 0, "Toronto", "ON"),
            _buy(2, 2, "Niagara Falls", "ON"),
            _buy(3, 3, "Toronto", "ON"),
            _buy(4, 5, "Toronto", "ON"),
            profile=_HOME,
        ),
    ),
)
