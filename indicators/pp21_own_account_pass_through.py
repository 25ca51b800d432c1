"""PP-21 · Business-account pass-through / intra-owner shuffling (FUNNEL)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import (
    CASH_DEPOSIT,
    CASH_WITHDRAWAL,
    DAY,
    EMPTY_TS,
    EMT_IN,
    EMT_OUT,
    TRANSFER_IN,
    TRANSFER_OUT,
)
from indicators.examples import example, txn
from indicators.jit import helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import (
    drain_oldest_eq,
    keyed_last,
    keyed_touch,
    ring_count,
    ring_insert,
    select_evidence,
    window,
)

PENDING = 16  # own-transfer legs waiting for their other leg
ACCOUNTS = 8  # accounts whose last personal credit is remembered
RING = 16  # own transfers; chain candidates; completed chains
OUT = 1
IN = 2


@helper
def find_other_leg(
    pd_ts: NDArray[np.int64],
    pd_ref: NDArray[np.int64],
    pd_acct: NDArray[np.int64],
    pd_amt: NDArray[np.float64],
    pd_dir: NDArray[np.int8],
    c: int,
    acct: int,
    a: float,
    direction: int,
    lo: int,
    hi: int,
) -> int:
    """Slot of the oldest pending leg (ties: smaller ref) of the other direction, on another
    account, for the same amount, with ``lo < ts <= hi``; -1 if none."""
    best = -1
    for k in range(pd_ts.shape[1]):
        t = pd_ts[c, k]
        if not (lo < t <= hi) or pd_dir[c, k] == direction or pd_acct[c, k] == acct:
            continue
        if pd_amt[c, k] != a:
            continue
        if (
            best < 0
            or t < pd_ts[c, best]
            or (t == pd_ts[c, best] and pd_ref[c, k] < pd_ref[c, best])
        ):
            best = k
    return best


@kernel
def own_account_pass_through(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    account: NDArray[np.int64],
    attempted: NDArray[np.int8],
    pd_ts: NDArray[np.int64],
    pd_ref: NDArray[np.int64],
    pd_acct: NDArray[np.int64],
    pd_amt: NDArray[np.float64],
    pd_dir: NDArray[np.int8],
    cr_key: NDArray[np.int64],
    cr_ts: NDArray[np.int64],
    cr_ref: NDArray[np.int64],
    xf_ts: NDArray[np.int64],
    xf_ref: NDArray[np.int64],
    ch_ts: NDArray[np.int64],
    ch_ref: NDArray[np.int64],
    ch_acct: NDArray[np.int64],
    ch_left: NDArray[np.float64],
    cc_ts: NDArray[np.int64],
    cc_ref: NDArray[np.int64],
    window_days: int,
    pair_hours: int,
    forward_hours: int,
    drain_hours: int,
    drain_share: float,
    min_chains: int,
    min_transfers: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Transfers between the customer's own accounts, and credit → own transfer → drain chains.

    *Own transfer*: a ``transfer_out`` on account A and a ``transfer_in`` on another account
    B of the same customer, for the same known amount (> 0), within ``pair_hours`` (either
    leg first). When the second leg arrives it pairs with the oldest pending other leg; the
    own transfer is recorded at that time with the ``transfer_out``'s ref.

    *Chain*: an own transfer whose source A received a personal credit (``cash_deposit`` or
    ``emt_in``) in ``(t - forward_hours, t]`` becomes a candidate; ``emt_out`` and
    ``cash_withdrawal`` debits on B are applied first-in first-out to B's candidates made in
    the last ``drain_hours``; a candidate drained of ``drain_share`` of its amount completes
    a chain at the debit's time (ref: the ``transfer_out``).

    Fires on a pairing row when own transfers in ``(t - window_days, t]`` reach
    ``min_transfers`` (evidence: own transfers), and on a debit completing a chain when
    chains completed in the window reach ``min_chains`` (evidence: chains).

    polars equivalent (approximate: pairing and draining are sequential): per customer a
    ``join_asof`` of ``transfer_in`` onto ``transfer_out`` by amount within ``pair_hours``
    with different ``account``; a ``join_asof`` of personal credits by source account; a
    cumulative-sum ``join_asof`` of debits on the destination; ``rolling`` counts.
    """
    width = np.int64(window_days * DAY)
    pair_w = np.int64(pair_hours * 3600)
    fwd_w = np.int64(forward_hours * 3600)
    drain_w = np.int64(drain_hours * 3600)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        c = cust[i]
        t = ts[i]
        acct = account[i]
        a = amount[i]
        if t_type == CASH_DEPOSIT or t_type == EMT_IN:
            if acct != 0:
                keyed_touch(cr_key, cr_ts, cr_ref, c, acct, t, seq[i])
            continue
        if t_type == TRANSFER_OUT or t_type == TRANSFER_IN:
            if acct == 0 or a != a or a <= 0.0:
                continue
            direction = OUT if t_type == TRANSFER_OUT else IN
            k = find_other_leg(
                pd_ts, pd_ref, pd_acct, pd_amt, pd_dir, c, acct, a, direction, t - pair_w, t
            )
            if k < 0:
                k = ring_insert(pd_ts, pd_ref, c, t, seq[i])
                pd_acct[c, k] = acct
                pd_amt[c, k] = a
                pd_dir[c, k] = direction
                touched[i] = 1
                continue
            if direction == OUT:
                out_ref = seq[i]
                src = acct
                dst = pd_acct[c, k]
                touched[i] = 1
            else:
                out_ref = pd_ref[c, k]
                src = pd_acct[c, k]
                dst = acct
            pd_ts[c, k] = EMPTY_TS
            ring_insert(xf_ts, xf_ref, c, t, out_ref)
            credited = keyed_last(cr_key, cr_ts, c, src)
            if t - fwd_w < credited <= t:
                j = ring_insert(ch_ts, ch_ref, c, t, out_ref)
                ch_acct[c, j] = dst
                ch_left[c, j] = drain_share * a
            lo = t - width
            n = ring_count(xf_ts, c, lo, t)
            if n >= min_transfers:
                fired[i] = 1
                observed[i] = n
                select_evidence(evidence[i], t, window(xf_ts, xf_ref, c, lo))
            continue
        if (t_type != EMT_OUT and t_type != CASH_WITHDRAWAL) or a != a or acct == 0:
            continue
        completed = drain_oldest_eq(
            ch_ts, ch_ref, ch_acct, ch_left, cc_ts, cc_ref, c, acct, a, t - drain_w, t
        )
        if not completed:
            continue
        lo = t - width
        n = ring_count(cc_ts, c, lo, t)
        if n >= min_chains:
            fired[i] = 1
            observed[i] = n
            select_evidence(evidence[i], t, window(cc_ts, cc_ref, c, lo))


_PERSONAL = "A-CHQ-PERSONAL"
_BUSINESS = "A-BUS-SPA-LTD"


def _chain(n: int, day: float, amount: float) -> tuple[dict[str, Any], ...]:
    """An EMT into the personal account, moved to the business account, paid out by EMT."""
    return (
        txn(
            4 * n + 1,
            "emt_in",
            amount,
            days=day,
            channel="online",
            account_id=_PERSONAL,
            counterparty_id=f"CP-BUYER-{n}",
        ),
        txn(
            4 * n + 2,
            "transfer_out",
            amount,
            days=day,
            hours=2,
            channel="online",
            account_id=_PERSONAL,
            counterparty_id=_BUSINESS,
        ),
        txn(
            4 * n + 3,
            "transfer_in",
            amount,
            days=day,
            hours=2,
            channel="online",
            account_id=_BUSINESS,
            counterparty_id=_PERSONAL,
        ),
        txn(
            4 * n + 4,
            "emt_out",
            amount - 20.0,
            days=day,
            hours=5,
            channel="online",
            account_id=_BUSINESS,
            counterparty_id="CP-HANDLER",
        ),
    )


def _shuffle(
    n: int, day: float, amount: float, src: str, dst: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        txn(
            2 * n + 1,
            "transfer_out",
            amount,
            days=day,
            channel="online",
            account_id=src,
            counterparty_id=dst,
        ),
        txn(
            2 * n + 2,
            "transfer_in",
            amount,
            days=day,
            channel="online",
            account_id=dst,
            counterparty_id=src,
        ),
    )


SPEC = IndicatorSpec(
    id="PP-21",
    title="Own-account pass-through / intra-owner shuffling",
    description=(
        "Personal credits (cash deposits, incoming EMTs) moved within a day to another "
        "account of the same customer (often a business account) and drained from there by "
        "EMTs and cash withdrawals (F21-G39), or frequent transfers between the customer's own "
        "accounts (F21-G40, businesses owned by the same individual). Traffickers run the "
        "proceeds through a front business so they look like revenue; FinCEN notes front "
        "companies for the same reason. An own transfer is a `transfer_out` on one account "
        "and a `transfer_in` of the same amount on another account of the same customer within "
        "24 hours. Fires on three completed chains in 30 days, or five own transfers in 30 "
        "days; the person moving money between their own business accounts controls it, so "
        "it points at the trafficker."
    ),
    family="FUNNEL",
    sources=("FINTRAC-2021-OA001 G39", "FINTRAC-2021-OA001 G40", "FIN-2020-A008 front companies"),
    status="experimental",
    severity="medium",
    weight=2.0,
    role_signal="trafficker",
    window="30d",
    threshold_param="min_chains",
    false_positives=(
        "Sole proprietors paying themselves and topping up the business account from "
        "personal funds.",
        "Customers sweeping money between chequing, savings and line-of-credit accounts.",
        "Small cash businesses (restaurants, salons) depositing takings personally and moving "
        "them to the business to pay suppliers and staff by EMT.",
    ),
    required_fields=("txn_type", "amount", "account_id"),
    inputs=("cust", "seq", "ts", "txn_type", "amount", "account", "attempted"),
    state=(
        StateArray("pd_ts", (PENDING,), np.int64, EMPTY_TS),
        StateArray("pd_ref", (PENDING,), np.int64, -1),
        StateArray("pd_acct", (PENDING,), np.int64, 0),
        StateArray("pd_amt", (PENDING,), np.float64, 0.0),
        StateArray("pd_dir", (PENDING,), np.int8, 0),
        StateArray("cr_key", (ACCOUNTS,), np.int64, 0),
        StateArray("cr_ts", (ACCOUNTS,), np.int64, EMPTY_TS),
        StateArray("cr_ref", (ACCOUNTS,), np.int64, -1),
        StateArray("xf_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("xf_ref", (RING,), np.int64, -1),
        StateArray("ch_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("ch_ref", (RING,), np.int64, -1),
        StateArray("ch_acct", (RING,), np.int64, 0),
        StateArray("ch_left", (RING,), np.float64, 0.0),
        StateArray("cc_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("cc_ref", (RING,), np.int64, -1),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "pair_hours", 24, 1, 72, "the two legs of an own transfer within, hours", integer=True
        ),
        Param(
            "forward_hours",
            24,
            1,
            72,
            "a personal credit this long before the own transfer starts a chain, hours",
            integer=True,
        ),
        Param("drain_hours", 48, 1, 168, "the destination is drained within, hours", integer=True),
        Param("drain_share", 0.8, 0.1, 1.0, "share of the transfer that must be drained"),
        Param(
            "min_chains",
            3,
            1,
            RING,
            "completed chains in the window",
            integer=True,
            capacity="cc_ts",
        ),
        Param(
            "min_transfers",
            5,
            1,
            RING,
            "own transfers in the window",
            integer=True,
            capacity="xf_ts",
        ),
    ),
    kernel=own_account_pass_through,
    coverage="partial",
    coverage_note=(
        "Account ownership is not in the contract: own transfers are inferred from "
        "`transfer_out`/`transfer_in` legs of the same amount on two of the customer's own "
        "`account_id`s within 24 hours, and transfers between businesses owned by the same "
        "individual but held as separate customers (F21-G40) are not seen. An optional "
        "`counterparty_account_id` on transfers and an account-type / beneficial-owner field "
        "(business flag, owner id) would complete it."
    ),
    must_fire=(
        example(
            "three EMTs moved to the business account and paid out",
            *(r for n in range(3) for r in _chain(n, 4 * n, 600.0)),
        ),
        example(
            "five transfers between own accounts in two weeks",
            *(
                r
                for n in range(5)
                for r in _shuffle(
                    n,
                    3 * n,
                    1500.0 + 100 * n,
                    "A-BUS-1" if n % 2 else "A-BUS-2",
                    "A-BUS-2" if n % 2 else "A-BUS-1",
                )
            ),
        ),
    ),
    must_not_fire=(
        example(
            "monthly savings sweep",
            *(r for n in range(3) for r in _shuffle(n, 30 * n, 500.0, "A-CHQ", "A-SAV")),
        ),
        example(
            "EMTs moved to the business account and kept there",
            *(r for n in range(3) for r in _chain(n, 4 * n, 600.0)[:3]),
            txn(
                20,
                "emt_out",
                40.0,
                days=9,
                channel="online",
                account_id=_BUSINESS,
                counterparty_id="CP-SUPPLIER",
            ),
        ),
    ),
)
