"""PP-14 · White-label ATM withdrawals (CASHGEO)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import CASH_WITHDRAWAL, DAY, EMPTY_TS
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

RING = 32  # white-label withdrawals, and all withdrawals, per customer


@kernel
def white_label_atm(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    wl_ts: NDArray[np.int64],
    wl_ref: NDArray[np.int64],
    wd_ts: NDArray[np.int64],
    wd_wl: NDArray[np.uint8],
    window_days: int,
    min_white_label: int,
    min_share: float,
    share_min_white_label: int,
    share_min_withdrawals: int,
    ref_white_label_atms: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Count cash withdrawals at white-label (non-FI) ATMs in a sliding window.

    A withdrawal is white-label when its ``terminal_owner`` is ``white_label`` or its
    ``location_id`` is on the ``white_label_atms`` registry (both set ``ref_white_label_atms``).
    Two rings, as in PP-12: white-label withdrawals ``(ts, ref)`` for the count and the
    evidence, and all withdrawals ``(ts, white-label flag)`` for the share. Under saturation
    the share is taken over the most recent ``RING`` withdrawals.

    polars equivalent, per customer: filter ``cash_withdrawal`` rows, ``wl = ref_flags &
    ref_white_label_atms != 0``, ``rolling(index_column="ts", period=f"{window_days}d")`` with
    ``wl.sum()`` and ``len()``; fire on white-label rows where ``wl_sum >= min_white_label``
    or (``wl_sum >= share_min_white_label`` and ``len >= share_min_withdrawals`` and
    ``wl_sum / len >= min_share``).
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0 or txn_type[i] != CASH_WITHDRAWAL:
            continue
        c = cust[i]
        t = ts[i]
        wl = (ref_flags[i] & ref_white_label_atms) != 0
        slot = ring_oldest(wd_ts, c)
        wd_ts[c, slot] = t
        wd_wl[c, slot] = 1 if wl else 0
        if not wl:
            continue
        ring_insert(wl_ts, wl_ref, c, t, seq[i])
        touched[i] = 1
        lo = t - width
        n_wl = ring_count(wl_ts, c, lo, t)
        n_all = ring_count(wd_ts, c, lo, t)
        n_wl_of_all = ring_sum(wd_ts, wd_wl, c, lo, t)
        if count_or_share(
            n_wl,
            min_white_label,
            n_wl_of_all,
            n_all,
            share_min_white_label,
            share_min_withdrawals,
            min_share,
        ):
            fired[i] = 1
            observed[i] = n_wl
            select_evidence(evidence[i], t, window(wl_ts, wl_ref, c, lo))


def _wl(n: int, day: float, location: str, at: str = "14:00") -> dict[str, Any]:
    return txn(
        n,
        "cash_withdrawal",
        200.0,
        days=day,
        at=at,
        channel="atm",
        location_id=location,
        terminal_owner="white_label",
        city="Calgary",
        province="AB",
    )


def _fi(n: int, day: float) -> dict[str, Any]:
    return txn(
        n,
        "cash_withdrawal",
        100.0,
        days=day,
        channel="atm",
        location_id="ATM-BANK-1",
        terminal_owner="fi",
        city="Calgary",
        province="AB",
    )


SPEC = IndicatorSpec(
    id="PP-14",
    title="White-label ATM withdrawals",
    description=(
        "Frequent cash withdrawals from white-label (non-bank) ATMs, the machines found in "
        "convenience stores, gas stations, casinos and hotels (F21-G24). Victims working out of "
        "hotels and motels are sent to the nearest machine to take out cash for the trafficker, "
        "so the withdrawals cluster on white-label ATMs rather than the bank's own. A withdrawal "
        "counts when `terminal_owner` is `white_label` or its ATM id is on the white-label "
        "registry. Fires on six or more in 30 days, or when white-label withdrawals are at "
        "least half of the customer's withdrawals (with at least three of them); a "
        "victim-side pattern."
    ),
    family="CASHGEO",
    sources=("FINTRAC-2021-OA001 G24",),
    status="experimental",
    severity="low",
    weight=1.5,
    role_signal="victim",
    window="30d",
    threshold_param="min_white_label",
    false_positives=(
        "People in rural areas or small towns where the only ATM is in a gas station or "
        "convenience store.",
        "Customers of banks with few own ATMs in their area (online banks, credit unions).",
        "Bar, casino and hotel staff withdrawing at work.",
    ),
    required_fields=("txn_type", "channel", "terminal_owner", "location_id"),
    inputs=("cust", "seq", "ts", "txn_type", "ref_flags", "attempted"),
    state=(
        StateArray("wl_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("wl_ref", (RING,), np.int64, -1),
        StateArray("wd_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("wd_wl", (RING,), np.uint8, 0),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "min_white_label",
            6,
            1,
            RING,
            "white-label withdrawals in the window",
            integer=True,
            capacity="wl_ts",
        ),
        Param("min_share", 0.5, 0.05, 1.0, "share of withdrawals that are white-label"),
        Param(
            "share_min_white_label",
            3,
            1,
            RING,
            "white-label withdrawals needed for the share rule",
            integer=True,
            capacity="wl_ts",
        ),
        Param(
            "share_min_withdrawals",
            3,
            1,
            RING,
            "withdrawals needed for the share rule",
            integer=True,
            capacity="wd_ts",
        ),
    ),
    kernel=white_label_atm,
    reference_lists=("white_label_atms",),
    coverage="full",
    coverage_note=(
        "The ATM's location type (convenience store, gas station, casino, hotel) is not in the "
        "contract; an optional `location_type` field would let the evidence name it. Owner "
        "type comes from `terminal_owner` or the `white_label_atms` registry of location ids."
    ),
    must_fire=(
        example(
            "six white-label withdrawals in three weeks",
            *(_wl(n + 1, 3 * n, f"WL-GAS-{n % 3}") for n in range(6)),
        ),
        example(
            "three of four withdrawals at white-label machines",
            _fi(1, 0),
            _wl(2, 2, "WL-MOTEL-7", at="23:10"),
            _wl(3, 5, "WL-MOTEL-7", at="22:40"),
            _wl(4, 9, "WL-CONV-2", at="01:15"),
        ),
    ),
    must_not_fire=(
        example(
            "bank ATMs with the odd white-label withdrawal",
            *(_fi(n + 1, 2 * n) for n in range(8)),
            _wl(9, 17, "WL-GAS-1"),
            _wl(10, 19, "WL-GAS-2"),
        ),
        example(
            "five white-label withdrawals spread over four months",
            *(_wl(n + 1, 25 * n, "WL-GAS-1") for n in range(5)),
        ),
    ),
)
