"""PK-07 · Activity inconsistent with occupation, income or business (KYC)."""

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
from indicators.vocabulary import is_credit
from indicators.windows import bucket_add, bucket_sum, ring_insert, select_evidence, window

RING = 16  # recent credits per customer (evidence only: the total is in day buckets)
DAYS = 32  # credit day buckets; one more than the widest window (local days can step back one)
_NO_DAY = np.iinfo(np.int32).min


@kernel
def inconsistent_activity(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    local_day: NDArray[np.int32],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    attempted: NDArray[np.int8],
    declared_income: NDArray[np.float64],
    expected_monthly: NDArray[np.float64],
    cr_ts: NDArray[np.int64],
    cr_ref: NDArray[np.int64],
    credit_day: NDArray[np.int32],
    credit_sum: NDArray[np.float64],
    window_days: int,
    k: float,
    min_credits_cad: float,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Credits over ``window_days`` local days against the activity the profile states.

    Credits are cash deposits, EMTs, transfers, wires and EFTs in, with a known CAD amount.
    The baseline for the window is ``expected_monthly`` when the profile gives it, else the
    declared yearly income / 12, scaled by ``window_days / 30``; with neither, the rule does
    not evaluate (credits are still recorded, so a profile arriving later sees them). It
    fires when credits > ``max(k * baseline, min_credits_cad)`` (the catalogue's
    ``max(absolute_floor, k x baseline)``: a zero or tiny stated income cannot make every
    deposit inconsistent). Observed: credits as a multiple of ``max(baseline,
    min_credits_cad / k)``, comparable with ``k``.

    polars equivalent, per customer: filter credits, a ``local_day`` range sum of
    ``amount`` over ``local_day - window_days + 1 .. local_day``, joined with the profile's
    ``coalesce(expected_monthly, declared_income / 12) * window_days / 30``.
    """
    width = np.int64(window_days * DAY)
    months = window_days / 30.0
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
        d = local_day[i]
        ring_insert(cr_ts, cr_ref, c, t, seq[i])
        touched[i] = 1
        bucket_add(credit_day, credit_sum, c, d, 0, a)
        expected = expected_monthly[c]
        income = declared_income[c]
        if expected == expected:
            base = expected * months
        elif income == income:
            base = (income / 12.0) * months
        else:
            continue
        credits = bucket_sum(credit_day, credit_sum, c, d - window_days + 1, d, 0)
        if credits > max(k * base, min_credits_cad):
            fired[i] = 1
            observed[i] = credits / max(base, min_credits_cad / k)
            select_evidence(evidence[i], t, window(cr_ts, cr_ref, c, t - width))


def _deposit(
    n: int, amount: float, days: float, kind: str = "cash_deposit", **fields: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "channel": "atm",
        "location_id": "ATM-CGY-2",
        "city": "Calgary",
        "province": "AB",
    }
    if kind != "cash_deposit":
        base = {"channel": "online", "counterparty_id": f"CP-{n}"}
    base.update(fields)
    return txn(n, kind, amount, days=days, **base)


SPEC = IndicatorSpec(
    id="PK-07",
    title="Activity inconsistent with occupation, income or business",
    description=(
        "Credits to the account in 30 days well above what the customer told the reporting "
        "entity to expect: more than three times the expected monthly activity on file, or, "
        "without one, three times the declared monthly income (and always above CAD 3,000). "
        "FINTRAC lists activity inconsistent with financial status, occupation or stated "
        "business (F16-K1): a victim declared as a student or unemployed receives the "
        "earnings of sexual exploitation, and a trafficker's or nominee's account takes in "
        "far more than the stated job pays. It normalises the other rules, so it is context "
        "in the role hypothesis."
    ),
    family="KYC",
    sources=("FINTRAC-2016-OA003 K1",),
    status="experimental",
    severity="medium",
    weight=1.0,
    role_signal="context",
    window="30d",
    threshold_param="k",
    false_positives=(
        "Stale profiles: a new job, a raise or a business started since onboarding.",
        "One-off credits: an inheritance, a car or house sale, an insurance payout, a loan "
        "disbursement, or savings moved in from another institution.",
        "Seasonal and commission earners whose monthly activity is lumpy.",
    ),
    required_fields=("txn_type", "amount", "expected_monthly_cad", "declared_income_cad"),
    inputs=(
        "cust",
        "seq",
        "ts",
        "local_day",
        "txn_type",
        "amount",
        "attempted",
        "declared_income",
        "expected_monthly",
    ),
    state=(
        StateArray("cr_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("cr_ref", (RING,), np.int64, -1),
        StateArray("credit_day", (DAYS,), np.int32, _NO_DAY),
        StateArray("credit_sum", (DAYS, 1), np.float64, 0.0),
    ),
    params=(
        Param(
            "window_days",
            30,
            7,
            DAYS - 1,
            "credit window, local days",
            integer=True,
            capacity="credit_day",
            spare=1,
        ),
        Param("k", 3.0, 1.0, 20.0, "credits above k times the stated baseline fire"),
        Param(
            "min_credits_cad",
            3_000.0,
            100.0,
            1_000_000.0,
            "credits must also exceed this (CAD): the floor under a tiny baseline",
        ),
    ),
    kernel=inconsistent_activity,
    coverage="partial",
    coverage_note=(
        "Compares credit volume with `expected_monthly_cad` or `declared_income_cad`; "
        "occupation, account type and account purpose are not used (an occupation or "
        "account-purpose band, e.g. expected activity per product, would refine the "
        "baseline), and a self baseline (90 days of own history) is not yet kept."
    ),
    must_fire=(
        example(
            "student with expected activity of CAD 800 a month takes in CAD 6,900",
            _deposit(1, 1_500.0, 0),
            _deposit(2, 1_200.0, 3, "emt_in"),
            _deposit(3, 2_000.0, 9),
            _deposit(4, 2_200.0, 16, "emt_in"),
            profile={"occupation": "student", "expected_monthly_cad": 800},
        ),
        example(
            "declared income of CAD 24,000 a year, CAD 9,000 of credits in a month",
            *(_deposit(n + 1, 1_500.0, 4 * n) for n in range(6)),
            profile={"declared_income_cad": 24_000},
        ),
    ),
    must_not_fire=(
        example(
            "payroll in line with expected activity",
            _deposit(1, 2_400.0, 0, "eft_in"),
            _deposit(2, 2_400.0, 14, "eft_in"),
            _deposit(3, 300.0, 20, "emt_in"),
            profile={
                "occupation": "nurse",
                "expected_monthly_cad": 5_000,
                "declared_income_cad": 70_000,
            },
        ),
        example(
            "no expected activity or income on file",
            *(_deposit(n + 1, 3_000.0, 3 * n) for n in range(5)),
            profile={"occupation": "unknown"},
        ),
    ),
)
