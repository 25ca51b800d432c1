"""PP-31 · Telecom excess / jail calls (RAILS, contextual)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import BILL_PAYMENT, DAY, EFT_OUT, EMPTY_TS, EMT_OUT, PURCHASE
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

PROVIDERS = 16  # distinct telecom providers kept per customer
CALLS = 16  # recent inmate-call payments per customer


@helper
def is_telecom(mcc: int) -> bool:
    """Telecom services 4814, equipment 4812, cable / pay TV 4899, computer network 4816."""
    return mcc == 4814 or mcc == 4812 or mcc == 4899 or mcc == 4816


@kernel
def telecom_jail_calls(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    mcc: NDArray[np.int16],
    merchant: NDArray[np.int64],
    counterparty: NDArray[np.int64],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    tel_key: NDArray[np.int64],
    tel_ts: NDArray[np.int64],
    tel_ref: NDArray[np.int64],
    call_ts: NDArray[np.int64],
    call_ref: NDArray[np.int64],
    window_days: int,
    min_providers: int,
    min_inmate_calls: int,
    ref_inmate_call_providers: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Distinct telecom providers paid in a window, and payments to inmate-call providers.

    Telecom rows are purchases and bill payments at a telecom MCC; the provider is the
    merchant hash, else the counterparty hash (rows with neither are ignored). Inmate-call
    rows are purchases, bill payments, EMTs out and EFTs out whose descriptor or payee is
    on the inmate-call list (``ref_inmate_call_providers``); a row can be both. Observed: distinct
    providers when the telecom sub-rule fires, else inmate-call payments in the window.

    polars equivalent, per customer: ``rolling(index_column="ts", period=f"{window_days}d")``
    of ``provider.filter(telecom).n_unique()`` on telecom rows and of ``len()`` on inmate-call
    rows; fire where ``n_unique >= min_providers`` or ``len >= min_inmate_calls``.
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        bill = t_type in (PURCHASE, BILL_PAYMENT)
        telecom = bill and is_telecom(mcc[i])
        inmate = (bill or t_type in (EMT_OUT, EFT_OUT)) and (
            ref_flags[i] & ref_inmate_call_providers
        ) != 0
        if not telecom and not inmate:
            continue
        c = cust[i]
        t = ts[i]
        lo = t - width
        n_tel = 0
        n_call = 0
        hit_tel = False
        hit_call = False
        if telecom:
            key = merchant[i] if merchant[i] != 0 else counterparty[i]
            if key != 0:
                keyed_touch(tel_key, tel_ts, tel_ref, c, key, t, seq[i])
                touched[i] = 1
                n_tel = keyed_distinct(tel_ts, c, lo, t)
                hit_tel = n_tel >= min_providers
        if inmate:
            ring_insert(call_ts, call_ref, c, t, seq[i])
            touched[i] = 1
            n_call = ring_count(call_ts, c, lo, t)
            hit_call = n_call >= min_inmate_calls
        if hit_tel:
            fired[i] = 1
            observed[i] = n_tel
            select_evidence(evidence[i], t, window(tel_ts, tel_ref, c, lo))
        elif hit_call:
            fired[i] = 1
            observed[i] = n_call
            select_evidence(evidence[i], t, window(call_ts, call_ref, c, lo))


def _bill(n: int, days: float, name: str, mcc: str, amount: float = 85.0) -> dict[str, Any]:
    return txn(
        n,
        "bill_payment",
        amount,
        days=days,
        channel="online",
        mcc=mcc,
        merchant_id=f"M-{name}",
        merchant_name=name,
    )


SPEC = IndicatorSpec(
    id="PP-31",
    title="Telecom excess / jail calls",
    description=(
        "Payments to three or more distinct telephone, internet or cable providers within 30 "
        "days (MCC 4814, 4812, 4899, 4816), or any payment to a provider of inmate collect "
        "calls (`inmate_call_providers` list). FINTRAC's 2021 alert lists excessive payments "
        "to several phone and internet providers (G20: traffickers keep many lines for ads "
        "and for the victims) and payments to entities associated with jail collect calls "
        "(G12: a trafficker directing victims from custody). Contextual and low-weight: it "
        "adds to a constellation, never anchors one."
    ),
    family="RAILS",
    sources=("FINTRAC-2021-OA001 G20", "FINTRAC-2021-OA001 G12"),
    status="experimental",
    severity="low",
    weight=0.75,
    role_signal="context",
    window="30d",
    threshold_param="min_providers",
    false_positives=(
        "Households with separate mobile, home internet and TV providers, and people "
        "switching provider (old and new bills in one month).",
        "Small businesses and IT workers paying hosting and network services (4816).",
        "Families of inmates paying for calls with a relative in custody.",
    ),
    required_fields=("txn_type", "mcc", "merchant_id", "merchant_name", "counterparty_name"),
    inputs=(
        "cust",
        "seq",
        "ts",
        "txn_type",
        "mcc",
        "merchant",
        "counterparty",
        "ref_flags",
        "attempted",
    ),
    state=(
        StateArray("tel_key", (PROVIDERS,), np.int64, 0),
        StateArray("tel_ts", (PROVIDERS,), np.int64, EMPTY_TS),
        StateArray("tel_ref", (PROVIDERS,), np.int64, -1),
        StateArray("call_ts", (CALLS,), np.int64, EMPTY_TS),
        StateArray("call_ref", (CALLS,), np.int64, -1),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "min_providers",
            3,
            2,
            PROVIDERS,
            "distinct telecom providers in the window",
            integer=True,
            capacity="tel_key",
        ),
        Param(
            "min_inmate_calls",
            1,
            1,
            CALLS,
            "inmate-call payments in the window",
            integer=True,
            capacity="call_ts",
        ),
    ),
    kernel=telecom_jail_calls,
    reference_lists=("inmate_call_providers",),
    coverage="full",
    must_fire=(
        example(
            "four phone providers in three weeks",
            _bill(1, 0, "ROGERS WIRELESS", "4814"),
            _bill(2, 5, "FREEDOM MOBILE", "4814", 40.0),
            _bill(3, 11, "PUBLIC MOBILE", "4814", 25.0),
            _bill(4, 19, "CHATR WIRELESS", "4814", 30.0),
        ),
        example(
            "an inmate-call account top-up",
            txn(
                1,
                "purchase",
                50.0,
                channel="ecom",
                mcc="4814",
                merchant_name="SYNERGY INMATE PHONE",
                merchant_id="M-SYNERGY",
            ),
        ),
    ),
    must_not_fire=(
        example(
            "phone and internet from two providers, monthly",
            *(
                row
                for n in range(3)
                for row in (
                    _bill(2 * n + 1, 30 * n, "BELL CANADA", "4814", 95.0),
                    _bill(2 * n + 2, 30 * n + 2, "ROGERS CABLE", "4899", 120.0),
                )
            ),
        ),
        example(
            "three providers spread over three months",
            _bill(1, 0, "ROGERS WIRELESS", "4814"),
            _bill(2, 35, "FREEDOM MOBILE", "4814", 40.0),
            _bill(3, 70, "PUBLIC MOBILE", "4814", 25.0),
        ),
    ),
)
