"""PP-23 · Gift-card and prepaid purchases (RAILS)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import DAY, EMPTY_TS, PURCHASE
from indicators.examples import example, txn
from indicators.jit import helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import ring_count, ring_insert, select_evidence, window

RING = 16  # rounded purchases; single-hit purchases
CONVENIENCE = 5499


@helper
def sells_gift_cards(mcc: int) -> bool:
    """Grocery (5411), convenience (5499) and card / gift shops (5947)."""
    return mcc == 5411 or mcc == CONVENIENCE or mcc == 5947


@kernel
def gift_and_prepaid(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    mcc: NDArray[np.int16],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    rd_ts: NDArray[np.int64],
    rd_ref: NDArray[np.int64],
    sg_ts: NDArray[np.int64],
    sg_ref: NDArray[np.int64],
    window_days: int,
    min_rounded: int,
    rounded_min_cad: float,
    round_unit_cad: float,
    convenience_max_cad: float,
    gift_min_cad: float,
    ref_gift_card_sellers: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Rounded purchases where gift cards are sold, big convenience-store and gift-card buys.

    On a purchase with a known amount: *rounded* when the MCC sells gift cards and
    ``amount >= rounded_min_cad`` and ``amount % round_unit_cad == 0``; *single hit* when a
    convenience store (5499) purchase is above ``convenience_max_cad`` or a gift-card seller
    (``ref_gift_card_sellers``) purchase is at least ``gift_min_cad``. Fires on a rounded purchase
    when rounded purchases in ``(t - window_days, t]`` reach ``min_rounded`` (evidence:
    rounded purchases), else on any single hit (evidence: single hits in the window).

    polars equivalent, per customer: flag columns ``rounded`` and ``single`` on purchases,
    ``rolling(index_column="ts", period=f"{window_days}d")`` sums of each.
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0 or txn_type[i] != PURCHASE:
            continue
        a = amount[i]
        if a != a:
            continue
        m = mcc[i]
        rounded = sells_gift_cards(m) and a >= rounded_min_cad and a % round_unit_cad == 0.0
        single = (m == CONVENIENCE and a > convenience_max_cad) or (
            (ref_flags[i] & ref_gift_card_sellers) != 0 and a >= gift_min_cad
        )
        if not rounded and not single:
            continue
        c = cust[i]
        t = ts[i]
        lo = t - width
        touched[i] = 1
        n_rounded = 0
        if rounded:
            ring_insert(rd_ts, rd_ref, c, t, seq[i])
            n_rounded = ring_count(rd_ts, c, lo, t)
        if single:
            ring_insert(sg_ts, sg_ref, c, t, seq[i])
        if n_rounded >= min_rounded and rounded:
            fired[i] = 1
            observed[i] = n_rounded
            select_evidence(evidence[i], t, window(rd_ts, rd_ref, c, lo))
        elif single:
            fired[i] = 1
            observed[i] = ring_count(sg_ts, c, lo, t)
            select_evidence(evidence[i], t, window(sg_ts, sg_ref, c, lo))


def _shop(n: int, day: float, amount: float, mcc: str, name: str, **fields: Any) -> dict[str, Any]:
    return txn(
        n,
        "purchase",
        amount,
        days=day,
        mcc=mcc,
        merchant_name=name,
        merchant_id=f"M-{name.split()[0]}",
        **fields,
    )


SPEC = IndicatorSpec(
    id="PP-23",
    title="Gift-card and prepaid purchases",
    description=(
        "Rounded-sum purchases (multiples of CAD 25, at least CAD 100) at grocery, "
        "convenience and card shops that sell gift cards and prepaid cards (F21-G1), "
        "atypically large convenience-store purchases (F21-G2), and purchases from online "
        "gift-card merchants (F21-G3). Gift and prepaid cards turn card or cash proceeds into "
        "bearer value that is easy to hand over or resell. Fires on three rounded purchases in "
        "30 days, on any convenience-store purchase above CAD 300, or any gift-card merchant "
        "purchase of CAD 200 or more. Whoever controls the money may be buying (a victim sent "
        "to buy cards, or the trafficker), so the rule is context."
    ),
    family="RAILS",
    sources=("FINTRAC-2021-OA001 G1", "FINTRAC-2021-OA001 G2", "FINTRAC-2021-OA001 G3"),
    status="experimental",
    severity="low",
    weight=1.0,
    role_signal="context",
    window="30d",
    threshold_param="min_rounded",
    false_positives=(
        "Grocery shopping that happens to land on round totals, and holiday gift-card buying.",
        "Convenience stores that sell lottery tickets, tobacco cartons or money orders in bulk.",
        "Employers buying gift cards as staff rewards on a personal card.",
    ),
    required_fields=("txn_type", "amount", "mcc", "merchant_name"),
    inputs=("cust", "seq", "ts", "txn_type", "amount", "mcc", "ref_flags", "attempted"),
    state=(
        StateArray("rd_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("rd_ref", (RING,), np.int64, -1),
        StateArray("sg_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("sg_ref", (RING,), np.int64, -1),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "min_rounded",
            3,
            1,
            RING,
            "rounded purchases in the window",
            integer=True,
            capacity="rd_ts",
        ),
        Param("rounded_min_cad", 100.0, 5.0, 10_000.0, "smallest rounded purchase (CAD)"),
        Param("round_unit_cad", 25.0, 1.0, 500.0, "a rounded amount is a multiple of this"),
        Param(
            "convenience_max_cad",
            300.0,
            20.0,
            10_000.0,
            "convenience-store purchases above this fire (CAD)",
        ),
        Param(
            "gift_min_cad",
            200.0,
            5.0,
            10_000.0,
            "gift-card merchant purchases from this amount fire (CAD)",
        ),
    ),
    kernel=gift_and_prepaid,
    reference_lists=("gift_card_sellers",),
    coverage="full",
    coverage_note=(
        "Whether a grocery or convenience purchase actually included gift or prepaid cards "
        "needs item-level (Level-3) data; the rule uses the round amount as the proxy, as F21 "
        "does."
    ),
    must_fire=(
        example(
            "three rounded grocery purchases in a fortnight",
            _shop(1, 0, 200.0, "5411", "LOBLAWS 1021"),
            _shop(2, 6, 100.0, "5411", "SOBEYS 334"),
            _shop(3, 13, 250.0, "5499", "CIRCLE K 88"),
        ),
        example(
            "online gift-card merchant",
            _shop(1, 0, 250.0, "5999", "EGIFTER.COM", channel="ecom"),
        ),
    ),
    must_not_fire=(
        example(
            "ordinary grocery totals",
            *(_shop(n + 1, 3 * n, 87.43 + 10 * n, "5411", "LOBLAWS 1021") for n in range(6)),
            _shop(7, 20, 75.0, "5411", "LOBLAWS 1021"),
        ),
        example(
            "two rounded purchases and a small gift card",
            _shop(1, 0, 100.0, "5411", "METRO 77"),
            _shop(2, 5, 150.0, "5947", "HALLMARK 4"),
            _shop(3, 8, 50.0, "5999", "GIFTCARDS.COM", channel="ecom"),
        ),
    ),
)
