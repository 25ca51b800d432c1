"""PP-01 · Escort or classified ad payments (ADV)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from indicators.columns import DAY, EMPTY_TS, PREAUTH, PURCHASE
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import ring_count, ring_insert, ring_sum, select_evidence, window

RING = 16


@kernel
def escort_ad_payments(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    ring_ts: NDArray[np.int64],
    ring_ref: NDArray[np.int64],
    ring_small: NDArray[np.float32],
    window_days: int,
    min_payments: int,
    min_small_multiples: int,
    small_max: float,
    ref_escort_ad_platforms: int,
    ref_ad_premium_terms: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Count payments to escort / classified-ad platforms in a sliding event-time window.

    polars equivalent, per customer: filter ``purchase|preauth`` rows whose descriptor is on
    the escort-ad list, then ``rolling(index_column="ts", period=f"{window_days}d")`` counts
    of all such rows and of those with ``amount <= small_max and amount % 3 == 0``; fire where
    a count reaches its threshold or the row is a premium / featured ad fee.
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        t_type = txn_type[i]
        if (t_type != PURCHASE and t_type != PREAUTH) or (
            ref_flags[i] & ref_escort_ad_platforms
        ) == 0:
            continue
        if attempted[i]:
            continue
        c = cust[i]
        t = ts[i]
        a = amount[i]
        small = 1.0 if (a == a and a <= small_max and a > 0 and a % 3.0 == 0.0) else 0.0
        slot = ring_insert(ring_ts, ring_ref, c, t, seq[i])
        ring_small[c, slot] = small
        touched[i] = 1
        lo = t - width
        n = ring_count(ring_ts, c, lo, t)
        n_small = ring_sum(ring_ts, ring_small, c, lo, t)
        premium = (ref_flags[i] & ref_ad_premium_terms) != 0
        if n >= min_payments or n_small >= min_small_multiples or premium:
            fired[i] = 1
            observed[i] = n
            select_evidence(evidence[i], t, window(ring_ts, ring_ref, c, lo))


SPEC = IndicatorSpec(
    id="PP-01",
    title="Escort or classified ad payments",
    description=(
        "Card or online payments to escort or classified-ad platforms (reference list "
        "`escort_ad_platforms`, matched on the merchant descriptor), frequent or in multiples "
        "of small amounts ($3, $12, $24), or fees for premium / featured placement. Victims' "
        "ads are often paid from their own card, so this is a victim-side pattern."
    ),
    family="ADV",
    sources=("FINTRAC-2016-OA003 T1", "FINTRAC-2021-OA001 G35", "FIN-2020-A008 #7", "AUSTRAC-2022"),
    status="stable",
    severity="high",
    weight=3.0,
    role_signal="victim",
    window="30d",
    threshold_param="min_payments",
    false_positives=(
        "Legitimate classified-ad sellers (cars, furniture) on general platforms that also host "
        "adult sections; the reference list should name adult sections where possible.",
        "Independent adult workers without a trafficker: the constellation and role hypothesis "
        "decide, not this rule alone.",
    ),
    required_fields=("txn_type", "amount", "merchant_name"),
    inputs=("cust", "seq", "ts", "txn_type", "amount", "ref_flags", "attempted"),
    state=(
        StateArray("ring_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("ring_ref", (RING,), np.int64, -1),
        StateArray("ring_small", (RING,), np.float32, 0.0),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "min_payments",
            3,
            1,
            RING,
            "ad payments in the window",
            integer=True,
            capacity="ring_ts",
        ),
        Param(
            "min_small_multiples",
            2,
            1,
            RING,
            "payments <= small_max in multiples of $3",
            integer=True,
            capacity="ring_ts",
        ),
        Param("small_max", 30.0, 3.0, 300.0, "largest amount counted as a small multiple (CAD)"),
    ),
    kernel=escort_ad_payments,
    reference_lists=("escort_ad_platforms", "ad_premium_terms"),
    must_fire=(
        example(
            "three ad payments in ten days",
            txn(
                1, "purchase", 45.0, merchant_name="LEOLIST.CC PREMIUM", mcc="7311", channel="ecom"
            ),
            txn(
                2, "purchase", 60.0, days=4, merchant_name="LEOLIST.CC", mcc="7311", channel="ecom"
            ),
            txn(
                3, "purchase", 45.0, days=9, merchant_name="TRYST.LINK", mcc="7311", channel="ecom"
            ),
        ),
        example(
            "two small multiples",
            txn(1, "purchase", 12.0, merchant_name="LEOLIST.CC", mcc="7311", channel="ecom"),
            txn(
                2, "purchase", 24.0, days=2, merchant_name="LEOLIST.CC", mcc="7311", channel="ecom"
            ),
        ),
    ),
    must_not_fire=(
        example(
            "ordinary advertising",
            txn(1, "purchase", 45.0, merchant_name="GOOGLE ADS", mcc="7311", channel="ecom"),
            txn(
                2, "purchase", 45.0, days=3, merchant_name="GOOGLE ADS", mcc="7311", channel="ecom"
            ),
            txn(
                3, "purchase", 45.0, days=6, merchant_name="GOOGLE ADS", mcc="7311", channel="ecom"
            ),
        ),
        example(
            "two ad payments two months apart",
            txn(1, "purchase", 40.0, merchant_name="LEOLIST.CC", mcc="7311", channel="ecom"),
            txn(
                2, "purchase", 40.0, days=60, merchant_name="LEOLIST.CC", mcc="7311", channel="ecom"
            ),
        ),
    ),
)
