"""PP-12 · Late-night cash (CASHGEO)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import CASH_DEPOSIT, CASH_WITHDRAWAL, DAY, EMPTY_TS
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.vocabulary import count_or_share
from indicators.windows import (
    ring_count,
    ring_insert,
    ring_oldest,
    ring_sum,
    select_evidence,
    window,
)

RING = 32  # late cash events, and all cash events, per customer


@kernel
def late_night_cash(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    local_tod: NDArray[np.int32],
    txn_type: NDArray[np.int8],
    attempted: NDArray[np.int8],
    late_ts: NDArray[np.int64],
    late_ref: NDArray[np.int64],
    cash_ts: NDArray[np.int64],
    cash_late: NDArray[np.uint8],
    window_days: int,
    min_late: int,
    min_share: float,
    start_hour: int,
    end_hour: int,
    share_min_late: int,
    share_min_cash: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Count cash deposits / withdrawals at local night time (start_hour to end_hour).

    Two rings: late cash events (ts, ref) for the count and evidence, and all cash events
    (ts, late flag) for the share. Under saturation the share is taken over the most recent
    ``RING`` cash events, so a burst of daytime cash cannot inflate it.

    polars equivalent, per customer: filter cash rows, ``late = (local_tod >= start) |
    (local_tod < end)``, ``rolling(index_column="ts", period=f"{window_days}d")`` with
    ``late.sum()`` and ``len()``; fire on late rows where ``late_sum >= min_late`` or
    (``late_sum >= share_min_late`` and ``len >= share_min_cash`` and
    ``late_sum / len >= min_share``).
    """
    width = np.int64(window_days * DAY)
    start = start_hour * 3600
    end = end_hour * 3600
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        if t_type != CASH_DEPOSIT and t_type != CASH_WITHDRAWAL:
            continue
        c = cust[i]
        t = ts[i]
        tod = local_tod[i]
        late = tod >= start or tod < end  # start_hour > end_hour: the window wraps midnight
        slot = ring_oldest(cash_ts, c)
        cash_ts[c, slot] = t
        cash_late[c, slot] = 1 if late else 0
        if not late:
            continue
        ring_insert(late_ts, late_ref, c, t, seq[i])
        touched[i] = 1
        lo = t - width
        n_late = ring_count(late_ts, c, lo, t)
        n_cash = ring_count(cash_ts, c, lo, t)
        n_late_of_cash = ring_sum(cash_ts, cash_late, c, lo, t)
        if count_or_share(
            n_late, min_late, n_late_of_cash, n_cash, share_min_late, share_min_cash, min_share
        ):
            fired[i] = 1
            observed[i] = n_late
            select_evidence(evidence[i], t, window(late_ts, late_ref, c, lo))


_ATM: dict[str, Any] = {"channel": "atm", "city": "Winnipeg", "province": "MB"}

SPEC = IndicatorSpec(
    id="PP-12",
    title="Late-night cash",
    description=(
        "Cash deposits or withdrawals between 22:00 and 06:00 local time (the F16 window), "
        "taken from the UTC offset the transaction carries. Victims are often made to deposit "
        "the night's cash earnings, or to withdraw cash for the trafficker, after the last "
        "client. Fires on four or more late cash transactions in 30 days, or when late ones "
        "are at least 30% of the customer's cash transactions."
    ),
    family="CASHGEO",
    sources=("FINTRAC-2016-OA003 P1",),
    status="stable",
    severity="low",
    weight=1.5,
    role_signal="victim",
    window="30d",
    threshold_param="min_late",
    false_positives=(
        "Night-shift workers (nurses, security guards, warehouse and hospitality staff) who "
        "bank after their shift.",
        "Bar, restaurant and taxi workers depositing tips at closing time.",
        "Small businesses using a night-deposit box for the day's takings.",
    ),
    required_fields=("txn_type", "channel", "location_id"),
    inputs=("cust", "seq", "ts", "local_tod", "txn_type", "attempted"),
    state=(
        StateArray("late_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("late_ref", (RING,), np.int64, -1),
        StateArray("cash_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("cash_late", (RING,), np.uint8, 0),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "min_late",
            4,
            1,
            RING,
            "late cash transactions in the window",
            integer=True,
            capacity="late_ts",
        ),
        Param("min_share", 0.30, 0.05, 1.0, "share of cash transactions that are late"),
        Param("start_hour", 22, 18, 23, "late window starts at this local hour", integer=True),
        Param("end_hour", 6, 0, 9, "late window ends at this local hour", integer=True),
        Param(
            "share_min_late",
            2,
            1,
            RING,
            "late cash transactions needed for the share rule",
            integer=True,
            capacity="late_ts",
        ),
        Param(
            "share_min_cash",
            3,
            1,
            RING,
            "cash transactions needed for the share rule",
            integer=True,
            capacity="cash_ts",
        ),
    ),
    kernel=late_night_cash,
    must_fire=(
        example(
            "four late ATM withdrawals in two weeks",
            txn(1, "cash_withdrawal", 200.0, at="23:40", location_id="ATM-WPG-17", **_ATM),
            txn(2, "cash_withdrawal", 300.0, days=3, at="01:10", location_id="ATM-WPG-17", **_ATM),
            txn(3, "cash_deposit", 600.0, days=8, at="02:30", location_id="ATM-WPG-04", **_ATM),
            txn(4, "cash_withdrawal", 200.0, days=12, at="23:05", location_id="ATM-WPG-17", **_ATM),
        ),
        example(
            "half of the cash at night",
            txn(1, "cash_withdrawal", 100.0, at="10:00", location_id="ATM-WPG-17", **_ATM),
            txn(2, "cash_withdrawal", 80.0, days=2, at="14:00", location_id="ATM-WPG-17", **_ATM),
            txn(3, "cash_deposit", 500.0, days=4, at="23:30", location_id="ATM-WPG-04", **_ATM),
            txn(4, "cash_deposit", 450.0, days=6, at="00:45", location_id="ATM-WPG-04", **_ATM),
        ),
    ),
    must_not_fire=(
        example(
            "daytime cash",
            *(
                txn(
                    n + 1,
                    "cash_withdrawal",
                    60.0,
                    days=2 * n,
                    at="12:30",
                    location_id="ATM-WPG-17",
                    **_ATM,
                )
                for n in range(6)
            ),
        ),
        example(
            "one late withdrawal among daytime cash",
            txn(1, "cash_withdrawal", 100.0, at="22:30", location_id="ATM-WPG-17", **_ATM),
            *(
                txn(
                    n + 2,
                    "cash_withdrawal",
                    60.0,
                    days=n + 1,
                    at="17:30",
                    location_id="ATM-WPG-17",
                    **_ATM,
                )
                for n in range(5)
            ),
        ),
    ),
)
