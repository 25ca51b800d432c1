"""PP-07 · Distance travel purchases (TRAVEL)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import DAY, EMPTY_TS, PURCHASE
from indicators.examples import example, txn
from indicators.jit import helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import ring_count, ring_insert, ring_sum, select_evidence, window

RING = 16  # tickets per customer


@helper
def is_ticket_mcc(mcc: int) -> bool:
    """Airlines (4511, airline brands 3000-3299), rail 4112, bus 4131, travel agencies 4722."""
    return mcc == 4511 or (3000 <= mcc <= 3299) or mcc == 4112 or mcc == 4131 or mcc == 4722


@kernel
def distance_travel(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    mcc: NDArray[np.int16],
    ref_flags: NDArray[np.int64],
    foreign: NDArray[np.int8],
    attempted: NDArray[np.int8],
    profile_flags: NDArray[np.int64],
    tk_ts: NDArray[np.int64],
    tk_ref: NDArray[np.int64],
    tk_source: NDArray[np.float32],
    window_days: int,
    min_tickets: int,
    min_source_tickets: int,
    ref_source_jurisdictions: int,
    fact_travel_occupation: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Long-distance ticket purchases in a sliding window, and tickets abroad in source
    jurisdictions.

    A ticket is a purchase at an airline, rail, bus or travel-agency MCC. It is a
    source-jurisdiction ticket when the row is foreign (``foreign`` == 1) and its country
    or counterparty country is on the ``source_jurisdictions`` list. A ticket row fires when
    tickets in the window reach ``min_tickets`` (unless the profile's occupation explains
    travel) or source-jurisdiction tickets reach ``min_source_tickets``; evidence is the
    tickets in the window.

    polars equivalent, per customer: filter ticket purchases, then
    ``rolling(index_column="ts", period=f"{window_days}d")`` of ``len()`` and
    ``source.sum()``.
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0 or txn_type[i] != PURCHASE or not is_ticket_mcc(mcc[i]):
            continue
        c = cust[i]
        t = ts[i]
        source = foreign[i] != 0 and (ref_flags[i] & ref_source_jurisdictions) != 0
        k = ring_insert(tk_ts, tk_ref, c, t, seq[i])
        tk_source[c, k] = 1.0 if source else 0.0
        touched[i] = 1
        lo = t - width
        n = ring_count(tk_ts, c, lo, t)
        n_source = ring_sum(tk_ts, tk_source, c, lo, t)
        travel = (profile_flags[c] & fact_travel_occupation) != 0
        if (n >= min_tickets and not travel) or n_source >= min_source_tickets:
            fired[i] = 1
            observed[i] = n
            select_evidence(evidence[i], t, window(tk_ts, tk_ref, c, lo))


_AIR: dict[str, Any] = {"mcc": "4511", "channel": "ecom"}

SPEC = IndicatorSpec(
    id="PP-07",
    title="Distance travel purchases",
    description=(
        "Frequent airline, train or bus tickets (F16-T3), possibly for several people, and "
        "international travel purchases in victim-source jurisdictions (F21-X7). Victims are "
        "moved between cities on a circuit and recruited from abroad; the tickets are often "
        "bought by the trafficker, or on the victim's card. Fires on three tickets in 30 "
        "days (unless the profile's occupation explains travel), or on any ticket bought "
        "abroad in a source jurisdiction."
    ),
    family="TRAVEL",
    sources=("FINTRAC-2016-OA003 T3", "FINTRAC-2021-OA001 X7", "FIN-2020-A008 #2"),
    status="experimental",
    severity="low",
    weight=1.0,
    role_signal="context",
    window="30d",
    threshold_param="min_tickets",
    false_positives=(
        "Business travellers, consultants and people who commute by air or rail whose "
        "profile's occupation does not say so (a travel occupation suppresses the count).",
        "Families booking tickets for several relatives; travel agents paying for clients.",
        "Diaspora travel home to a country on the source-jurisdiction list.",
    ),
    required_fields=("txn_type", "mcc", "country", "counterparty_country"),
    inputs=(
        "cust",
        "seq",
        "ts",
        "txn_type",
        "mcc",
        "ref_flags",
        "foreign",
        "attempted",
        "profile_flags",
    ),
    state=(
        StateArray("tk_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("tk_ref", (RING,), np.int64, -1),
        StateArray("tk_source", (RING,), np.float32, 0.0),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param("min_tickets", 3, 1, RING, "tickets in the window", integer=True, capacity="tk_ts"),
        Param(
            "min_source_tickets",
            1,
            1,
            RING,
            "tickets bought abroad in a source jurisdiction, in the window",
            integer=True,
            capacity="tk_ts",
        ),
    ),
    kernel=distance_travel,
    reference_lists=("source_jurisdictions",),
    profile_facts=("travel_occupation",),
    coverage="partial",
    coverage_note=(
        "The ticket count is complete. X7 needs the route and the passengers (Level-3 airline "
        "data, e.g. optional `route_from`, `route_to`, `passenger_count`) to see travel to or "
        "from a source jurisdiction booked in Canada, and tickets for several people; today "
        "only tickets whose merchant or counterparty is abroad in a listed country count. "
        "The count uses an absolute floor; INDICATORS' 'k x baseline' alternative is not "
        "applied."
    ),
    must_fire=(
        example(
            "three flights in two weeks",
            txn(1, "purchase", 289.0, merchant_name="WESTJET", **_AIR),
            txn(2, "purchase", 310.0, days=5, merchant_name="AIR CANADA", **_AIR),
            txn(3, "purchase", 95.0, days=12, merchant_name="VIA RAIL", mcc="4112", channel="ecom"),
        ),
        example(
            "airfare bought in a source jurisdiction",
            txn(1, "purchase", 1450.0, merchant_name="CHINA EASTERN", country="CN", **_AIR),
        ),
    ),
    must_not_fire=(
        example(
            "two flights a month apart",
            txn(1, "purchase", 289.0, merchant_name="WESTJET", **_AIR),
            txn(2, "purchase", 310.0, days=31, merchant_name="AIR CANADA", **_AIR),
            txn(3, "purchase", 95.0, days=62, merchant_name="VIA RAIL", mcc="4112", channel="ecom"),
        ),
        example(
            "consultant flying every week",
            *(
                txn(n + 1, "purchase", 420.0, days=7 * n, merchant_name="AIR CANADA", **_AIR)
                for n in range(4)
            ),
            profile={"occupation": "management consultant"},
        ),
        example(
            "airfare bought abroad elsewhere",
            txn(1, "purchase", 980.0, merchant_name="LUFTHANSA", country="DE", **_AIR),
        ),
    ),
)
