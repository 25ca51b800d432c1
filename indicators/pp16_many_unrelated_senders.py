"""PP-16 · Many unrelated senders (FUNNEL)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import (
    DAY,
    EMPTY_TS,
)
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.vocabulary import is_credit, is_person_credit
from indicators.windows import (
    bucket_add,
    bucket_sum,
    keyed_distinct,
    keyed_touch,
    select_evidence,
    window,
)

SENDERS = 32  # distinct senders kept per customer
DAYS = 32  # credit day buckets; one more than the widest window (local days can step back one)
THIRD_PARTY = 0  # bucket measure: third-party credits (CAD)
ALL_CREDITS = 1  # bucket measure: all credits (CAD)
_NO_DAY = np.iinfo(np.int32).min


@kernel
def many_unrelated_senders(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    local_day: NDArray[np.int32],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    counterparty: NDArray[np.int64],
    attempted: NDArray[np.int8],
    snd_key: NDArray[np.int64],
    snd_ts: NDArray[np.int64],
    snd_ref: NDArray[np.int64],
    credit_day: NDArray[np.int32],
    credit_sum: NDArray[np.float64],
    window_days: int,
    min_senders: int,
    share_min_senders: int,
    min_share: float,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Distinct third-party senders, and the third-party share of credits, in a window.

    Third-party credits are ``emt_in``, ``transfer_in`` and ``wire_in`` with a known
    counterparty; ``eft_in`` (payroll, benefits) and cash deposits count only as credits.

    polars equivalent, per customer: ``rolling(index_column="ts", period=f"{window_days}d")``
    of ``counterparty.filter(third_party).n_unique()`` on third-party rows, and a
    ``local_day`` range sum of ``amount`` for third-party and for all credits; fire where
    ``n_unique >= min_senders`` or (``n_unique >= share_min_senders`` and
    ``third_party_sum / credit_sum >= min_share``).
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        if not is_credit(t_type):
            continue
        c = cust[i]
        t = ts[i]
        d = local_day[i]
        third = is_person_credit(t_type) and counterparty[i] != 0
        a = amount[i]
        if a == a:
            bucket_add(credit_day, credit_sum, c, d, ALL_CREDITS, a)
            if third:
                bucket_add(credit_day, credit_sum, c, d, THIRD_PARTY, a)
        if not third:
            continue
        keyed_touch(snd_key, snd_ts, snd_ref, c, counterparty[i], t, seq[i])
        touched[i] = 1
        lo = t - width
        n = keyed_distinct(snd_ts, c, lo, t)
        hit = n >= min_senders
        if not hit and n >= share_min_senders:
            first = d - window_days + 1
            total = bucket_sum(credit_day, credit_sum, c, first, d, ALL_CREDITS)
            if total > 0.0:
                share = bucket_sum(credit_day, credit_sum, c, first, d, THIRD_PARTY) / total
                hit = share >= min_share
        if hit:
            fired[i] = 1
            observed[i] = n
            select_evidence(evidence[i], t, window(snd_ts, snd_ref, c, lo))


def _emt(n: int, amount: float, days: float, sender: str, name: str) -> dict[str, Any]:
    return txn(
        n,
        "emt_in",
        amount,
        days=days,
        channel="online",
        counterparty_id=sender,
        counterparty_name=name,
    )


SPEC = IndicatorSpec(
    id="PP-16",
    title="Many unrelated senders",
    description=(
        "Incoming e-transfers, EMTs and wires from many distinct third parties with no "
        "apparent relationship, or an account funded mostly by third parties. Buyers often "
        "pay by EMT, so the person who collects the money (the trafficker, or a nominee) "
        "receives small transfers from many unrelated people; F16 lists it under P4, P5, P10 "
        "and P12. Fires on five or more distinct senders in 30 days, or three or more when "
        "third-party credits are at least 60% of all credits."
    ),
    family="FUNNEL",
    sources=(
        "FINTRAC-2016-OA003 P4",
        "FINTRAC-2016-OA003 P5",
        "FINTRAC-2016-OA003 P10",
        "FINTRAC-2016-OA003 P12",
    ),
    status="stable",
    severity="high",
    weight=2.5,
    role_signal="trafficker",
    window="30d",
    threshold_param="min_senders",
    false_positives=(
        "Landlords collecting rent by EMT from several tenants.",
        "Sole traders paid by EMT (tutors, hairdressers, cleaners, online resellers).",
        "Group expenses (trips, shared gifts, sports teams) collected by one organiser.",
    ),
    required_fields=("txn_type", "amount", "counterparty_id"),
    inputs=("cust", "seq", "ts", "local_day", "txn_type", "amount", "counterparty", "attempted"),
    state=(
        StateArray("snd_key", (SENDERS,), np.int64, 0),
        StateArray("snd_ts", (SENDERS,), np.int64, EMPTY_TS),
        StateArray("snd_ref", (SENDERS,), np.int64, -1),
        StateArray("credit_day", (DAYS,), np.int32, _NO_DAY),
        StateArray("credit_sum", (DAYS, 2), np.float64, 0.0),
    ),
    params=(
        Param(
            "window_days",
            30,
            1,
            DAYS - 1,
            "sliding window, days",
            integer=True,
            capacity="credit_day",
            spare=1,
        ),
        Param(
            "min_senders",
            5,
            2,
            SENDERS,
            "distinct third-party senders in the window",
            integer=True,
            capacity="snd_key",
        ),
        Param(
            "share_min_senders",
            3,
            1,
            SENDERS,
            "distinct senders needed for the share rule",
            integer=True,
            capacity="snd_key",
        ),
        Param("min_share", 0.6, 0.1, 1.0, "third-party share of credits in the window"),
    ),
    kernel=many_unrelated_senders,
    coverage="partial",
    coverage_note=(
        "Household members and long-standing payers are not yet excluded beyond counting "
        "distinct counterparties; conductor-vs-holder for cash deposits is not available."
    ),
    must_fire=(
        example(
            "five senders in twelve days besides payroll",
            txn(
                0,
                "eft_in",
                2600.0,
                hours=-2,
                channel="online",
                counterparty_id="EMPLOYER-12",
                counterparty_name="CITY PAYROLL",
            ),
            _emt(1, 150.0, 0, "CP-1001", "Mike R"),
            _emt(2, 200.0, 2, "CP-1002", "J. Smith"),
            _emt(3, 160.0, 5, "CP-1003", "dave_on"),
            _emt(4, 300.0, 9, "CP-1004", "Kev"),
            _emt(5, 180.0, 12, "CP-1005", "A. Patel"),
        ),
        example(
            "account funded by three strangers",
            _emt(1, 250.0, 0, "CP-2001", "Tom B"),
            _emt(2, 200.0, 3, "CP-2002", "Rick"),
            _emt(3, 300.0, 6, "CP-2003", "Sam K"),
        ),
    ),
    must_not_fire=(
        example(
            "payroll and three friends splitting a bill",
            txn(
                1,
                "eft_in",
                2400.0,
                channel="online",
                counterparty_id="EMPLOYER-77",
                counterparty_name="ACME PAYROLL",
            ),
            _emt(2, 40.0, 1, "CP-3001", "Ana"),
            _emt(3, 40.0, 1, "CP-3002", "Ben"),
            _emt(4, 40.0, 2, "CP-3003", "Chloe"),
            txn(
                5,
                "eft_in",
                2400.0,
                days=14,
                channel="online",
                counterparty_id="EMPLOYER-77",
                counterparty_name="ACME PAYROLL",
            ),
        ),
        example(
            "one roommate paying rent share monthly",
            *(_emt(n + 1, 900.0, 30 * n, "CP-4001", "Roommate") for n in range(3)),
        ),
    ),
)
