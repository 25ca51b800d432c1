"""PP-25 · Virtual-currency on-ramp (RAILS)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import (
    DAY,
    EFT_OUT,
    EMPTY_TS,
    EMT_IN,
    EMT_OUT,
    PURCHASE,
    TRANSFER_OUT,
    VC_BUY,
    WIRE_OUT,
)
from indicators.examples import example, txn
from indicators.jit import helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import (
    keyed_distinct,
    keyed_touch,
    ring_count,
    ring_insert,
    select_evidence,
    window,
)

RING = 16  # small-multiple purchases; EMT-funded purchases
SENDERS = 16  # distinct EMT senders kept per customer
VC_MCC = 6051  # non-FI currency / money orders; crypto purchases often post here


@helper
def is_vc_purchase(t_type: int, mcc: int, flags: int, ref_vc_dealers: int) -> bool:
    """``vc_buy``; a card purchase at a VC dealer or MCC 6051; an outgoing transfer to one
    (``ref_vc_dealers``: the bit of the ``vc_dealers`` list)."""
    if t_type == VC_BUY:
        return True
    dealer = (flags & ref_vc_dealers) != 0
    if t_type == PURCHASE:
        return dealer or mcc == VC_MCC
    return dealer and (
        t_type == EMT_OUT or t_type == WIRE_OUT or t_type == EFT_OUT or t_type == TRANSFER_OUT
    )


@kernel
def virtual_currency_on_ramp(
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
    sm_ts: NDArray[np.int64],
    sm_ref: NDArray[np.int64],
    fd_ts: NDArray[np.int64],
    fd_ref: NDArray[np.int64],
    window_days: int,
    min_small: int,
    small_max: float,
    fund_hours: int,
    min_senders: int,
    min_funded: int,
    ref_vc_dealers: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """VC purchases in small multiples of $3, or funded by EMTs from several people.

    ``emt_in`` rows with a counterparty update a keyed table of senders. A VC purchase is
    *small* when ``0 < amount <= small_max`` and ``amount % 3 == 0``, and *funded* when
    distinct EMT senders in ``(t - fund_hours, t]`` reach ``min_senders``. Fires on a small
    purchase when small ones in ``(t - window_days, t]`` reach ``min_small`` (evidence: small
    purchases), else on a funded purchase when funded ones reach ``min_funded`` (evidence:
    funded purchases in the window merged with the latest EMT of each sender in the funding
    window).

    polars equivalent, per customer: ``rolling(index_column="ts", period=f"{fund_hours}h")``
    of ``counterparty.filter(emt_in).n_unique()`` evaluated at VC purchases, then
    ``rolling(period=f"{window_days}d")`` sums of ``small`` and ``funded``.
    """
    width = np.int64(window_days * DAY)
    fund_w = np.int64(fund_hours * 3600)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        c = cust[i]
        t = ts[i]
        if t_type == EMT_IN:
            if counterparty[i] != 0:
                keyed_touch(snd_key, snd_ts, snd_ref, c, counterparty[i], t, seq[i])
                touched[i] = 1
            continue
        if not is_vc_purchase(t_type, mcc[i], ref_flags[i], ref_vc_dealers):
            continue
        a = amount[i]
        lo = t - width
        small = a == a and 0.0 < a <= small_max and a % 3.0 == 0.0
        funded = keyed_distinct(snd_ts, c, t - fund_w, t) >= min_senders
        n_small = 0
        n_funded = 0
        if small:
            ring_insert(sm_ts, sm_ref, c, t, seq[i])
            n_small = ring_count(sm_ts, c, lo, t)
            touched[i] = 1
        if funded:
            ring_insert(fd_ts, fd_ref, c, t, seq[i])
            n_funded = ring_count(fd_ts, c, lo, t)
            touched[i] = 1
        if small and n_small >= min_small:
            fired[i] = 1
            observed[i] = n_small
            select_evidence(evidence[i], t, window(sm_ts, sm_ref, c, lo))
        elif funded and n_funded >= min_funded:
            fired[i] = 1
            observed[i] = n_funded
            select_evidence(
                evidence[i], t, window(fd_ts, fd_ref, c, lo), window(snd_ts, snd_ref, c, t - fund_w)
            )


def _emt(n: int, day: float, hours: float, sender: str, amount: float = 150.0) -> dict[str, Any]:
    return txn(
        n,
        "emt_in",
        amount,
        days=day,
        hours=hours,
        channel="online",
        counterparty_id=sender,
        counterparty_name=sender.lower(),
    )


def _vc(n: int, day: float, hours: float, amount: float, **fields: Any) -> dict[str, Any]:
    fields.setdefault("merchant_name", "BITCOIN DEPOT #441")
    return txn(n, "purchase", amount, days=day, hours=hours, mcc="6051", **fields)


SPEC = IndicatorSpec(
    id="PP-25",
    title="Virtual-currency on-ramp",
    description=(
        "Purchases of bitcoin or other virtual currency (`vc_buy`, card purchases at VC "
        "dealers or MCC 6051, transfers to a dealer on the VC list) in multiples of small "
        "amounts such as $3, $12 or $24 (F16-T8), or funded by EMTs from several people in the "
        "preceding day (F21-G13, G14). Buyers' payments collected by EMT are converted to "
        "virtual currency to move them out of reach; FinCEN lists the same. Fires on three "
        "small-multiple purchases in 30 days, or two purchases in 30 days each preceded by "
        "EMTs from at least two different senders within 24 hours. The funding from many "
        "payers points at whoever collects the money, so the role is trafficker."
    ),
    family="RAILS",
    sources=(
        "FINTRAC-2016-OA003 T8",
        "FINTRAC-2021-OA001 G13",
        "FINTRAC-2021-OA001 G14",
        "FIN-2020-A008 #8",
    ),
    status="experimental",
    severity="medium",
    weight=2.0,
    role_signal="trafficker",
    window="30d (purchases), 24h (EMT funding)",
    threshold_param="min_small",
    false_positives=(
        "Retail crypto investors making small recurring purchases (dollar-cost averaging).",
        "Friends reimbursing a shared crypto purchase by EMT.",
        "Currency exchange and money-order purchases that post under MCC 6051.",
    ),
    required_fields=("txn_type", "amount", "mcc", "merchant_name", "counterparty_id"),
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
        StateArray("sm_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("sm_ref", (RING,), np.int64, -1),
        StateArray("fd_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("fd_ref", (RING,), np.int64, -1),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "min_small",
            3,
            1,
            RING,
            "small-multiple VC purchases in the window",
            integer=True,
            capacity="sm_ts",
        ),
        Param("small_max", 30.0, 3.0, 300.0, "largest amount counted as a small multiple (CAD)"),
        Param(
            "fund_hours", 24, 1, 72, "EMTs this long before a purchase fund it, hours", integer=True
        ),
        Param(
            "min_senders",
            2,
            1,
            SENDERS,
            "distinct EMT senders that make a purchase funded",
            integer=True,
            capacity="snd_key",
        ),
        Param(
            "min_funded",
            2,
            1,
            RING,
            "EMT-funded VC purchases in the window",
            integer=True,
            capacity="fd_ts",
        ),
    ),
    kernel=virtual_currency_on_ramp,
    reference_lists=("vc_dealers",),
    coverage="partial",
    coverage_note=(
        "Transfers to individuals who exchange virtual currency for others (F21-G14, P2P "
        "brokers) are seen only when the counterparty is on the `vc_dealers` list; VC wallet "
        "addresses (an optional `vc_address` field, for reporting entities that are VASPs) "
        "would complete it."
    ),
    must_fire=(
        example(
            "three bitcoin purchases of $12 and $24",
            _vc(1, 0, 0, 12.0),
            _vc(2, 3, 0, 24.0),
            _vc(3, 7, 0, 12.0),
        ),
        example(
            "two exchanges each funded by EMTs from two people",
            _emt(1, 0, -6, "CP-JOHN"),
            _emt(2, 0, -3, "CP-MARK"),
            txn(3, "vc_buy", 290.0, channel="online", merchant_name="SHAKEPAY"),
            _emt(4, 5, -8, "CP-DAVE"),
            _emt(5, 5, -2, "CP-JOHN"),
            txn(6, "vc_buy", 300.0, days=5, channel="online", merchant_name="SHAKEPAY"),
        ),
    ),
    must_not_fire=(
        example(
            "monthly crypto investment",
            *(
                txn(
                    n + 1,
                    "vc_buy",
                    250.0,
                    days=30 * n,
                    channel="online",
                    merchant_name="WEALTHSIMPLE CRYPTO",
                )
                for n in range(4)
            ),
        ),
        example(
            "EMTs from one friend before two purchases",
            _emt(1, 0, -4, "CP-FRIEND"),
            txn(2, "vc_buy", 150.0, channel="online", merchant_name="SHAKEPAY"),
            _emt(3, 4, -4, "CP-FRIEND"),
            txn(4, "vc_buy", 150.0, days=4, channel="online", merchant_name="SHAKEPAY"),
        ),
    ),
)
