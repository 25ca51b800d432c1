"""PP-29 · Lavish lifestyle vs profile (LUX)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import BILL_PAYMENT, DAY, EMPTY_TS, PURCHASE
from indicators.examples import example, txn
from indicators.jit import helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import bucket_add, bucket_sum, ring_insert, select_evidence, window

RING = 16  # recent luxury purchases per customer (evidence only: the spend is in day buckets)
DAYS = 92  # spend day buckets; one more than the widest window (local days can step back one)
_NO_DAY = np.iinfo(np.int32).min


@helper
def is_luxury(
    mcc: int, ref_flags: int, amount: float, high_ticket_cad: float, ref_luxury_merchants: int
) -> bool:
    """A tier-1 merchant: luxury descriptor, a luxury MCC, or a high ticket at a restaurant / limo.

    MCCs (INDICATORS.md, LUX row): 5511 car dealers, 5944 jewellery, 5681 furriers,
    5813 nightclubs, 8099 / 8011 cosmetic surgery and medical, 7298 spas, 7997 clubs.
    Restaurants (5812) and taxis / limousines (4121) count only from ``high_ticket_cad`` up,
    a price-band proxy for "higher-end" (F21-G5) and "limousine" (F21-G4).
    """
    if (ref_flags & ref_luxury_merchants) != 0:
        return True
    if (
        mcc == 5511
        or mcc == 5944
        or mcc == 5681
        or mcc == 5813
        or mcc == 8099
        or mcc == 8011
        or mcc == 7298
        or mcc == 7997
    ):
        return True
    return (mcc == 5812 or mcc == 4121) and amount >= high_ticket_cad


@kernel
def lavish_lifestyle(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    local_day: NDArray[np.int32],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    mcc: NDArray[np.int16],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    declared_income: NDArray[np.float64],
    lux_ts: NDArray[np.int64],
    lux_ref: NDArray[np.int64],
    spend_day: NDArray[np.int32],
    spend_sum: NDArray[np.float64],
    window_days: int,
    income_share: float,
    min_spend_cad: float,
    low_income_cad: float,
    high_ticket_cad: float,
    ref_luxury_merchants: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Luxury spend over ``window_days`` local days against the declared income for that period.

    Luxury rows are purchases and bill payments with a known CAD amount at a tier-1 merchant
    (:func:`is_luxury`). The declared income for the window is ``declared_income *
    window_days / 360`` (a quarter for the default 90 days). With an income known and at
    least ``low_income_cad``, the rule fires when spend >= ``income_share`` of it; with the
    income unknown or below ``low_income_cad`` (a tiny or zero income makes any share
    meaningless), when spend >= ``min_spend_cad``. Observed: the luxury spend (CAD).

    polars equivalent, per customer: filter luxury rows, then a ``local_day`` range sum of
    ``amount`` over ``local_day - window_days + 1 .. local_day`` (``rolling`` on
    ``local_day`` with ``period=f"{window_days}i"``), compared with the per-customer
    threshold from the profile join.
    """
    width = np.int64(window_days * DAY)
    period = window_days / 360.0
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        if t_type != PURCHASE and t_type != BILL_PAYMENT:
            continue
        a = amount[i]
        if a != a or not is_luxury(mcc[i], ref_flags[i], a, high_ticket_cad, ref_luxury_merchants):
            continue
        c = cust[i]
        t = ts[i]
        d = local_day[i]
        ring_insert(lux_ts, lux_ref, c, t, seq[i])
        touched[i] = 1
        bucket_add(spend_day, spend_sum, c, d, 0, a)
        spend = bucket_sum(spend_day, spend_sum, c, d - window_days + 1, d, 0)
        income = declared_income[c]
        if income == income and income >= low_income_cad:
            threshold = income_share * (income * period)
        else:
            threshold = min_spend_cad
        if spend >= threshold:
            fired[i] = 1
            observed[i] = spend
            select_evidence(evidence[i], t, window(lux_ts, lux_ref, c, t - width))


def _buy(n: int, amount: float, days: float, name: str, mcc: str, **fields: Any) -> dict[str, Any]:
    return txn(
        n,
        "purchase",
        amount,
        days=days,
        merchant_name=name,
        merchant_id=f"M-{name[:12]}",
        mcc=mcc,
        city="Toronto",
        province="ON",
        **fields,
    )


SPEC = IndicatorSpec(
    id="PP-29",
    title="Lavish lifestyle vs profile",
    description=(
        "Spend at tier-1 merchants (luxury brands on the `luxury_merchants` list, car dealers, "
        "jewellers, furriers, nightclubs, cosmetic surgery, spas, private clubs, and "
        "high-ticket restaurant or limousine bills) over 90 days compared with the customer's "
        "declared income. FINTRAC's 2021 alert lists luxury vehicles and limousines, "
        "higher-end restaurants, clothing and nightclubs, jewellery and cosmetic surgery "
        "(G4-G9) because traffickers spend the proceeds on status goods and on appearance "
        "procedures for victims. Fires when the spend reaches half the declared income for "
        "the period (income / 4 for 90 days), or CAD 10,000 when income is unknown or below "
        "CAD 20,000 a year. Observed: luxury spend in CAD."
    ),
    family="LUX",
    sources=(
        "FINTRAC-2021-OA001 G4",
        "FINTRAC-2021-OA001 G5",
        "FINTRAC-2021-OA001 G6",
        "FINTRAC-2021-OA001 G7",
        "FINTRAC-2021-OA001 G8",
        "FINTRAC-2021-OA001 G9",
    ),
    status="experimental",
    severity="medium",
    weight=1.5,
    role_signal="trafficker",
    window="90d",
    threshold_param="min_spend_cad",
    false_positives=(
        "Wealthy clients whose profile understates income (stale KYC, income from assets or "
        "a spouse), and one-off purchases such as a car or an engagement ring.",
        "Reconstructive surgery and other medical bills at 8011 / 8099 (the MCCs do not "
        "separate cosmetic from necessary care).",
        "Bar and restaurant workers or event organisers paying on a personal card and being "
        "reimbursed; gross spend is counted, refunds are not netted.",
    ),
    required_fields=("txn_type", "amount", "mcc", "merchant_name", "declared_income_cad"),
    inputs=(
        "cust",
        "seq",
        "ts",
        "local_day",
        "txn_type",
        "amount",
        "mcc",
        "ref_flags",
        "attempted",
        "declared_income",
    ),
    state=(
        StateArray("lux_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("lux_ref", (RING,), np.int64, -1),
        StateArray("spend_day", (DAYS,), np.int32, _NO_DAY),
        StateArray("spend_sum", (DAYS, 1), np.float64, 0.0),
    ),
    params=(
        Param(
            "window_days",
            90,
            7,
            DAYS - 1,
            "spend window, local days",
            integer=True,
            capacity="spend_day",
            spare=1,
        ),
        Param(
            "income_share",
            0.5,
            0.05,
            5.0,
            "fire at this share of the declared income for the window",
        ),
        Param(
            "min_spend_cad",
            10_000.0,
            500.0,
            1_000_000.0,
            "fire at this spend (CAD) when income is unknown or low",
        ),
        Param(
            "low_income_cad",
            20_000.0,
            0.0,
            200_000.0,
            "declared yearly income below this is treated as unknown (CAD)",
        ),
        Param(
            "high_ticket_cad",
            300.0,
            50.0,
            10_000.0,
            "restaurant (5812) or taxi / limousine (4121) bills from this amount count (CAD)",
        ),
    ),
    kernel=lavish_lifestyle,
    reference_lists=("luxury_merchants",),
    coverage="partial",
    coverage_note=(
        "No merchant tier / price-band reference: higher-end restaurants, clothing and "
        "limousines (G4-G6) are approximated by the luxury descriptor list and a per-bill "
        "amount floor on 5812 / 4121; a `merchant_tier` field (or a tier list keyed by "
        "merchant_id) would complete them. Occupation is not used beyond declared income."
    ),
    must_fire=(
        example(
            "watch and jewellery with income unknown",
            _buy(1, 8_500.0, 0, "ROLEX BOUTIQUE YORKVILLE", "5944"),
            _buy(2, 1_200.0, 20, "MAISON BIRKS", "5944"),
            _buy(3, 650.0, 41, "CLUB EMPIRE", "5813"),
        ),
        example(
            "nightclub, spa and cosmetic clinic on a modest income",
            _buy(1, 1_400.0, 0, "CLUB EMPIRE", "5813"),
            _buy(2, 900.0, 12, "ELMWOOD SPA", "7298"),
            _buy(3, 2_800.0, 30, "BODY CONTOUR CLINIC", "8099"),
            profile={"declared_income_cad": 36_000, "occupation": "retail associate"},
        ),
    ),
    must_not_fire=(
        example(
            "a car deposit on a high income",
            _buy(1, 12_000.0, 0, "YORKDALE TOYOTA", "5511"),
            _buy(2, 400.0, 10, "CANOE RESTAURANT", "5812"),
            profile={"declared_income_cad": 150_000, "occupation": "engineer"},
        ),
        example(
            "jewellery purchases more than 90 days apart",
            _buy(1, 6_000.0, 0, "MAISON BIRKS", "5944"),
            _buy(2, 6_000.0, 100, "MAISON BIRKS", "5944"),
        ),
        example(
            "ordinary restaurant bills",
            *(_buy(n + 1, 180.0, 3 * n, "CANOE RESTAURANT", "5812") for n in range(20)),
        ),
    ),
)
