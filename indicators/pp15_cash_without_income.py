"""PP-15 · Cash without income / no payroll credits (CASHGEO)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import CASH_DEPOSIT, DAY, EFT_IN, EMPTY_TS
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import bucket_add, bucket_sum, ring_insert, select_evidence, window

DAYS = 91  # cash day buckets; one more than the widest window (local days can step back one)
RING = 16  # recent cash deposits kept for evidence
_NO_DAY = np.iinfo(np.int32).min


@kernel
def cash_without_income(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    local_day: NDArray[np.int32],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    attempted: NDArray[np.int8],
    declared_income: NDArray[np.float64],
    cash_day: NDArray[np.int32],
    cash_sum: NDArray[np.float64],
    pay_ts: NDArray[np.int64],
    dep_ts: NDArray[np.int64],
    dep_ref: NDArray[np.int64],
    window_days: int,
    min_cash_cad: float,
    income_multiple: float,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Cash deposits in a window with no payroll / government credit, or above declared income.

    Cash is summed per local day (day buckets); ``pay_ts`` is the latest ``eft_in`` (payroll,
    pension, benefits). On a cash deposit with a known amount, with ``cash`` the deposits of
    local days ``d - window_days + 1 .. d``: fire when ``cash > min_cash_cad`` and no
    ``eft_in`` in ``(t - window_days, t]``, or when the profile declares a yearly income
    ``> 0`` and ``cash > income_multiple * declared_income / 12``. Evidence: the most recent
    cash deposits in ``(t - window_days, t]``.

    polars equivalent, per customer: ``local_day`` range sum of cash-deposit ``amount``,
    ``rolling(index_column="ts", period=f"{window_days}d")`` count of ``eft_in`` rows, and a
    join of ``declared_income`` from the profile.
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        c = cust[i]
        t = ts[i]
        if t_type == EFT_IN:
            if t > pay_ts[c]:
                pay_ts[c] = t
            continue
        a = amount[i]
        if t_type != CASH_DEPOSIT or a != a:
            continue
        d = local_day[i]
        bucket_add(cash_day, cash_sum, c, d, 0, a)
        ring_insert(dep_ts, dep_ref, c, t, seq[i])
        touched[i] = 1
        cash = bucket_sum(cash_day, cash_sum, c, d - window_days + 1, d, 0)
        lo = t - width
        no_income = not (lo < pay_ts[c] <= t)
        income = declared_income[c]
        over_income = income == income and income > 0.0 and cash > income_multiple * income / 12.0
        if (cash > min_cash_cad and no_income) or over_income:
            fired[i] = 1
            observed[i] = cash
            select_evidence(evidence[i], t, window(dep_ts, dep_ref, c, lo))


def _cash(n: int, day: float, amount: float) -> dict[str, Any]:
    return txn(
        n,
        "cash_deposit",
        amount,
        days=day,
        channel="atm",
        location_id="ATM-HFX-2",
        city="Halifax",
        province="NS",
    )


def _pay(n: int, day: float, amount: float = 1900.0) -> dict[str, Any]:
    return txn(
        n,
        "eft_in",
        amount,
        days=day,
        channel="online",
        counterparty_id="EMPLOYER-4",
        counterparty_name="NS HEALTH PAYROLL",
    )


SPEC = IndicatorSpec(
    id="PP-15",
    title="Cash without income",
    description=(
        "Cash deposits of more than CAD 5,000 in 90 days into an account that receives no "
        "payroll or government credits (no `eft_in`) in that time, or cash deposits above "
        "three times the declared monthly income from the profile. FinCEN lists cash deposits "
        "with no payroll as a sign that the account is fed by commercial sex earnings, and "
        "FINTRAC lists activity inconsistent with the client's financial status (F16-K1). The "
        "cash is usually the victim's nightly earnings deposited to her own account before it "
        "is moved on, so this is a victim-side pattern."
    ),
    family="CASHGEO",
    sources=("FIN-2020-A008 #4", "FINTRAC-2016-OA003 K1"),
    status="experimental",
    severity="medium",
    weight=1.5,
    role_signal="victim",
    window="90d",
    threshold_param="min_cash_cad",
    false_positives=(
        "Cash-paid workers (servers, trades, cleaners, farm and seasonal workers) whose wages "
        "never arrive by direct deposit.",
        "Self-employed people and small businesses banking the day's takings in a personal "
        "account.",
        "Payroll that arrives at another institution while cash is banked here.",
        "Stale declared income on the profile (raises, new jobs).",
    ),
    required_fields=("txn_type", "amount", "declared_income_cad"),
    inputs=("cust", "seq", "ts", "local_day", "txn_type", "amount", "attempted", "declared_income"),
    state=(
        StateArray("cash_day", (DAYS,), np.int32, _NO_DAY),
        StateArray("cash_sum", (DAYS, 1), np.float64, 0.0),
        StateArray("pay_ts", (), np.int64, EMPTY_TS),
        StateArray("dep_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("dep_ref", (RING,), np.int64, -1),
    ),
    params=(
        Param(
            "window_days",
            90,
            1,
            DAYS - 1,
            "window, days (cash by local day)",
            integer=True,
            capacity="cash_day",
            spare=1,
        ),
        Param(
            "min_cash_cad",
            5000.0,
            100.0,
            1_000_000.0,
            "cash deposits above this with no payroll credits fire (CAD)",
        ),
        Param(
            "income_multiple",
            3.0,
            0.5,
            24.0,
            "cash deposits above this many months of declared income fire",
        ),
    ),
    kernel=cash_without_income,
    coverage="partial",
    coverage_note=(
        "Payroll and government credits are approximated by any `eft_in`; a credit-source "
        "classification (an optional `credit_source` field: payroll, government, other) would "
        "complete it. Declared income comes from the profile's `declared_income_cad`."
    ),
    must_fire=(
        example(
            "CAD 6,000 in cash over six weeks, no payroll",
            *(_cash(n + 1, 7 * n, 1000.0) for n in range(6)),
        ),
        example(
            "payroll present but cash far above declared income",
            _pay(1, 0, 1200.0),
            _cash(2, 3, 2500.0),
            _cash(3, 10, 2500.0),
            _cash(4, 20, 2000.0),
            profile={"declared_income_cad": 18000, "occupation": "student"},
        ),
    ),
    must_not_fire=(
        example(
            "cash tips beside regular payroll",
            *(
                r
                for n in range(6)
                for r in (_pay(2 * n + 1, 14 * n), _cash(2 * n + 2, 14 * n + 2, 1500.0))
            ),
            profile={"declared_income_cad": 52000, "occupation": "server"},
        ),
        example(
            "small cash deposits, no payroll",
            *(_cash(n + 1, 10 * n, 400.0) for n in range(9)),
        ),
    ),
)
