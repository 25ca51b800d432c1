"""PP-02 · Escort-site payment processor / processor credits to a personal account (ADV)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import DAY, EMPTY_TS, PREAUTH, PURCHASE, REFUND, TXN_CODE
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.vocabulary import is_transfer_in
from indicators.windows import ring_count, ring_insert, select_evidence, window

RING = 16  # escort-processor transfers, and inbound processor credits, per customer
REVERSAL = TXN_CODE["reversal"]


@kernel
def escort_processor(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    profile_flags: NDArray[np.int64],
    esc_ts: NDArray[np.int64],
    esc_ref: NDArray[np.int64],
    cred_ts: NDArray[np.int64],
    cred_ref: NDArray[np.int64],
    window_days: int,
    min_escort: int,
    min_credits: int,
    generic_processors: int,
    ref_escort_processors: int,
    ref_online_payment_services: int,
    fact_entity: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Transfers with escort-linked processors, and processor credits to a personal account.

    Two rings. One holds every transfer in or out whose counterparty or merchant is on the
    escort-processor list: any type but the card types (purchase, pre-auth, refund,
    reversal), because adult processors also bill consumers' subscriptions. The other
    holds inbound credits (``emt_in``, ``eft_in``, ``wire_in``, ``transfer_in``) from a
    processor: escort-linked, or any online payment service when ``generic_processors``
    is 1. An escort-processor credit is in both rings (one event). Fires where
    escort-processor transfers in the window reach ``min_escort``, or, for a personal
    account (profile not an entity), processor credits reach ``min_credits``.
    ``observed`` is the escort-processor count when that sub-rule fired, else the credit
    count.

    polars equivalent, per customer: ``rolling(index_column="ts", period=f"{window_days}d")``
    of ``escort.sum()`` and ``processor_credit.sum()`` over the rows that are either, firing
    where ``escort_sum >= min_escort`` or (``~entity`` and ``credit_sum >= min_credits``).
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        flags = ref_flags[i]
        t_type = txn_type[i]
        card = t_type == PURCHASE or t_type == PREAUTH or t_type == REFUND or t_type == REVERSAL
        escort = (flags & ref_escort_processors) != 0 and not card
        credit = is_transfer_in(t_type) and (
            escort or (generic_processors != 0 and (flags & ref_online_payment_services) != 0)
        )
        if not escort and not credit:
            continue
        c = cust[i]
        t = ts[i]
        if escort:
            ring_insert(esc_ts, esc_ref, c, t, seq[i])
        if credit:
            ring_insert(cred_ts, cred_ref, c, t, seq[i])
        touched[i] = 1
        lo = t - width
        n_esc = ring_count(esc_ts, c, lo, t)
        n_cred = ring_count(cred_ts, c, lo, t)
        hit_esc = n_esc >= min_escort
        hit_cred = (profile_flags[c] & fact_entity) == 0 and n_cred >= min_credits
        if hit_esc or hit_cred:
            fired[i] = 1
            observed[i] = n_esc if hit_esc else n_cred
            # A ring whose sub-rule did not fire contributes nothing: its window is (t, t].
            select_evidence(
                evidence[i],
                t,
                window(esc_ts, esc_ref, c, lo if hit_esc else t),
                window(cred_ts, cred_ref, c, lo if hit_cred else t),
            )


_ECOM: dict[str, Any] = {"channel": "online"}

SPEC = IndicatorSpec(
    id="PP-02",
    title="Escort-site payment processor / processor credits to a personal account",
    description=(
        "Transfers to or from payment processors associated with escort websites or adult "
        "entertainment (reference list `escort_processors`, matched on the counterparty name "
        "or merchant descriptor; card purchases are left out because the same processors "
        "bill consumers' subscriptions), and a personal account receiving several transfers from "
        "payment processors. FINTRAC (2021) lists transactions with escort-linked processors "
        "(G26), personal accounts receiving multiple processor transfers (G27), storefronts "
        "paid by such processors (S4) and transfers to people who sell virtual currency on "
        "escort sites (G15): the money from advertised sexual services reaches the account of "
        "whoever operates the ads. Fires on any transfer with an escort-linked processor, or on "
        "two or more processor credits to a personal account in 30 days."
    ),
    family="ADV",
    sources=(
        "FINTRAC-2021-OA001 G15",
        "FINTRAC-2021-OA001 G26",
        "FINTRAC-2021-OA001 G27",
        "FINTRAC-2021-OA001 S4",
    ),
    status="experimental",
    severity="high",
    weight=2.5,
    role_signal="trafficker",
    window="30d",
    threshold_param="min_escort",
    false_positives=(
        "Processors on the list also pay out to mainstream merchants (dating, streaming, "
        "software) and to independent content creators.",
        "Online sellers and freelancers paid out by PayPal, Stripe or Square (the generic "
        "processor credits; set `generic_processors` to 0 to count only escort-linked ones).",
        "Adult content creators paid by adult processors without any coercion: the "
        "constellation and role hypothesis decide, not this rule alone.",
    ),
    required_fields=("txn_type", "counterparty_name", "merchant_name"),
    inputs=("cust", "seq", "ts", "txn_type", "ref_flags", "attempted", "profile_flags"),
    state=(
        StateArray("esc_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("esc_ref", (RING,), np.int64, -1),
        StateArray("cred_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("cred_ref", (RING,), np.int64, -1),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "min_escort",
            1,
            1,
            RING,
            "transfers with escort-linked processors in the window",
            integer=True,
            capacity="esc_ts",
        ),
        Param(
            "min_credits",
            2,
            1,
            RING,
            "inbound processor credits to a personal account",
            integer=True,
            capacity="cred_ts",
        ),
        Param(
            "generic_processors",
            1,
            0,
            1,
            "1: credits from any online payment service count as processor credits (G27); "
            "0: only escort-linked processors",
            integer=True,
        ),
    ),
    kernel=escort_processor,
    reference_lists=("escort_processors", "online_payment_services"),
    profile_facts=("entity",),
    coverage="partial",
    coverage_note=(
        "G15 needs an intel list of individuals who advertise virtual-currency services on "
        "escort sites; the contract has none, so add their names or handles to "
        "`escort_processors` (matched on counterparty_name). Account type is approximated by "
        "the profile's party_type (entity = business); an account-level product type "
        "(personal / business) would complete G27 for people holding both."
    ),
    must_fire=(
        example(
            "payout from an adult-site processor",
            txn(
                1,
                "eft_in",
                640.0,
                counterparty_id="PROC-77",
                counterparty_name="CCBILL LLC",
                **_ECOM,
            ),
        ),
        example(
            "two payment-service transfers into a personal account",
            txn(
                1, "transfer_in", 300.0, counterparty_id="PP-1", counterparty_name="PAYPAL", **_ECOM
            ),
            txn(
                2,
                "transfer_in",
                450.0,
                days=6,
                counterparty_id="PP-1",
                counterparty_name="PAYPAL",
                **_ECOM,
            ),
        ),
    ),
    must_not_fire=(
        example(
            "one payment-service transfer a month",
            txn(
                1, "transfer_in", 120.0, counterparty_id="PP-1", counterparty_name="PAYPAL", **_ECOM
            ),
            txn(
                2,
                "transfer_in",
                80.0,
                days=35,
                counterparty_id="PP-1",
                counterparty_name="PAYPAL",
                **_ECOM,
            ),
        ),
        example(
            "a shop's card processor payouts",
            *(
                txn(
                    n + 1,
                    "eft_in",
                    900.0,
                    days=2 * n,
                    counterparty_id="SQ-1",
                    counterparty_name="SQUARE PAYOUT",
                    **_ECOM,
                )
                for n in range(4)
            ),
            profile={"party_type": "entity", "name": "Corner Bakery Inc."},
        ),
    ),
)
