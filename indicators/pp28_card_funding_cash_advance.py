"""PP-28 · Credit-card funding by several payers and cash advances (RAILS)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import BILL_PAYMENT, CASH_ADVANCE, DAY, EFT_IN, EMPTY_TS, TRANSFER_IN
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import (
    bucket_add,
    bucket_sum,
    keyed2_touch,
    ring_count_eq,
    ring_insert,
    select_evidence,
    select_evidence_tag_is,
    tagged_window,
    window,
)

PAYERS = 16  # distinct (account, payer) pairs kept per customer
RING = 16  # recent cash advances kept for evidence
DAYS = 32  # cash-advance day buckets; one more than the widest window
_NO_DAY = np.iinfo(np.int32).min


@kernel
def card_funding_cash_advance(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    local_day: NDArray[np.int32],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    account: NDArray[np.int64],
    counterparty: NDArray[np.int64],
    attempted: NDArray[np.int8],
    pay_acct: NDArray[np.int64],
    pay_cp: NDArray[np.int64],
    pay_ts: NDArray[np.int64],
    pay_ref: NDArray[np.int64],
    adv_day: NDArray[np.int32],
    adv_sum: NDArray[np.float64],
    ca_ts: NDArray[np.int64],
    ca_ref: NDArray[np.int64],
    pay_days: int,
    min_payers: int,
    window_days: int,
    min_advance_cad: float,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Cash advances on a card paid by several outside payers; large cash advances.

    *Card payments*: ``eft_in``, ``transfer_in`` and ``bill_payment`` rows with a
    counterparty, kept as the last payment per ``(account, payer)``. On a ``cash_advance``
    on account A: fires when distinct payers of A in ``(t - pay_days, t]`` reach
    ``min_payers`` (evidence: this advance, then the payers' latest payments), or when cash
    advances (known amounts) on local days ``d - window_days + 1 .. d`` reach
    ``min_advance_cad`` (evidence: advances in ``(t - window_days, t]``). ``observed`` is the
    number of payers for the first sub-rule and the advances' total (CAD) for the second.

    polars equivalent, per customer: a ``rolling(index_column="ts",
    period=f"{pay_days}d", group_by="account")`` ``n_unique`` of payers evaluated at cash
    advances, and a ``local_day`` range sum of cash-advance amounts.
    """
    pay_w = np.int64(pay_days * DAY)
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        c = cust[i]
        t = ts[i]
        acct = account[i]
        if t_type == EFT_IN or t_type == TRANSFER_IN or t_type == BILL_PAYMENT:
            if counterparty[i] != 0:
                keyed2_touch(pay_acct, pay_cp, pay_ts, pay_ref, c, acct, counterparty[i], t, seq[i])
                touched[i] = 1
            continue
        if t_type != CASH_ADVANCE:
            continue
        d = local_day[i]
        a = amount[i]
        ring_insert(ca_ts, ca_ref, c, t, seq[i])
        touched[i] = 1
        if a == a:
            bucket_add(adv_day, adv_sum, c, d, 0, a)
        n_payers = ring_count_eq(pay_ts, pay_acct, c, acct, t - pay_w, t)
        if n_payers >= min_payers:
            fired[i] = 1
            observed[i] = n_payers
            evidence[i, 0] = seq[i]
            select_evidence_tag_is(
                evidence[i, 1:], t, tagged_window(pay_ts, pay_ref, pay_acct, c, t - pay_w), arg=acct
            )
            continue
        if a != a:
            continue
        total = bucket_sum(adv_day, adv_sum, c, d - window_days + 1, d, 0)
        if total >= min_advance_cad:
            fired[i] = 1
            observed[i] = total
            select_evidence(evidence[i], t, window(ca_ts, ca_ref, c, t - width))


_CARD = "A-VISA-4417"


def _payment(n: int, day: float, payer: str, amount: float = 900.0) -> dict[str, Any]:
    return txn(
        n,
        "eft_in",
        amount,
        days=day,
        channel="online",
        account_id=_CARD,
        counterparty_id=payer,
        counterparty_name=payer,
    )


def _advance(n: int, day: float, amount: float) -> dict[str, Any]:
    return txn(
        n,
        "cash_advance",
        amount,
        days=day,
        channel="atm",
        account_id=_CARD,
        card_id="CARD-VISA-4417",
        location_id="ATM-WPG-3",
    )


SPEC = IndicatorSpec(
    id="PP-28",
    title="Credit-card funding by several payers and cash advances",
    description=(
        "A credit card paid from several outside institutions or people and then drawn on by "
        "cash advance within a week (F21-G41), or excessive cash advances (F21-G42). Paying a "
        "card from several sources and taking the value back out as cash layers the "
        "proceeds through the card. Fires on a cash advance when the card account received "
        "payments from two or more distinct payers in the previous 7 days, or when cash "
        "advances reach CAD 2,000 in 30 days. The card may be the trafficker's or a victim's "
        "card run up under coercion, so the rule is context."
    ),
    family="RAILS",
    sources=("FINTRAC-2021-OA001 G41", "FINTRAC-2021-OA001 G42"),
    status="experimental",
    severity="medium",
    weight=1.5,
    role_signal="context",
    window="7d (payments before an advance), 30d (advances)",
    threshold_param="min_payers",
    false_positives=(
        "Customers paying their card from their own accounts at several banks.",
        "Small-business owners paying a personal card from business and personal accounts.",
        "Cash advances for emergencies or travel.",
    ),
    required_fields=("txn_type", "amount", "account_id", "counterparty_id"),
    inputs=(
        "cust",
        "seq",
        "ts",
        "local_day",
        "txn_type",
        "amount",
        "account",
        "counterparty",
        "attempted",
    ),
    state=(
        StateArray("pay_acct", (PAYERS,), np.int64, 0),
        StateArray("pay_cp", (PAYERS,), np.int64, 0),
        StateArray("pay_ts", (PAYERS,), np.int64, EMPTY_TS),
        StateArray("pay_ref", (PAYERS,), np.int64, -1),
        StateArray("adv_day", (DAYS,), np.int32, _NO_DAY),
        StateArray("adv_sum", (DAYS, 1), np.float64, 0.0),
        StateArray("ca_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("ca_ref", (RING,), np.int64, -1),
    ),
    params=(
        Param(
            "pay_days", 7, 1, 30, "payments this long before an advance count, days", integer=True
        ),
        Param(
            "min_payers",
            2,
            1,
            PAYERS,
            "distinct payers of the card account",
            integer=True,
            capacity="pay_acct",
        ),
        Param(
            "window_days",
            30,
            1,
            DAYS - 1,
            "cash-advance window, local days",
            integer=True,
            capacity="adv_day",
            spare=1,
        ),
        Param(
            "min_advance_cad",
            2000.0,
            100.0,
            1_000_000.0,
            "cash advances in the window from this amount fire (CAD)",
        ),
    ),
    kernel=card_funding_cash_advance,
    coverage="partial",
    coverage_note=(
        "The paying institution is not in the contract: distinct payers are distinct "
        "`counterparty_id`s of `eft_in`, `transfer_in` and `bill_payment` rows on the card "
        "account, and the customer's own accounts elsewhere cannot be told apart from third "
        "parties; an optional `originator_institution` field would complete F21-G41. The "
        "peer baseline (3 x the customer's usual advances) is not implemented."
    ),
    must_fire=(
        example(
            "card paid from two banks, then a cash advance",
            _payment(1, 0, "RBC-ACCT-7781"),
            _payment(2, 2, "TD-ACCT-1190"),
            _advance(3, 4, 800.0),
        ),
        example(
            "CAD 2,400 of cash advances in three weeks",
            _advance(1, 0, 800.0),
            _advance(2, 9, 800.0),
            _advance(3, 20, 800.0),
        ),
    ),
    must_not_fire=(
        example(
            "card paid monthly from one account, one small advance",
            _payment(1, 0, "OWN-CHEQUING"),
            _payment(2, 30, "OWN-CHEQUING"),
            _advance(3, 31, 300.0),
        ),
        example(
            "two payers, advance on another account",
            _payment(1, 0, "RBC-ACCT-7781"),
            _payment(2, 1, "TD-ACCT-1190"),
            txn(3, "cash_advance", 500.0, days=2, channel="atm", account_id="A-MC-9921"),
        ),
    ),
)
