"""PP-03 · Escort ads plus web hosting / marketing: agency operator (ADV)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import BILL_PAYMENT, DAY, EMPTY_TS, PREAUTH, PURCHASE
from indicators.examples import example, txn
from indicators.jit import helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import ring_count, ring_insert, ring_sum, select_evidence, window

RING = 16  # escort-ad payments, and hosting / marketing payments, per customer


@helper
def is_hosting_mcc(mcc: int) -> bool:
    """Computer network services, programming / data processing, advertising services."""
    return mcc == 4816 or mcc == 7372 or mcc == 7311


@kernel
def agency_operator(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    mcc: NDArray[np.int16],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    ad_ts: NDArray[np.int64],
    ad_ref: NDArray[np.int64],
    ad_small: NDArray[np.float32],
    ad_hit: NDArray[np.uint8],
    host_ts: NDArray[np.int64],
    host_ref: NDArray[np.int64],
    window_days: int,
    ad_window_days: int,
    min_payments: int,
    min_small_multiples: int,
    small_max: float,
    min_hosting: int,
    ref_escort_ad_platforms: int,
    ref_ad_premium_terms: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """PP-01's escort-ad pattern and hosting / marketing payments in the same window.

    Self-contained (it does not read PP-01's state): escort-ad payments (purchase or
    pre-auth with the ``escort_ad_platforms`` bit) go to an ad ring that records, per
    payment, whether PP-01's pattern held at it (within ``ad_window_days``: at least
    ``min_payments`` payments, or ``min_small_multiples`` payments of at most ``small_max``
    in multiples of $3, or a premium / featured fee). Purchases, pre-auths and bill payments
    at MCC 4816 / 7372 / 7311 that are not escort-ad payments go to a hosting ring. An ad
    or hosting row fires when, within ``window_days``, the pattern held at some ad payment
    and there are at least ``min_hosting`` hosting payments.

    polars equivalent, per customer: PP-01's rolling counts give ``pattern`` on ad rows;
    then ``rolling(index_column="ts", period=f"{window_days}d")`` over ad and hosting rows of
    ``pattern.any()`` and ``hosting.sum()``.
    """
    width = np.int64(window_days * DAY)
    ad_width = np.int64(ad_window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        flags = ref_flags[i]
        ad = (t_type == PURCHASE or t_type == PREAUTH) and (flags & ref_escort_ad_platforms) != 0
        hosting = (
            (t_type == PURCHASE or t_type == PREAUTH or t_type == BILL_PAYMENT)
            and (flags & ref_escort_ad_platforms) == 0
            and is_hosting_mcc(mcc[i])
        )
        if not ad and not hosting:
            continue
        c = cust[i]
        t = ts[i]
        if ad:
            a = amount[i]
            small = 1.0 if (a == a and a <= small_max and a > 0 and a % 3.0 == 0.0) else 0.0
            slot = ring_insert(ad_ts, ad_ref, c, t, seq[i])
            ad_small[c, slot] = small
            lo_ad = t - ad_width
            hit = (
                ring_count(ad_ts, c, lo_ad, t) >= min_payments
                or ring_sum(ad_ts, ad_small, c, lo_ad, t) >= min_small_multiples
                or (flags & ref_ad_premium_terms) != 0
            )
            ad_hit[c, slot] = 1 if hit else 0
        else:
            ring_insert(host_ts, host_ref, c, t, seq[i])
        touched[i] = 1
        lo = t - width
        pattern = False
        for k in range(ad_ts.shape[1]):
            if ad_hit[c, k] != 0 and lo < ad_ts[c, k] <= t:
                pattern = True
                break
        if not pattern:
            continue
        n_host = ring_count(host_ts, c, lo, t)
        if n_host >= min_hosting:
            fired[i] = 1
            observed[i] = n_host
            select_evidence(
                evidence[i], t, window(ad_ts, ad_ref, c, lo), window(host_ts, host_ref, c, lo)
            )


_AD: dict[str, Any] = {"mcc": "7311", "channel": "ecom"}

SPEC = IndicatorSpec(
    id="PP-03",
    title="Escort ads plus web hosting / marketing (agency operator)",
    description=(
        "The escort-ad payment pattern of PP-01 (frequent ad payments, small multiples of $3, "
        "or premium placement fees) together with payments for web hosting, programming or "
        "marketing services (MCC 4816, 7372, 7311) within 60 days. FINTRAC's 2021 alert "
        "describes escort agencies run from private residences: the operator pays for the "
        "ads and for the agency's own website and promotion, so the combination points to "
        "someone running the advertising for several people rather than to one advertiser."
    ),
    family="ADV",
    sources=("FINTRAC-2021-OA001 R5", "FINTRAC-2021-OA001 G35"),
    status="experimental",
    severity="high",
    weight=2.5,
    role_signal="trafficker",
    window="60d (co-occurrence), 30d (ad pattern)",
    threshold_param="min_hosting",
    false_positives=(
        "Independent escorts who run their own website as well as paying for ads.",
        "Small businesses advertising on general classified sites (listed platforms with "
        "adult sections) that also pay for web hosting.",
        "Marketing agencies placing ads for clients on classified platforms.",
    ),
    required_fields=("txn_type", "amount", "mcc", "merchant_name"),
    inputs=("cust", "seq", "ts", "txn_type", "amount", "mcc", "ref_flags", "attempted"),
    state=(
        StateArray("ad_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("ad_ref", (RING,), np.int64, -1),
        StateArray("ad_small", (RING,), np.float32, 0.0),
        StateArray("ad_hit", (RING,), np.uint8, 0),
        StateArray("host_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("host_ref", (RING,), np.int64, -1),
    ),
    params=(
        Param("window_days", 60, 7, 90, "co-occurrence window, days", integer=True),
        Param(
            "ad_window_days",
            30,
            1,
            90,
            "window of the escort-ad pattern (PP-01), days",
            integer=True,
        ),
        Param(
            "min_payments",
            3,
            1,
            RING,
            "ad payments in the ad window (PP-01)",
            integer=True,
            capacity="ad_ts",
        ),
        Param(
            "min_small_multiples",
            2,
            1,
            RING,
            "ad payments <= small_max in multiples of $3 (PP-01)",
            integer=True,
            capacity="ad_ts",
        ),
        Param("small_max", 30.0, 3.0, 300.0, "largest amount counted as a small multiple (CAD)"),
        Param(
            "min_hosting",
            1,
            1,
            RING,
            "hosting / marketing payments in the window",
            integer=True,
            capacity="host_ts",
        ),
    ),
    kernel=agency_operator,
    reference_lists=("escort_ad_platforms", "ad_premium_terms"),
    coverage="full",
    coverage_note=(
        "MCCs 4816 / 7372 / 7311 are broad; a descriptor list of web hosts and site builders "
        "would sharpen the hosting side."
    ),
    must_fire=(
        example(
            "premium escort ads and a web host in the same month",
            txn(1, "purchase", 12.0, merchant_name="LEOLIST.CC", **_AD),
            txn(2, "purchase", 24.0, days=3, merchant_name="LEOLIST.CC", **_AD),
            txn(
                3,
                "purchase",
                29.99,
                days=10,
                merchant_name="HOSTGATOR.COM",
                mcc="4816",
                channel="ecom",
            ),
        ),
        example(
            "web developer paid, then a featured escort ad",
            txn(1, "purchase", 450.0, merchant_name="WIX.COM", mcc="7372", channel="ecom"),
            txn(2, "purchase", 60.0, days=20, merchant_name="TRYST.LINK FEATURED", **_AD),
        ),
    ),
    must_not_fire=(
        example(
            "escort ads without hosting",
            txn(1, "purchase", 12.0, merchant_name="LEOLIST.CC", **_AD),
            txn(2, "purchase", 24.0, days=3, merchant_name="LEOLIST.CC", **_AD),
        ),
        example(
            "a small business paying for hosting and ordinary ads",
            txn(1, "purchase", 29.99, merchant_name="HOSTGATOR.COM", mcc="4816", channel="ecom"),
            txn(2, "purchase", 150.0, days=5, merchant_name="GOOGLE ADS", **_AD),
            txn(3, "purchase", 150.0, days=35, merchant_name="GOOGLE ADS", **_AD),
        ),
    ),
)
