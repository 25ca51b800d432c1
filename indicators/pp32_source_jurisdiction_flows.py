"""PP-32 · International flows to source jurisdictions (INTL, contextual)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import (
    CHANNEL_CODE,
    DAY,
    EFT_IN,
    EFT_OUT,
    EMPTY_TS,
    EMT_OUT,
    TRANSFER_OUT,
    WIRE_IN,
    WIRE_OUT,
)
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import ring_count, ring_insert, ring_sum, select_evidence, window

RING = 16  # recent qualifying transfers per customer
MSB = CHANNEL_CODE["msb"]


@kernel
def source_jurisdiction_flows(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    channel: NDArray[np.int8],
    amount: NDArray[np.float64],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    x_ts: NDArray[np.int64],
    x_ref: NDArray[np.int64],
    x_amount: NDArray[np.float64],
    window_days: int,
    min_transfers: int,
    min_total_cad: float,
    ref_source_jurisdictions: int,
    ref_vague_purpose_terms: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Count and total of vague-purpose transfers to or from source jurisdictions in a window.

    Qualifying rows carry both ``ref_source_jurisdictions`` (country or counterparty country
    on the list) and ``ref_vague_purpose_terms`` (memo such as "living expenses", "consulting",
    "training"), and are outgoing (``wire_out``, ``eft_out``, ``emt_out``, or an MSB
    ``transfer_out``) or incoming (``wire_in``, ``eft_in``). Unknown CAD amounts count as
    transfers, not towards the total. The ring keeps the newest ``RING`` transfers: while
    fewer are in the window the total is exact, and a full window already meets any count
    threshold (bounded by ``RING``). Observed: qualifying transfers in the window.

    polars equivalent, per customer: filter qualifying rows, then
    ``rolling(index_column="ts", period=f"{window_days}d")`` with ``len()`` and
    ``amount.fill_nan(0).sum()``; fire where ``len >= min_transfers`` or
    ``sum >= min_total_cad``.
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        flags = ref_flags[i]
        if (flags & ref_source_jurisdictions) == 0 or (flags & ref_vague_purpose_terms) == 0:
            continue
        t_type = txn_type[i]
        outgoing = t_type in (WIRE_OUT, EFT_OUT, EMT_OUT) or (
            channel[i] == MSB and t_type == TRANSFER_OUT
        )
        incoming = t_type in (WIRE_IN, EFT_IN)
        if not outgoing and not incoming:
            continue
        c = cust[i]
        t = ts[i]
        a = amount[i]
        slot = ring_insert(x_ts, x_ref, c, t, seq[i])
        x_amount[c, slot] = a if a == a else 0.0
        touched[i] = 1
        lo = t - width
        n = ring_count(x_ts, c, lo, t)
        total = ring_sum(x_ts, x_amount, c, lo, t)
        if n >= min_transfers or total >= min_total_cad:
            fired[i] = 1
            observed[i] = n
            select_evidence(evidence[i], t, window(x_ts, x_ref, c, lo))


def _wire(
    n: int,
    kind: str,
    amount: float,
    days: float,
    country: str,
    memo: str,
    channel: str = "online",
    **fields: Any,
) -> dict[str, Any]:
    return txn(
        n,
        kind,
        amount,
        days=days,
        channel=channel,
        counterparty_id=f"BEN-{country}-{n}",
        counterparty_name="beneficiary",
        counterparty_country=country,
        memo=memo,
        **fields,
    )


SPEC = IndicatorSpec(
    id="PP-32",
    title="International flows to source jurisdictions",
    description=(
        "Transfers to or from jurisdictions on the configured source list (FINTRAC's 2021 "
        "alert names China and South Korea among others) with a vague stated purpose "
        "(living expenses, consulting, training, education, travel): outgoing wires, EFTs, "
        "EMTs and MSB remittances, and incoming wires and EFTs. Victims recruited abroad are "
        "often told they owe travel, 'training' or visa debts, and proceeds are sent back to "
        "recruiters under such purposes. Fires on three or more such transfers, or CAD 10,000 "
        "in total, within 90 days. The list is broad and remittances are common, so the rule "
        "is low-weight context: it counts only beside another family."
    ),
    family="INTL",
    sources=("FINTRAC-2021-OA001 narrative", "FINTRAC-2021-OA001 X7", "FIN-2014-A008"),
    status="experimental",
    severity="low",
    weight=0.5,
    role_signal="context",
    window="90d",
    threshold_param="min_transfers",
    false_positives=(
        "Family remittances from migrant workers and students, whose memos often say "
        "'living expenses', 'family support' or 'tuition'.",
        "Consultants and small importers paid for services from or to those countries.",
        "International students receiving tuition and living money from home.",
    ),
    required_fields=("txn_type", "channel", "amount", "counterparty_country", "country", "memo"),
    inputs=("cust", "seq", "ts", "txn_type", "channel", "amount", "ref_flags", "attempted"),
    state=(
        StateArray("x_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("x_ref", (RING,), np.int64, -1),
        StateArray("x_amount", (RING,), np.float64, 0.0),
    ),
    params=(
        Param("window_days", 90, 7, 180, "sliding window, days", integer=True),
        Param(
            "min_transfers",
            3,
            1,
            RING,
            "qualifying transfers in the window",
            integer=True,
            capacity="x_ts",
        ),
        Param(
            "min_total_cad",
            10_000.0,
            500.0,
            1_000_000.0,
            "qualifying transfers totalling this much fire (CAD)",
        ),
    ),
    kernel=source_jurisdiction_flows,
    reference_lists=("source_jurisdictions", "vague_purpose_terms"),
    coverage="partial",
    coverage_note=(
        "Outgoing transfers with no memo at all cannot be told from those with a specific "
        "purpose: the columns carry only the vague-purpose bit. A reference bit for an empty "
        "memo (set by the decoder when `memo` is absent or blank) would complete the "
        "'no purpose' branch; today only vague-purpose transfers count in either direction."
    ),
    must_fire=(
        example(
            "three 'consulting' wires to Hong Kong",
            _wire(1, "wire_out", 2_500.0, 0, "HK", "consulting fee"),
            _wire(2, "wire_out", 3_000.0, 25, "HK", "consulting"),
            _wire(3, "wire_out", 2_800.0, 61, "HK", "consulting services"),
        ),
        example(
            "one large 'training' transfer from China",
            _wire(
                1, "wire_in", 12_000.0, 0, "CN", "training and living expenses", channel="branch"
            ),
        ),
    ),
    must_not_fire=(
        example(
            "monthly remittances with a specific purpose",
            *(
                _wire(
                    n + 1,
                    "transfer_out",
                    400.0,
                    30 * n,
                    "PH",
                    "mortgage for house in Cebu",
                    channel="msb",
                )
                for n in range(3)
            ),
        ),
        example(
            "vague transfers to a country not on the list",
            *(_wire(n + 1, "wire_out", 4_000.0, 10 * n, "FR", "consulting") for n in range(3)),
        ),
    ),
)
