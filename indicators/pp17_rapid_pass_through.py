"""PP-17 · Rapid pass-through / kept depleted (FUNNEL)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import (
    BILL_PAYMENT,
    DAY,
    EMPTY_TS,
    PURCHASE,
)
from indicators.examples import example, txn
from indicators.jit import Int64, helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.vocabulary import is_credit, is_debit
from indicators.windows import (
    bucket_add,
    bucket_sum,
    ring_count_where,
    select_evidence_tag_in,
    tagged_window,
)

CREDITS = 16  # pending / recently passed credits per customer
DAYS = 32  # flow day buckets; one more than the widest window (local days can step back one)
# Day-bucket measures.
CREDIT = 0
DEBIT = 1
LIVING = 2
BAL_SUM = 3
BAL_N = 4
_NO_DAY = np.iinfo(np.int32).min


@helper
def is_living_mcc(mcc: int) -> bool:
    """Groceries, convenience, restaurants, fast food, pharmacy, fuel, family clothing, dept."""
    return (
        mcc == 5411
        or mcc == 5499
        or mcc == 5812
        or mcc == 5814
        or mcc == 5912
        or mcc == 5541
        or mcc == 5542
        or mcc == 5651
        or mcc == 5311
    )


@helper
def credit_slot(
    cr_ts: NDArray[np.int64],
    cr_lag: NDArray[np.int64],
    c: int,
    t: Int64,
    pass_w: Int64,
    fast_w: Int64,
    width: Int64,
) -> int:
    """Slot for a new credit: free or no longer useful first, then pending, then counted.

    An entry is *pending* while it can still be passed (unpassed, younger than ``pass_w``)
    and *counted* while it is a fast pass inside the window; anything else is useless.
    Within a class the oldest goes first. A counted entry is only evicted when every slot
    is counted, so the fast count never falls below the ring size minus one: saturation
    never hides the threshold (whose bound is the ring size).
    """
    best = 0
    best_rank = 3
    for k in range(cr_ts.shape[1]):
        tk = cr_ts[c, k]
        lag = cr_lag[c, k]
        if lag < 0 and tk > t - pass_w:
            rank = 1
        elif 0 <= lag < fast_w and tk > t - width:
            rank = 2
        else:
            rank = 0
        if rank < best_rank or (rank == best_rank and tk < cr_ts[c, best]):
            best = k
            best_rank = rank
    return best


@helper
def oldest_pending(
    cr_ts: NDArray[np.int64],
    cr_ref: NDArray[np.int64],
    cr_lag: NDArray[np.int64],
    c: int,
    t: Int64,
    pass_w: Int64,
) -> int:
    """Slot of the oldest unpassed credit in ``(t - pass_w, t]`` (ties: smaller ref), or -1."""
    best = -1
    for k in range(cr_ts.shape[1]):
        tk = cr_ts[c, k]
        if cr_lag[c, k] >= 0 or not (t - pass_w < tk <= t):
            continue
        if (
            best < 0
            or tk < cr_ts[c, best]
            or (tk == cr_ts[c, best] and cr_ref[c, k] < cr_ref[c, best])
        ):
            best = k
    return best


@kernel
def rapid_pass_through(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    local_day: NDArray[np.int32],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    balance: NDArray[np.float64],
    mcc: NDArray[np.int16],
    attempted: NDArray[np.int8],
    cr_ts: NDArray[np.int64],
    cr_ref: NDArray[np.int64],
    cr_left: NDArray[np.float64],
    cr_lag: NDArray[np.int64],
    flow_day: NDArray[np.int32],
    flow_sum: NDArray[np.float64],
    window_days: int,
    min_credit: float,
    pass_share: float,
    pass_hours: int,
    fast_hours: int,
    min_fast_credits: int,
    depleted_ratio: float,
    max_living_share: float,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Credits passed out within hours, on an account kept depleted with no living spend.

    Each credit of at least ``min_credit`` waits to be passed: ``pass_share`` of its amount
    must leave the account. Debits are applied first-in first-out to the unpassed credits
    at most ``pass_hours`` old; a credit whose remainder reaches zero is passed, with lag =
    debit time - credit time. Fires on a debit that passes a credit when the fast passes
    (lag < ``fast_hours``) in the window reach ``min_fast_credits``, the mean known balance
    is below ``depleted_ratio`` of the window's credits (or no balance is known), and living
    spend is under ``max_living_share`` of debits.

    polars equivalent (approximate: the FIFO matching is sequential): per customer, a
    cumulative-sum ``join_asof`` of debits onto credits within ``pass_hours`` gives each
    credit's pass time; then ``rolling(index_column="ts", period=f"{window_days}d")`` of
    ``(lag < fast).sum()`` and ``local_day`` range sums of credits, debits, living spend and
    balances.
    """
    width = np.int64(window_days * DAY)
    pass_w = np.int64(pass_hours * 3600)
    fast_w = np.int64(fast_hours * 3600)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        c = cust[i]
        t = ts[i]
        d = local_day[i]
        t_type = txn_type[i]
        a = amount[i]
        b = balance[i]
        if b == b:
            bucket_add(flow_day, flow_sum, c, d, BAL_SUM, b)
            bucket_add(flow_day, flow_sum, c, d, BAL_N, 1.0)
        if is_credit(t_type):
            if a == a:
                bucket_add(flow_day, flow_sum, c, d, CREDIT, a)
                if a >= min_credit:
                    k = credit_slot(cr_ts, cr_lag, c, t, pass_w, fast_w, width)
                    cr_ts[c, k] = t
                    cr_ref[c, k] = seq[i]
                    cr_left[c, k] = pass_share * a
                    cr_lag[c, k] = -1
                    touched[i] = 1
            continue
        if not is_debit(t_type) or a != a:
            continue
        bucket_add(flow_day, flow_sum, c, d, DEBIT, a)
        if t_type == BILL_PAYMENT or (t_type == PURCHASE and is_living_mcc(mcc[i])):
            bucket_add(flow_day, flow_sum, c, d, LIVING, a)
        passed = False
        left = a
        while left > 0.0:
            k = oldest_pending(cr_ts, cr_ref, cr_lag, c, t, pass_w)
            if k < 0:
                break
            take = min(left, cr_left[c, k])
            cr_left[c, k] -= take
            left -= take
            if cr_left[c, k] <= 0.0:
                cr_lag[c, k] = t - cr_ts[c, k]
                passed = True
        if not passed:
            continue
        lo = t - width
        n_fast = ring_count_where(cr_ts, cr_lag, c, lo, t, 0, fast_w)
        if n_fast < min_fast_credits:
            continue
        first = d - window_days + 1
        credits = bucket_sum(flow_day, flow_sum, c, first, d, CREDIT)
        debits = bucket_sum(flow_day, flow_sum, c, first, d, DEBIT)
        living = bucket_sum(flow_day, flow_sum, c, first, d, LIVING)
        bal_n = bucket_sum(flow_day, flow_sum, c, first, d, BAL_N)
        bal_sum = bucket_sum(flow_day, flow_sum, c, first, d, BAL_SUM)
        depleted = bal_n == 0.0 or bal_sum / bal_n < depleted_ratio * credits
        no_living = debits > 0.0 and living / debits < max_living_share
        if depleted and no_living:
            fired[i] = 1
            observed[i] = n_fast
            select_evidence_tag_in(
                evidence[i], t, tagged_window(cr_ts, cr_ref, cr_lag, c, lo), arg=(0, fast_w)
            )


def _pair(
    n: int,
    day: float,
    amount: float,
    sender: str,
    balance_in: float,
    out_type: str = "cash_withdrawal",
    **out_fields: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An EMT in and, three hours later, a debit of the same amount."""
    credit = txn(
        2 * n - 1,
        "emt_in",
        amount,
        days=day,
        channel="online",
        counterparty_id=sender,
        balance_after=balance_in,
    )
    fields: dict[str, Any] = {
        "channel": "atm",
        "location_id": "ATM-VAN-3",
        "city": "Vancouver",
        "province": "BC",
    }
    fields.update(out_fields)
    debit = txn(
        2 * n, out_type, amount, days=day, hours=3, balance_after=balance_in - amount, **fields
    )
    return credit, debit


SPEC = IndicatorSpec(
    id="PP-17",
    title="Rapid pass-through / kept depleted",
    description=(
        "Deposits and incoming e-transfers that leave the account within hours (cash "
        "withdrawals, bill payments, e-transfers out) on an account kept near empty, with no "
        "sign of ordinary living spend. Victims' accounts are used as a conduit: buyers' "
        "payments and cash land there and are handed on to the trafficker almost at once "
        "(F16-P6, P7; through a business account in F21-G39). Fires when at least five "
        "credits in 30 days were 80% passed out within 24 hours, the mean balance is under "
        "10% of the month's credits, and living spend is under a quarter of debits."
    ),
    family="FUNNEL",
    sources=("FINTRAC-2016-OA003 P6", "FINTRAC-2016-OA003 P7", "FINTRAC-2021-OA001 G39"),
    status="experimental",
    severity="high",
    weight=2.5,
    role_signal="victim",
    window="48h per credit, 30d aggregate",
    threshold_param="min_fast_credits",
    false_positives=(
        "Secondary accounts used only to pay a credit card or move money to savings "
        "(living spend happens on another account).",
        "Students and low-income clients living pay-cheque to pay-cheque, paying rent by EMT "
        "as soon as money arrives.",
        "Informal money-transfer or resale businesses run through a personal account.",
    ),
    required_fields=("txn_type", "amount", "mcc", "balance_after"),
    inputs=("cust", "seq", "ts", "local_day", "txn_type", "amount", "balance", "mcc", "attempted"),
    state=(
        StateArray("cr_ts", (CREDITS,), np.int64, EMPTY_TS),
        StateArray("cr_ref", (CREDITS,), np.int64, -1),
        StateArray("cr_left", (CREDITS,), np.float64, 0.0),
        StateArray("cr_lag", (CREDITS,), np.int64, -1),
        StateArray("flow_day", (DAYS,), np.int32, _NO_DAY),
        StateArray("flow_sum", (DAYS, 5), np.float64, 0.0),
    ),
    params=(
        Param(
            "window_days",
            30,
            1,
            DAYS - 1,
            "aggregate window, days",
            integer=True,
            capacity="flow_day",
            spare=1,
        ),
        Param("min_credit", 50.0, 1.0, 100_000.0, "smallest credit followed (CAD)"),
        Param("pass_share", 0.8, 0.1, 1.0, "share of a credit that must leave to pass it"),
        Param(
            "pass_hours", 48, 1, 168, "a credit can be passed for this long, hours", integer=True
        ),
        Param(
            "fast_hours", 24, 1, 168, "a pass faster than this counts as rapid, hours", integer=True
        ),
        Param(
            "min_fast_credits",
            5,
            1,
            CREDITS,
            "rapidly passed credits in the window",
            integer=True,
            capacity="cr_ts",
        ),
        Param("depleted_ratio", 0.10, 0.0, 1.0, "mean balance below this share of credits"),
        Param("max_living_share", 0.25, 0.0, 1.0, "living spend below this share of debits"),
    ),
    kernel=rapid_pass_through,
    must_fire=(
        example(
            "six EMTs withdrawn as cash within hours",
            *(row for n in range(6) for row in _pair(n + 1, 2 * n, 400.0, f"CP-50{n}", 405.0)),
        ),
        example(
            "five deposits forwarded by e-transfer, no balance reported",
            *(
                row
                for n in range(5)
                for row in (
                    txn(
                        2 * n + 1,
                        "cash_deposit",
                        300.0,
                        days=n,
                        channel="atm",
                        location_id="ATM-VAN-3",
                        city="Vancouver",
                        province="BC",
                    ),
                    txn(
                        2 * n + 2,
                        "emt_out",
                        290.0,
                        days=n,
                        hours=1,
                        channel="mobile",
                        counterparty_id="CP-BOYFRIEND",
                    ),
                )
            ),
        ),
    ),
    must_not_fire=(
        example(
            "credits spent on groceries and bills",
            *(
                row
                for n in range(6)
                for row in _pair(
                    n + 1,
                    2 * n,
                    400.0,
                    f"CP-60{n}",
                    405.0,
                    "purchase",
                    mcc="5411",
                    merchant_name="SAVE-ON-FOODS",
                    merchant_id="M-SOF-1",
                    channel="pos",
                )
            ),
        ),
        example(
            "deposits withdrawn three days later",
            *(
                row
                for n in range(5)
                for row in (
                    txn(
                        2 * n + 1,
                        "emt_in",
                        500.0,
                        days=4 * n,
                        channel="online",
                        counterparty_id=f"CP-70{n}",
                    ),
                    txn(
                        2 * n + 2,
                        "cash_withdrawal",
                        500.0,
                        days=4 * n + 3,
                        channel="atm",
                        location_id="ATM-VAN-3",
                        city="Vancouver",
                        province="BC",
                    ),
                )
            ),
        ),
    ),
)
