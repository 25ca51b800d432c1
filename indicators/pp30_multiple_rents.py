"""PP-30 · Multiple rents / property taxes / out-of-area utilities (PROP)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import BILL_PAYMENT, DAY, EFT_OUT, EMPTY_TS, EMT_OUT, PURCHASE
from indicators.examples import example, txn
from indicators.jit import Int64, helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import (
    keyed_distinct,
    keyed_touch,
    ring_count_where,
    select_evidence,
    select_evidence_tag_in,
    tagged_window,
    window,
)

PAYEES = 16  # distinct rent payees kept per customer
MUNICIPALITIES = 16  # distinct property-tax payees kept per customer
NO_LIMIT = np.int64(2**62)  # upper bound for "previous payment time" filters


@helper
def payee_touch(
    keys: NDArray[np.int64],
    key_ts: NDArray[np.int64],
    key_ref: NDArray[np.int64],
    key_prev: NDArray[np.int64],
    c: int,
    key: Int64,
    t: Int64,
    ref: Int64,
    rent_lo: Int64,
    prev_lo: Int64,
    keep_lo: Int64,
) -> int:
    """Record a rent payment to ``key`` at ``t``; returns the payee's slot.

    Like :func:`indicators.windows.keyed_touch`, and also keeps the payee's previous payment
    time: ``key_ts`` / ``key_ref`` are the latest payment, ``key_prev`` the time of the one
    before (``EMPTY_TS`` for a payee paid once). When the table is full, a new payee takes,
    in this order: a free slot or one too old to count again (latest payment at or before
    ``keep_lo``), the oldest first; else the most recently paid payee that does not count
    now, so payees already in the table keep their place through a burst of one-off
    payees and count when they are paid again; else the least recently paid payee that
    counts, which leaves the count at least the table size minus one (the threshold's
    bound).
    """
    for k in range(keys.shape[1]):
        if keys[c, k] == key and key_ts[c, k] != EMPTY_TS:
            if t >= key_ts[c, k]:
                key_prev[c, k] = key_ts[c, k]
                key_ts[c, k] = t
                key_ref[c, k] = ref
            elif t > key_prev[c, k]:
                key_prev[c, k] = t
            return k
    best = 0
    best_rank = 3
    for k in range(keys.shape[1]):
        tk = key_ts[c, k]
        if tk <= keep_lo:
            rank = 0
        elif rent_lo < tk and key_prev[c, k] >= prev_lo:
            rank = 2
        else:
            rank = 1
        if rank < best_rank:
            better = True
        elif rank > best_rank:
            better = False
        elif rank == 1:
            better = tk > key_ts[c, best]  # newest non-counting payee goes first
        else:
            better = tk < key_ts[c, best]  # oldest free / useless / counting payee first
        if better:
            best = k
            best_rank = rank
    keys[c, best] = key
    key_ts[c, best] = t
    key_ref[c, best] = ref
    key_prev[c, best] = EMPTY_TS
    return best


@kernel
def multiple_rents(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    mcc: NDArray[np.int16],
    merchant: NDArray[np.int64],
    counterparty: NDArray[np.int64],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    rent_key: NDArray[np.int64],
    rent_ts: NDArray[np.int64],
    rent_ref: NDArray[np.int64],
    rent_prev: NDArray[np.int64],
    tax_key: NDArray[np.int64],
    tax_ts: NDArray[np.int64],
    tax_ref: NDArray[np.int64],
    rent_days: int,
    min_payees: int,
    min_payee_payments: int,
    recur_days: int,
    tax_days: int,
    min_municipalities: int,
    ref_rent_terms: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Distinct rent payees in a month, and distinct property-tax payees in 60 days.

    Payments are bill payments, EMTs out, EFTs out and purchases; the payee is the
    counterparty hash, else the merchant hash (rows with neither are ignored). A *rent*
    payment is one at MCC 6513 (rentals, property managers) or a non-purchase whose memo /
    payee matches the rent terms (``ref_rent_terms``; card descriptors are left out because
    "RENT-A-CAR" and "RENTALS" match them too). A rent payee counts when its latest payment
    is in the last ``rent_days`` and, with ``min_payee_payments`` = 2, the payment before it
    is in the last ``recur_days`` (rent recurs; moving house pays two landlords once each). A
    *property-tax* payment is one at MCC 9311; each distinct payee is a municipality.
    Observed: counted rent payees, or tax payees when only the tax sub-rule fires.

    polars equivalent, per customer: over rent rows ``group_by("payee")`` the last two
    payment times, then ``rolling(index_column="ts", period=f"{rent_days}d")`` of the
    payees with ``last in window & (payments < 2 or second_last > ts - recur_days)``; over
    tax rows ``rolling(period=f"{tax_days}d")`` of ``n_unique(payee)``.
    """
    rent_w = np.int64(rent_days * DAY)
    recur_w = np.int64(recur_days * DAY)
    tax_w = np.int64(tax_days * DAY)
    # A payee last paid longer ago can never count again. (The ignore: typeshed's max() wants
    # a __lt__ that returns bool, numpy's returns np.bool.)
    keep_w = max(rent_w, recur_w)  # type: ignore[call-overload]
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        if (
            t_type != BILL_PAYMENT
            and t_type != EMT_OUT
            and t_type != EFT_OUT
            and t_type != PURCHASE
        ):
            continue
        m = mcc[i]
        rent = m == 6513 or (t_type != PURCHASE and (ref_flags[i] & ref_rent_terms) != 0)
        tax = m == 9311
        if not rent and not tax:
            continue
        key = counterparty[i] if counterparty[i] != 0 else merchant[i]
        if key == 0:
            continue
        c = cust[i]
        t = ts[i]
        hit_rent = False
        hit_tax = False
        n_rent = 0
        n_tax = 0
        rent_lo = t - rent_w
        # A counted payee's previous payment is in (t - recur_w, t]: prev >= t - recur_w + 1.
        prev_lo = t - recur_w + 1 if min_payee_payments >= 2 else EMPTY_TS
        if rent:
            payee_touch(
                rent_key,
                rent_ts,
                rent_ref,
                rent_prev,
                c,
                key,
                t,
                seq[i],
                rent_lo,
                prev_lo,
                t - keep_w,
            )
            touched[i] = 1
            n_rent = ring_count_where(rent_ts, rent_prev, c, rent_lo, t, prev_lo, NO_LIMIT)
            hit_rent = n_rent >= min_payees
        if tax:
            keyed_touch(tax_key, tax_ts, tax_ref, c, key, t, seq[i])
            touched[i] = 1
            n_tax = keyed_distinct(tax_ts, c, t - tax_w, t)
            hit_tax = n_tax >= min_municipalities
        if hit_rent:
            fired[i] = 1
            observed[i] = n_rent
            select_evidence_tag_in(
                evidence[i],
                t,
                tagged_window(rent_ts, rent_ref, rent_prev, c, rent_lo),
                arg=(prev_lo, NO_LIMIT),
            )
        elif hit_tax:
            fired[i] = 1
            observed[i] = n_tax
            select_evidence(evidence[i], t, window(tax_ts, tax_ref, c, t - tax_w))


def _rent(
    n: int, days: float, payee: str, name: str, amount: float = 1_600.0, memo: str = "rent"
) -> dict[str, Any]:
    return txn(
        n,
        "emt_out",
        amount,
        days=days,
        channel="online",
        counterparty_id=payee,
        counterparty_name=name,
        memo=memo,
    )


def _tax(n: int, days: float, payee: str, name: str, amount: float = 1_450.0) -> dict[str, Any]:
    return txn(
        n,
        "bill_payment",
        amount,
        days=days,
        channel="online",
        mcc="9311",
        counterparty_id=payee,
        counterparty_name=name,
        merchant_name=name,
    )


SPEC = IndicatorSpec(
    id="PP-30",
    title="Multiple rents / property taxes",
    description=(
        "Recurring rent paid to two or more landlords, property managers or rental agencies "
        "in the same month (MCC 6513, or payments whose memo or payee names rent, a landlord "
        "or a lease), or property tax paid to two or more municipalities within 60 days. "
        "FINTRAC's 2021 alert describes trafficking out of private residences: the trafficker "
        "rents several apartments or houses, often in other people's names or cities, and "
        "pays every one of them (R1, R2). A rent payee counts once it has been paid twice "
        "within 62 days, so moving house does not fire."
    ),
    family="PROP",
    sources=("FINTRAC-2021-OA001 R1", "FINTRAC-2021-OA001 R2"),
    status="experimental",
    severity="medium",
    weight=1.5,
    role_signal="trafficker",
    window="31d (rent payees), 62d (recurrence), 60d (property tax)",
    threshold_param="min_payees",
    false_positives=(
        "Small landlords and property investors paying a manager per building, and parents "
        "paying a student's rent beside their own.",
        "Roommates splitting rent by EMT to each other plus the landlord.",
        "MCC 9311 covers every tax payment: income tax to the CRA or a province and property "
        "tax to one municipality make two tax payees.",
    ),
    required_fields=(
        "txn_type",
        "mcc",
        "memo",
        "counterparty_id",
        "counterparty_name",
        "merchant_id",
    ),
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
        StateArray("rent_key", (PAYEES,), np.int64, 0),
        StateArray("rent_ts", (PAYEES,), np.int64, EMPTY_TS),
        StateArray("rent_ref", (PAYEES,), np.int64, -1),
        StateArray("rent_prev", (PAYEES,), np.int64, EMPTY_TS),
        StateArray("tax_key", (MUNICIPALITIES,), np.int64, 0),
        StateArray("tax_ts", (MUNICIPALITIES,), np.int64, EMPTY_TS),
        StateArray("tax_ref", (MUNICIPALITIES,), np.int64, -1),
    ),
    params=(
        Param("rent_days", 31, 7, 93, "window for distinct rent payees, days", integer=True),
        Param(
            "min_payees",
            2,
            2,
            PAYEES - 1,
            "distinct rent payees in the window",
            integer=True,
            capacity="rent_key",
            spare=1,
        ),
        Param(
            "min_payee_payments",
            2,
            1,
            2,
            "payments a rent payee needs (2: the one before the latest within recur_days)",
            integer=True,
        ),
        Param("recur_days", 62, 28, 120, "recurrence window for a rent payee, days", integer=True),
        Param(
            "tax_days", 60, 7, 366, "window for distinct property-tax payees, days", integer=True
        ),
        Param(
            "min_municipalities",
            2,
            2,
            MUNICIPALITIES,
            "distinct property-tax payees in the window",
            integer=True,
            capacity="tax_key",
        ),
    ),
    kernel=multiple_rents,
    reference_lists=("rent_terms",),
    coverage="partial",
    coverage_note=(
        "Out-of-area utilities (F21-R3) need a biller service-area reference (utility "
        "biller id -> areas served) and the profile address; neither is in the contract, so "
        "that branch is not computed. Property-tax payees are told apart only by payee hash: "
        "a municipal-biller list (or a biller category field on bill payments) would keep "
        "income and sales tax out. Rent to addresses reported for prostitution (F16-T10) is "
        "PK-02's join, not this rule."
    ),
    must_fire=(
        example(
            "rent to two landlords two months running",
            _rent(1, 0, "LL-100", "Maple Property Mgmt"),
            _rent(2, 4, "LL-200", "J. Wong", 1_350.0),
            _rent(3, 30, "LL-100", "Maple Property Mgmt"),
            _rent(4, 34, "LL-200", "J. Wong", 1_350.0),
        ),
        example(
            "property tax to two municipalities",
            _tax(1, 0, "MUNI-TOR", "CITY OF TORONTO TAX"),
            _tax(2, 21, "MUNI-MIS", "CITY OF MISSISSAUGA TAX", 2_100.0),
        ),
    ),
    must_not_fire=(
        example(
            "moving house: last rent to the old landlord, then the new one",
            _rent(1, 0, "LL-300", "Old Landlord"),
            _rent(2, 30, "LL-300", "Old Landlord"),
            _rent(3, 45, "LL-400", "Parkview Apartments"),
            _rent(4, 75, "LL-400", "Parkview Apartments"),
        ),
        example(
            "one apartment, rent by pre-authorised debit",
            *(
                txn(
                    n + 1,
                    "bill_payment",
                    1_700.0,
                    days=30 * n,
                    channel="online",
                    mcc="6513",
                    merchant_id="M-CAPREIT",
                    merchant_name="CAPREIT RENT",
                )
                for n in range(4)
            ),
        ),
    ),
)
