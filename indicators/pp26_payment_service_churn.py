"""PP-26 · Online payment service churn (RAILS)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import CARD_TO_CARD, DAY, EMPTY_TS
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.pp25_virtual_currency_on_ramp import is_vc_purchase
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import ring_count, ring_insert, select_evidence, window

RING = 16  # small payment-service transactions; onward VC / card payments


@kernel
def payment_service_churn(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    mcc: NDArray[np.int16],
    counterparty: NDArray[np.int64],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    pr_ts: NDArray[np.int64],
    pr_ref: NDArray[np.int64],
    on_ts: NDArray[np.int64],
    on_ref: NDArray[np.int64],
    window_days: int,
    min_processor: int,
    under_cad: float,
    min_onward: int,
    ref_online_payment_services: int,
    ref_vc_dealers: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Many small payment-service transactions and onward VC or third-party card payments.

    *Processor* rows: any transaction (credit or debit) with an online payment service
    (``ref_online_payment_services``) and a known ``amount < under_cad``. *Onward* rows: VC
    purchases (as PP-25) and ``card_to_card`` payments to a peer card. Fires on either kind when, in
    ``(t - window_days, t]``, processor rows reach ``min_processor`` and onward rows reach
    ``min_onward``. Evidence: both kinds merged, newest first.

    polars equivalent, per customer: ``rolling(index_column="ts", period=f"{window_days}d")``
    sums of the ``processor`` and ``onward`` flags; fire where both reach their thresholds.
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        a = amount[i]
        processor = (ref_flags[i] & ref_online_payment_services) != 0 and a == a and a < under_cad
        onward = is_vc_purchase(t_type, mcc[i], ref_flags[i], ref_vc_dealers) or (
            t_type == CARD_TO_CARD and counterparty[i] != 0
        )
        if not processor and not onward:
            continue
        c = cust[i]
        t = ts[i]
        lo = t - width
        if processor:
            ring_insert(pr_ts, pr_ref, c, t, seq[i])
        if onward:
            ring_insert(on_ts, on_ref, c, t, seq[i])
        touched[i] = 1
        n_pr = ring_count(pr_ts, c, lo, t)
        if n_pr >= min_processor and ring_count(on_ts, c, lo, t) >= min_onward:
            fired[i] = 1
            observed[i] = n_pr
            select_evidence(
                evidence[i], t, window(pr_ts, pr_ref, c, lo), window(on_ts, on_ref, c, lo)
            )


def _wallet(
    n: int, day: float, txn_type: str, amount: float, name: str = "PAYPAL"
) -> dict[str, Any]:
    return txn(
        n,
        txn_type,
        amount,
        days=day,
        channel="online",
        counterparty_name=name,
        counterparty_id=f"CP-{name}",
    )


SPEC = IndicatorSpec(
    id="PP-26",
    title="Online payment service churn",
    description=(
        "A personal account with frequent small deposits and payments (under $100) through "
        "online payment services (wallets, P2P apps), then used for virtual-currency purchases "
        "or to pay third parties' cards (F16-T9). Small buyer payments arrive through the "
        "payment service and are moved on through rails that are hard to trace. Fires on ten "
        "payment-service transactions under $100 in 30 days together with any onward VC "
        "purchase or card-to-card payment in the window. The churn says how money moves, not "
        "who controls it, so it is context."
    ),
    family="RAILS",
    sources=("FINTRAC-2016-OA003 T9",),
    status="experimental",
    severity="low",
    weight=1.0,
    role_signal="context",
    window="30d",
    threshold_param="min_processor",
    false_positives=(
        "Online resellers (marketplace sellers) paid in many small amounts through PayPal.",
        "Heavy users of P2P apps for splitting bills who also hold some crypto.",
        "Gig workers paid through payment apps.",
    ),
    required_fields=("txn_type", "amount", "merchant_name", "counterparty_name", "mcc"),
    inputs=(
        "cust",
        "seq",
        "ts",
        "txn_type",
        "amount",
        "mcc",
        "counterparty",
        "ref_flags",
        "attempted",
    ),
    state=(
        StateArray("pr_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("pr_ref", (RING,), np.int64, -1),
        StateArray("on_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("on_ref", (RING,), np.int64, -1),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "min_processor",
            10,
            1,
            RING,
            "payment-service transactions under under_cad in the window",
            integer=True,
            capacity="pr_ts",
        ),
        Param("under_cad", 100.0, 1.0, 1000.0, "payment-service transactions below this count"),
        Param(
            "min_onward",
            1,
            1,
            RING,
            "onward VC or card-to-card payments in the window",
            integer=True,
            capacity="on_ts",
        ),
    ),
    kernel=payment_service_churn,
    reference_lists=("online_payment_services", "vc_dealers"),
    coverage="partial",
    coverage_note=(
        "Whether a credit-card payment goes to the customer's own card or a third party's is "
        "not in the contract, so only `card_to_card` payments to a peer card count as onward "
        "card payments; an optional payee-card ownership field on `bill_payment` would "
        "complete F16-T9."
    ),
    must_fire=(
        example(
            "a dozen small PayPal credits and debits, then bitcoin",
            *(
                _wallet(n + 1, n * 1.5, "emt_in" if n % 3 else "eft_out", 40.0 + 5 * n)
                for n in range(12)
            ),
            txn(13, "vc_buy", 400.0, days=19, channel="online", merchant_name="NDAX"),
        ),
    ),
    must_not_fire=(
        example(
            "many small PayPal purchases, no onward payments",
            *(_wallet(n + 1, n * 2, "purchase", 35.0) for n in range(14)),
        ),
        example(
            "a few wallet transfers and a bitcoin purchase",
            *(_wallet(n + 1, n * 3, "emt_in", 60.0, "VENMO") for n in range(5)),
            txn(6, "vc_buy", 200.0, days=16, channel="online", merchant_name="NDAX"),
        ),
    ),
)
