"""PP-22 · Funded mainly by one individual whose own account shows escort signals (FUNNEL,
cross-customer)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import DAY, EMPTY_TS
from indicators.examples import example, flagged_party, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.vocabulary import is_credit, is_person_credit
from indicators.windows import (
    ring_count_eq,
    ring_insert,
    ring_sum,
    ring_sum_eq,
    select_evidence_tag_is,
    tagged_window,
)

CREDITS = 32  # most recent credits kept per customer (the window is cut to them when busier)


@kernel
def funded_by_flagged(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    counterparty: NDArray[np.int64],
    cp_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    cr_ts: NDArray[np.int64],
    cr_ref: NDArray[np.int64],
    cr_key: NDArray[np.int64],
    cr_amount: NDArray[np.float64],
    window_days: int,
    min_share: float,
    min_credits: int,
    min_total: float,
    signal_adv_lodge: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """A credit from an individual who provides most of the account's money and whose own
    account fired an ADV or LODGE rule.

    Every completed credit (cash deposit, e-transfer, transfer, wire, EFT) enters a ring
    with its amount and, for person-to-person credits, the sender. On a person-to-person
    credit whose sender carries ``signal_adv_lodge`` in ``cp_flags`` (the party index: the
    sender is a customer whose own ADV or LODGE rule fired before this credit), the sender's
    share of the credits in the window is computed; the rule fires when it is at least
    ``min_share``, from at least ``min_credits`` credits, totalling at least ``min_total``.
    With more than ``CREDITS`` credits in the window, the share is over the newest ones.

    polars equivalent, per customer: rolling ``window_days`` sums of ``amount`` over
    credits, grouped by ``counterparty``; ``share = sum_by_sender / sum_all`` on rows with
    ``cp_flags & signal_adv_lodge``.
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        if not is_credit(t_type):
            continue
        a = amount[i]
        if a != a:
            continue
        c = cust[i]
        t = ts[i]
        sender = counterparty[i] if is_person_credit(t_type) else np.int64(0)
        slot = ring_insert(cr_ts, cr_ref, c, t, seq[i])
        cr_key[c, slot] = sender
        cr_amount[c, slot] = a
        touched[i] = 1
        if sender == 0 or (cp_flags[i] & signal_adv_lodge) == 0:
            continue
        lo = t - width
        total = ring_sum(cr_ts, cr_amount, c, lo, t)
        funded = ring_sum_eq(cr_ts, cr_amount, cr_key, c, sender, lo, t)
        if total <= 0.0 or funded < min_total:
            continue
        share = funded / total
        if share >= min_share and ring_count_eq(cr_ts, cr_key, c, sender, lo, t) >= min_credits:
            fired[i] = 1
            observed[i] = share
            select_evidence_tag_is(
                evidence[i], t, tagged_window(cr_ts, cr_ref, cr_key, c, lo), arg=sender
            )


_FUNDER = "C-FUNDER"


def _from_funder(n: int, amount: float, days: float) -> dict[str, Any]:
    return txn(
        n,
        "emt_in",
        amount,
        days=days,
        channel="online",
        counterparty_id=_FUNDER,
        counterparty_name="Ashley",
        counterparty_email="ashley@example.com",
    )


SPEC = IndicatorSpec(
    id="PP-22",
    title="Funded mainly by one individual whose own account shows escort signals",
    description=(
        "FINTRAC-2021-OA001 G28: an account funded mainly by one other individual whose own "
        "account suggests escort activity (FINTRAC describes one woman funding another; the "
        "engine is gender-neutral). A trafficker or a 'bottom' often pays a victim's phone, "
        "lodging and ad costs from an account that itself pays for escort ads or short-stay "
        "lodging. Fires on a credit from such a person when they provided at least 60 % of the "
        "account's credits in 30 days. The funder's signals live in another customer's state: "
        "the engine's party index (engine/crosscustomer/parties.py, topic `party-signals`) tells "
        "each row "
        "whether its counterparty is a customer whose own ADV or LODGE rule fired before it."
    ),
    family="FUNNEL",
    sources=("FINTRAC-2021-OA001 G28",),
    status="experimental",
    severity="high",
    weight=2.0,
    role_signal="victim",
    window="30d",
    threshold_param="min_share",
    false_positives=(
        "Family members supporting each other when one of them travels for work (LODGE) or "
        "buys from a listed platform for other reasons.",
        "Students and dependants funded by one parent.",
    ),
    required_fields=("txn_type", "amount", "counterparty_id or counterparty_email"),
    inputs=("cust", "seq", "ts", "txn_type", "amount", "counterparty", "cp_flags", "attempted"),
    state=(
        StateArray("cr_ts", (CREDITS,), np.int64, EMPTY_TS),
        StateArray("cr_ref", (CREDITS,), np.int64, -1),
        StateArray("cr_key", (CREDITS,), np.int64, 0),
        StateArray("cr_amount", (CREDITS,), np.float64, 0.0),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param("min_share", 0.6, 0.3, 1.0, "the funder's share of the window's credits"),
        Param(
            "min_credits",
            2,
            1,
            CREDITS,
            "credits from the funder in the window",
            integer=True,
            capacity="cr_ts",
        ),
        Param("min_total", 200.0, 0.0, 100_000.0, "CAD from the funder in the window"),
    ),
    kernel=funded_by_flagged,
    party_signals=("adv_lodge",),
    coverage="full",
    coverage_note=(
        "Needs the cross-customer stage (cross_customer = true): the funder must be a customer "
        "of the same reporting entity, named on the credit by counterparty_id (their customer "
        "or account id) or by the e-mail / phone on their profile. A funder whose signal "
        "reaches the index after a credit was processed counts from the next credit on."
    ),
    must_fire=(
        example(
            "three e-transfers from a funder whose account pays for escort ads, 80 % of credits",
            txn(1, "eft_in", 300.0, channel="online", counterparty_id="PAYROLL"),
            _from_funder(2, 400.0, 1),
            _from_funder(3, 400.0, 8),
            _from_funder(4, 400.0, 15),
            parties=(flagged_party("adv_lodge", customer_id=_FUNDER, counterparty_id=_FUNDER),),
        ),
        example(
            "funder named only by e-mail",
            txn(
                1,
                "emt_in",
                500.0,
                channel="online",
                counterparty_name="Ash",
                counterparty_email="Ashley@Example.com",
            ),
            txn(
                2,
                "emt_in",
                500.0,
                days=3,
                channel="online",
                counterparty_name="Ash",
                counterparty_email="ashley@example.com",
            ),
            parties=(
                flagged_party(
                    "adv_lodge", customer_id=_FUNDER, counterparty_email="ashley@example.com"
                ),
            ),
        ),
    ),
    must_not_fire=(
        example(
            "the same funding from someone with no escort signal",
            _from_funder(2, 400.0, 1),
            _from_funder(3, 400.0, 8),
            _from_funder(4, 400.0, 15),
        ),
        example(
            "a flagged sender who provides a small share of credits",
            txn(1, "eft_in", 3000.0, channel="online", counterparty_id="PAYROLL"),
            _from_funder(2, 150.0, 1),
            _from_funder(3, 150.0, 8),
            parties=(flagged_party("adv_lodge", customer_id=_FUNDER, counterparty_id=_FUNDER),),
        ),
        example(
            "the customer's own signal does not count as a funder's",
            _from_funder(2, 400.0, 1),
            _from_funder(3, 400.0, 8),
            parties=(flagged_party("adv_lodge", customer_id="C-EXAMPLE", counterparty_id=_FUNDER),),
        ),
    ),
)
