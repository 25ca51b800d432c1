"""PP-27 · Gambling funded by third parties / casino or investment round trips (RAILS)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import CASINO_BUY_IN, DAY, EFT_IN, EMPTY_TS, TXN_CODE
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.vocabulary import is_payment_out, is_transfer_in
from indicators.windows import (
    drain_oldest_eq,
    keyed_distinct,
    keyed_touch,
    ring_count,
    ring_insert,
    select_evidence,
    window,
)

CASINO_CASH_OUT = TXN_CODE["casino_cash_out"]
SENDERS = 16  # distinct third-party senders kept per customer
RING = 16  # funded gambling payments; pending round-trip starts; completed round trips
CASINO = 1  # kind of a pending round trip
INVESTMENT = 2


@kernel
def gambling_pass_through(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    mcc: NDArray[np.int16],
    counterparty: NDArray[np.int64],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    snd_key: NDArray[np.int64],
    snd_ts: NDArray[np.int64],
    snd_ref: NDArray[np.int64],
    fd_ts: NDArray[np.int64],
    fd_ref: NDArray[np.int64],
    rt_ts: NDArray[np.int64],
    rt_ref: NDArray[np.int64],
    rt_kind: NDArray[np.int8],
    rt_left: NDArray[np.float64],
    tr_ts: NDArray[np.int64],
    tr_ref: NDArray[np.int64],
    window_days: int,
    fund_hours: int,
    min_senders: int,
    min_funded: int,
    trip_days: int,
    return_share: float,
    min_trip_cad: float,
    min_trips: int,
    ref_gaming_operators: int,
    ref_investment_platforms: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Gambling paid for with third parties' money; casino or investment money round trips.

    *Third-party credits*: ``emt_in``, ``transfer_in``, ``wire_in`` with a counterparty and
    not from a gaming operator or investment platform; a keyed table of senders.
    *Gambling payment*: ``casino_buy_in``, or a payment out (purchase, EMT, EFT, wire,
    transfer, bill payment) at MCC 7801 / 7995 or to a gaming operator. It is *funded* when
    distinct senders in ``(t - fund_hours, t]`` reach ``min_senders``; fires on a funded
    payment when funded payments in ``(t - window_days, t]`` reach ``min_funded``.

    *Round trips*: a ``casino_buy_in``, or a payment out to an investment platform, of at
    least ``min_trip_cad`` waits for its money to come back: ``casino_cash_out`` (casino) or
    an incoming transfer from an investment platform (investment) are applied first-in
    first-out to pending starts of their kind made in the last ``trip_days``; a start whose
    ``return_share`` has come back completes a round trip (ref: the start). Fires on the
    returning row when round trips in the window reach ``min_trips``.

    Evidence: funded payments, else round trips. polars equivalent (approximate: the FIFO
    matching is sequential): ``rolling(period=f"{fund_hours}h")`` ``n_unique`` of senders at
    gambling payments, a cumulative-sum ``join_asof`` of returns onto starts, ``rolling``
    counts.
    """
    width = np.int64(window_days * DAY)
    fund_w = np.int64(fund_hours * 3600)
    trip_w = np.int64(trip_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        c = cust[i]
        t = ts[i]
        a = amount[i]
        flags = ref_flags[i]
        lo = t - width
        investment = (flags & ref_investment_platforms) != 0
        if is_transfer_in(t_type):
            if (
                t_type != EFT_IN
                and counterparty[i] != 0
                and (flags & (ref_gaming_operators | ref_investment_platforms)) == 0
            ):
                keyed_touch(snd_key, snd_ts, snd_ref, c, counterparty[i], t, seq[i])
            if not investment:
                continue
        # Money coming back from a casino or an investment platform.
        kind = 0
        if t_type == CASINO_CASH_OUT:
            kind = CASINO
        elif investment and is_transfer_in(t_type):
            kind = INVESTMENT
        if kind != 0:
            if a != a:
                continue
            completed = drain_oldest_eq(
                rt_ts, rt_ref, rt_kind, rt_left, tr_ts, tr_ref, c, kind, a, t - trip_w, t
            )
            if completed:
                n = ring_count(tr_ts, c, lo, t)
                if n >= min_trips:
                    fired[i] = 1
                    observed[i] = n
                    select_evidence(evidence[i], t, window(tr_ts, tr_ref, c, lo))
            continue
        payment_out = is_payment_out(t_type)
        gambling = t_type == CASINO_BUY_IN or (
            payment_out
            and (mcc[i] == 7801 or mcc[i] == 7995 or (flags & ref_gaming_operators) != 0)
        )
        # A round trip starts here.
        start = 0
        if a == a and a >= min_trip_cad:
            if t_type == CASINO_BUY_IN:
                start = CASINO
            elif payment_out and investment:
                start = INVESTMENT
        if start != 0:
            k = ring_insert(rt_ts, rt_ref, c, t, seq[i])
            rt_kind[c, k] = start
            rt_left[c, k] = return_share * a
            touched[i] = 1
        if not gambling:
            continue
        if keyed_distinct(snd_ts, c, t - fund_w, t) < min_senders:
            continue
        ring_insert(fd_ts, fd_ref, c, t, seq[i])
        touched[i] = 1
        n = ring_count(fd_ts, c, lo, t)
        if n >= min_funded:
            fired[i] = 1
            observed[i] = n
            select_evidence(evidence[i], t, window(fd_ts, fd_ref, c, lo))


def _emt(n: int, day: float, hours: float, sender: str) -> dict[str, Any]:
    return txn(n, "emt_in", 200.0, days=day, hours=hours, channel="online", counterparty_id=sender)


def _bet(n: int, day: float, amount: float = 350.0) -> dict[str, Any]:
    return txn(
        n,
        "purchase",
        amount,
        days=day,
        channel="ecom",
        mcc="7995",
        merchant_name="JACKPOT CITY ONLINE",
    )


SPEC = IndicatorSpec(
    id="PP-27",
    title="Gambling funded by third parties / casino or investment round trips",
    description=(
        "Payments to online gambling or casino platforms (MCC 7801 / 7995, the gaming-operator "
        "list, casino buy-ins) made within a day of credits from several different people "
        "(F21-G16); casino buy-ins cashed out again within two weeks with little play "
        "(F21-G32); and deposits to an online investment platform returned within two weeks "
        "(F21-G33, G34). Gambling and investment accounts turn buyers' payments into "
        "winnings or redemptions that look legitimate. Fires on three third-party-funded "
        "gambling payments in 30 days, or on a round trip where 80% of a buy-in or deposit of "
        "CAD 1,000 or more came back within 14 days. The funding from many payers points at "
        "whoever collects the money, so the role is trafficker."
    ),
    family="RAILS",
    sources=(
        "FINTRAC-2021-OA001 G16",
        "FINTRAC-2021-OA001 G32",
        "FINTRAC-2021-OA001 G33",
        "FINTRAC-2021-OA001 G34",
    ),
    status="experimental",
    severity="medium",
    weight=2.0,
    role_signal="trafficker",
    window="30d (funded payments), 24h (funding), 14d (round trips)",
    threshold_param="min_funded",
    false_positives=(
        "Friends pooling money by EMT for a sports pool or a casino night.",
        "Recreational gamblers who cash out most of a buy-in after a short session.",
        "Investors moving money to a brokerage and back when they change their mind.",
    ),
    required_fields=(
        "txn_type",
        "amount",
        "mcc",
        "merchant_name",
        "counterparty_id",
        "counterparty_name",
    ),
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
        StateArray("snd_key", (SENDERS,), np.int64, 0),
        StateArray("snd_ts", (SENDERS,), np.int64, EMPTY_TS),
        StateArray("snd_ref", (SENDERS,), np.int64, -1),
        StateArray("fd_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("fd_ref", (RING,), np.int64, -1),
        StateArray("rt_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("rt_ref", (RING,), np.int64, -1),
        StateArray("rt_kind", (RING,), np.int8, 0),
        StateArray("rt_left", (RING,), np.float64, 0.0),
        StateArray("tr_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("tr_ref", (RING,), np.int64, -1),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "fund_hours",
            24,
            1,
            72,
            "third-party credits this long before fund a payment, " "hours",
            integer=True,
        ),
        Param(
            "min_senders",
            2,
            1,
            SENDERS,
            "distinct third parties that make a payment funded",
            integer=True,
            capacity="snd_key",
        ),
        Param(
            "min_funded",
            3,
            1,
            RING,
            "third-party-funded gambling payments in the window",
            integer=True,
            capacity="fd_ts",
        ),
        Param("trip_days", 14, 1, 60, "money must come back within, days", integer=True),
        Param("return_share", 0.8, 0.1, 1.0, "share of a buy-in or deposit that must return"),
        Param(
            "min_trip_cad",
            1000.0,
            0.0,
            1_000_000.0,
            "smallest buy-in or investment deposit followed (CAD)",
        ),
        Param("min_trips", 1, 1, RING, "round trips in the window", integer=True, capacity="tr_ts"),
    ),
    kernel=gambling_pass_through,
    reference_lists=("gaming_operators", "investment_platforms"),
    coverage="partial",
    coverage_note=(
        "Play and investment activity inside the casino or brokerage account is not in the "
        "contract: 'little play' and '< 10% invested' are approximated by the share of money "
        "returned. Player-account or holdings data (an optional `wagered_cad` on casino rows, "
        "trades on investment accounts) would complete F21-G32 and G33."
    ),
    must_fire=(
        example(
            "three online bets each after EMTs from two people",
            *(
                r
                for n in range(3)
                for r in (
                    _emt(3 * n + 1, 4 * n, -5, f"CP-A{n}"),
                    _emt(3 * n + 2, 4 * n, -2, f"CP-B{n}"),
                    _bet(3 * n + 3, 4 * n),
                )
            ),
        ),
        example(
            "casino buy-in cashed out five days later",
            txn(1, "casino_buy_in", 5000.0, channel="branch", merchant_name="CASINO RAMA"),
            txn(
                2, "casino_cash_out", 4700.0, days=5, channel="branch", merchant_name="CASINO RAMA"
            ),
        ),
    ),
    must_not_fire=(
        example(
            "bets funded from payroll",
            *(
                r
                for n in range(4)
                for r in (
                    txn(
                        2 * n + 1,
                        "eft_in",
                        1800.0,
                        days=7 * n,
                        hours=-3,
                        channel="online",
                        counterparty_id="EMPLOYER-1",
                    ),
                    _bet(2 * n + 2, 7 * n, 50.0),
                )
            ),
        ),
        example(
            "buy-in mostly lost",
            txn(1, "casino_buy_in", 3000.0, channel="branch", merchant_name="CASINO RAMA"),
            txn(2, "casino_cash_out", 900.0, days=1, channel="branch", merchant_name="CASINO RAMA"),
        ),
    ),
)
