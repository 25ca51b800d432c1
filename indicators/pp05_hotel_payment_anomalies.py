"""PP-05 · Hotel payment anomalies (LODGE)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import DAY, EMPTY_TS, PREAUTH, PURCHASE, REFUND, TXN_CODE
from indicators.examples import example, txn
from indicators.jit import helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.vocabulary import is_lodging
from indicators.windows import LATEST, listed, ring_count, ring_insert, select_evidence

REVERSAL = TXN_CODE["reversal"]
ROUNDED = 16  # rounded lodging purchases per customer
CHARGES = 16  # lodging / car-rental purchases and pre-auths per customer
PREAUTHS = 16  # lodging pre-auths awaiting (or past) settlement per customer
SCRATCH = ROUNDED + 2 * (CHARGES + 1) + 2 + PREAUTHS  # evidence candidates of one row
LODGING = 1  # charge kinds
CAR_RENTAL = 2
# Pre-auth status.
FREE = -1
PENDING = 0
SETTLED = 1
UNSETTLED = 2  # no settlement within settle_days (reported)
REVERSED = 3
NO_DUE = np.int64(2**62)


@helper
def is_car_rental(mcc: int) -> bool:
    return mcc == 7512 or (3351 <= mcc <= 3441)


@helper
def earliest_pending(pre_ts: NDArray[np.int64], pre_status: NDArray[np.int8], c: int) -> np.int64:
    due = NO_DUE
    for k in range(pre_ts.shape[1]):
        if pre_status[c, k] == PENDING and pre_ts[c, k] < due:
            due = pre_ts[c, k]
    return due


@kernel
def hotel_payment_anomalies(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    local_day: NDArray[np.int32],
    txn_type: NDArray[np.int8],
    amount: NDArray[np.float64],
    mcc: NDArray[np.int16],
    merchant: NDArray[np.int64],
    ref_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    txn_key: NDArray[np.int64],
    linked: NDArray[np.int64],
    profile_flags: NDArray[np.int64],
    rnd_ts: NDArray[np.int64],
    rnd_ref: NDArray[np.int64],
    chg_ts: NDArray[np.int64],
    chg_ref: NDArray[np.int64],
    chg_key: NDArray[np.int64],
    chg_merchant: NDArray[np.int64],
    chg_day: NDArray[np.int32],
    chg_amount: NDArray[np.float64],
    chg_type: NDArray[np.int8],
    chg_kind: NDArray[np.int8],
    pre_ts: NDArray[np.int64],
    pre_ref: NDArray[np.int64],
    pre_key: NDArray[np.int64],
    pre_merchant: NDArray[np.int64],
    pre_status: NDArray[np.int8],
    pre_due: NDArray[np.int64],
    window_days: int,
    min_rounded: int,
    round_unit: float,
    refund_days: int,
    settle_days: int,
    ref_lodging_platforms: int,
    fact_travel_occupation: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Four hotel-payment anomalies; a row fires on any of them.

    (a) rounded lodging purchases (amount a multiple of ``round_unit``): at least
        ``min_rounded`` in ``window_days``; fires on a rounded lodging purchase, unless the
        profile's occupation explains many hotel nights (some of them round by chance).
    (b) two authorizations at one property for the same dates, approximated: a lodging
        purchase (or pre-auth) at the same merchant on the same local day as an earlier
        lodging purchase (pre-auth) with a different amount, not settling it
        (``linked`` != the earlier ``txn_key``).
    (c) a refund of the same amount within ``refund_days`` of a lodging or car-rental
        purchase, matched by ``linked`` == the purchase's ``txn_key`` or by merchant.
    (d) a lodging pre-auth with no settlement (a purchase ``linked`` to it, or any purchase
        at its merchant) within ``settle_days``, detected at the customer's first
        transaction after that; or a reversal of a lodging pre-auth that was not settled,
        of a lodging purchase, or at a lodging merchant (a proxy for paying cash).

    Evidence is the union of the events of every sub-rule that fired (the rounded purchases
    in the window; the row and its matched earlier rows; the unsettled pre-auths), newest
    first. ``observed`` is the number of rounded lodging purchases in the window.

    polars equivalent, per customer: (a) a ``rolling`` count over rounded lodging purchases;
    (b) a self-join on ``(merchant, local_day, txn_type)`` with ``amount`` differing;
    (c) a ``join_asof(strategy="backward", tolerance=f"{refund_days}d")`` of refunds onto
    purchases by link or by ``(merchant, amount)``; (d) an anti-join of pre-auths with their
    settlements within ``settle_days``.
    """
    width = np.int64(window_days * DAY)
    refund_w = np.int64(refund_days * DAY)
    settle_w = np.int64(settle_days * DAY)
    cand_ts = np.empty(SCRATCH, dtype=np.int64)
    cand_ref = np.empty(SCRATCH, dtype=np.int64)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        c = cust[i]
        t = ts[i]
        ref = seq[i]
        n_cand = 0
        hit = False

        # (d) pre-auths past their settlement window, at any row of the customer.
        if pre_due[c] <= t - settle_w:
            for k in range(pre_ts.shape[1]):
                if pre_status[c, k] == PENDING and pre_ts[c, k] <= t - settle_w:
                    pre_status[c, k] = UNSETTLED
                    cand_ts[n_cand] = pre_ts[c, k]
                    cand_ref[n_cand] = pre_ref[c, k]
                    n_cand += 1
                    hit = True
            pre_due[c] = earliest_pending(pre_ts, pre_status, c)

        t_type = txn_type[i]
        m = mcc[i]
        flags = ref_flags[i]
        a = amount[i]
        merch = merchant[i]
        link = linked[i]
        lodging = is_lodging(m, flags, ref_lodging_platforms)
        kind = LODGING if lodging else (CAR_RENTAL if is_car_rental(m) else 0)
        keep = False  # the row joins a table (and so may be evidence later)

        if t_type == PURCHASE and pre_due[c] != NO_DUE:
            # A purchase settles the pending pre-auths it links to or shares a merchant with.
            changed = False
            for k in range(pre_ts.shape[1]):
                if pre_status[c, k] != PENDING or not (t - settle_w < pre_ts[c, k] <= t):
                    continue
                if (link != 0 and link == pre_key[c, k]) or (
                    merch != 0 and merch == pre_merchant[c, k]
                ):
                    pre_status[c, k] = SETTLED
                    changed = True
            if changed:
                pre_due[c] = earliest_pending(pre_ts, pre_status, c)

        if (t_type == PURCHASE or t_type == PREAUTH) and kind != 0:
            # (b) another authorization at the same property on the same local day.
            if kind == LODGING and merch != 0 and a == a:
                found = False
                for k in range(chg_ts.shape[1]):
                    if (
                        chg_ts[c, k] == EMPTY_TS
                        or chg_kind[c, k] != LODGING
                        or chg_type[c, k] != t_type
                        or chg_merchant[c, k] != merch
                        or chg_day[c, k] != local_day[i]
                        or chg_ts[c, k] > t
                    ):
                        continue
                    other = chg_amount[c, k]
                    if other != other or other == a or (link != 0 and link == chg_key[c, k]):
                        continue
                    cand_ts[n_cand] = chg_ts[c, k]
                    cand_ref[n_cand] = chg_ref[c, k]
                    n_cand += 1
                    found = True
                if found:
                    cand_ts[n_cand] = t
                    cand_ref[n_cand] = ref
                    n_cand += 1
                    hit = True
            k = ring_insert(chg_ts, chg_ref, c, t, ref)
            chg_key[c, k] = txn_key[i]
            chg_merchant[c, k] = merch
            chg_day[c, k] = local_day[i]
            chg_amount[c, k] = a
            chg_type[c, k] = t_type
            chg_kind[c, k] = kind
            keep = True
            if t_type == PREAUTH and kind == LODGING:
                k = ring_insert(pre_ts, pre_ref, c, t, ref)
                pre_key[c, k] = txn_key[i]
                pre_merchant[c, k] = merch
                pre_status[c, k] = PENDING
                pre_due[c] = earliest_pending(pre_ts, pre_status, c)
            # (a) rounded lodging purchases.
            if (
                t_type == PURCHASE
                and kind == LODGING
                and a == a
                and a > 0
                and a % round_unit == 0.0
            ):
                ring_insert(rnd_ts, rnd_ref, c, t, ref)
                if (profile_flags[c] & fact_travel_occupation) == 0 and ring_count(
                    rnd_ts, c, t - width, t
                ) >= min_rounded:
                    for k in range(rnd_ts.shape[1]):
                        if t - width < rnd_ts[c, k] <= t:
                            cand_ts[n_cand] = rnd_ts[c, k]
                            cand_ref[n_cand] = rnd_ref[c, k]
                            n_cand += 1
                    hit = True

        elif t_type == REFUND and a == a:
            # (c) refund of the same amount as a recent lodging / car-rental purchase.
            found = False
            for k in range(chg_ts.shape[1]):
                if (
                    chg_kind[c, k] == 0
                    or chg_type[c, k] != PURCHASE
                    or not (t - refund_w < chg_ts[c, k] <= t)
                    or chg_amount[c, k] != a
                ):
                    continue
                if (link != 0 and link == chg_key[c, k]) or (
                    merch != 0 and merch == chg_merchant[c, k]
                ):
                    cand_ts[n_cand] = chg_ts[c, k]
                    cand_ref[n_cand] = chg_ref[c, k]
                    n_cand += 1
                    found = True
            if found:
                cand_ts[n_cand] = t
                cand_ref[n_cand] = ref
                n_cand += 1
                hit = True

        elif t_type == REVERSAL:
            # (d) a reversal with no card settlement behind it.
            matched = -1
            settled = False
            if link != 0:
                for k in range(pre_ts.shape[1]):
                    if pre_status[c, k] != FREE and pre_key[c, k] == link:
                        matched = k
                        break
            if matched >= 0:
                settled = pre_status[c, matched] == SETTLED
                if not settled:
                    if pre_status[c, matched] == PENDING:
                        pre_status[c, matched] = REVERSED
                        pre_due[c] = earliest_pending(pre_ts, pre_status, c)
                    cand_ts[n_cand] = pre_ts[c, matched]
                    cand_ref[n_cand] = pre_ref[c, matched]
                    n_cand += 1
                    cand_ts[n_cand] = t
                    cand_ref[n_cand] = ref
                    n_cand += 1
                    hit = True
            else:
                charge = -1
                if link != 0:
                    for k in range(chg_ts.shape[1]):
                        if (
                            chg_ts[c, k] != EMPTY_TS
                            and chg_kind[c, k] == LODGING
                            and chg_type[c, k] == PURCHASE
                            and chg_key[c, k] == link
                        ):
                            charge = k
                            break
                if charge >= 0:
                    cand_ts[n_cand] = chg_ts[c, charge]
                    cand_ref[n_cand] = chg_ref[c, charge]
                    n_cand += 1
                if charge >= 0 or lodging:
                    cand_ts[n_cand] = t
                    cand_ref[n_cand] = ref
                    n_cand += 1
                    hit = True

        if hit:
            fired[i] = 1
            observed[i] = ring_count(rnd_ts, c, t - width, t)
            select_evidence(evidence[i], LATEST, listed(cand_ts, cand_ref, n_cand))
            for k in range(n_cand):
                if cand_ref[k] == ref:
                    keep = True  # the row itself is evidence
        if keep:
            touched[i] = 1


_HOTEL: dict[str, Any] = {"mcc": "7011", "channel": "pos", "city": "Calgary", "province": "AB"}

SPEC = IndicatorSpec(
    id="PP-05",
    title="Hotel payment anomalies",
    description=(
        "Hotel payments that do not look like one guest paying for one stay: rounded-sum "
        "hotel charges (F16-P14), two authorizations at the same property for the same dates "
        "(P15: rooms for several people), a hotel or car-rental charge refunded in full "
        "within days (P16), and a hotel pre-authorization never settled on the card or "
        "reversed (P17: the stay was paid in cash). Traffickers book rooms for victims, pay "
        "with cash earned from them, and cancel and rebook as they move. Fires on three "
        "rounded hotel purchases in 30 days, or on any one of the other anomalies."
    ),
    family="LODGE",
    sources=(
        "FINTRAC-2016-OA003 P14",
        "FINTRAC-2016-OA003 P15",
        "FINTRAC-2016-OA003 P16",
        "FINTRAC-2016-OA003 P17",
    ),
    status="experimental",
    severity="medium",
    weight=2.0,
    role_signal="victim",
    window="30d (rounded), 10d (refunds), 14d (settlement)",
    threshold_param="min_rounded",
    false_positives=(
        "Hotels that post flat nightly rates in round dollars; weekly or monthly residential "
        "motel rates (the rounded sub-rule is suppressed when the profile's occupation "
        "explains travel).",
        "A room charge and a same-day incidental (parking, restaurant) posted separately by "
        "the same property; incremental pre-auths sent without a link to the first; a "
        "family booking two rooms.",
        "Cancelled bookings refunded in full; pre-auths released because the guest paid by "
        "debit card at check-out, or settled under a different merchant id.",
    ),
    required_fields=("txn_type", "amount", "mcc", "merchant_id", "linked_txn_id"),
    inputs=(
        "cust",
        "seq",
        "ts",
        "local_day",
        "txn_type",
        "amount",
        "mcc",
        "merchant",
        "ref_flags",
        "attempted",
        "txn_key",
        "linked",
        "profile_flags",
    ),
    state=(
        StateArray("rnd_ts", (ROUNDED,), np.int64, EMPTY_TS),
        StateArray("rnd_ref", (ROUNDED,), np.int64, -1),
        StateArray("chg_ts", (CHARGES,), np.int64, EMPTY_TS),
        StateArray("chg_ref", (CHARGES,), np.int64, -1),
        StateArray("chg_key", (CHARGES,), np.int64, 0),
        StateArray("chg_merchant", (CHARGES,), np.int64, 0),
        StateArray("chg_day", (CHARGES,), np.int32, 0),
        StateArray("chg_amount", (CHARGES,), np.float64, np.nan),
        StateArray("chg_type", (CHARGES,), np.int8, -1),
        StateArray("chg_kind", (CHARGES,), np.int8, 0),
        StateArray("pre_ts", (PREAUTHS,), np.int64, EMPTY_TS),
        StateArray("pre_ref", (PREAUTHS,), np.int64, -1),
        StateArray("pre_key", (PREAUTHS,), np.int64, 0),
        StateArray("pre_merchant", (PREAUTHS,), np.int64, 0),
        StateArray("pre_status", (PREAUTHS,), np.int8, FREE),
        StateArray("pre_due", (), np.int64, NO_DUE),
    ),
    params=(
        Param("window_days", 30, 1, 90, "window for rounded purchases, days", integer=True),
        Param(
            "min_rounded",
            3,
            1,
            ROUNDED,
            "rounded lodging purchases in the window",
            integer=True,
            capacity="rnd_ts",
        ),
        Param("round_unit", 10.0, 1.0, 100.0, "an amount is rounded when a multiple of this"),
        Param("refund_days", 10, 1, 30, "a same-amount refund within this many days", integer=True),
        Param(
            "settle_days",
            14,
            1,
            31,
            "a lodging pre-auth must settle within this many days",
            integer=True,
        ),
    ),
    kernel=hotel_payment_anomalies,
    reference_lists=("lodging_platforms",),
    profile_facts=("travel_occupation",),
    coverage="partial",
    coverage_note=(
        "(b) needs folio numbers or arrival / departure dates (Level-3 lodging data, e.g. "
        "optional `folio_id`, `arrival_date`, `departure_date`) to test overlapping stays; "
        "today: two lodging purchases (or pre-auths) at one merchant on the same local day "
        "with different amounts. (d) relies on `linked_txn_id` (or the same merchant_id) to "
        "see a settlement; an acquirer's authorization id on every settlement would complete "
        "it, and a cash receipt from the property would confirm P17."
    ),
    must_fire=(
        example(
            "three round-sum motel nights",
            txn(
                1,
                "purchase",
                120.0,
                merchant_id="M-MOTEL-9",
                merchant_name="SUNSET MOTEL",
                **_HOTEL,
            ),
            txn(
                2,
                "purchase",
                100.0,
                days=4,
                merchant_id="M-MOTEL-12",
                merchant_name="HIGHWAY MOTOR INN",
                **_HOTEL,
            ),
            txn(
                3,
                "purchase",
                150.0,
                days=9,
                merchant_id="M-MOTEL-9",
                merchant_name="SUNSET MOTEL",
                **_HOTEL,
            ),
        ),
        example(
            "two rooms at one hotel the same night",
            txn(
                1, "purchase", 139.0, merchant_id="M-HOTEL-4", merchant_name="AIRPORT INN", **_HOTEL
            ),
            txn(
                2,
                "purchase",
                152.5,
                hours=1,
                merchant_id="M-HOTEL-4",
                merchant_name="AIRPORT INN",
                **_HOTEL,
            ),
        ),
        example(
            "hotel charge refunded in full",
            txn(
                1,
                "purchase",
                189.37,
                merchant_id="M-HOTEL-4",
                merchant_name="AIRPORT INN",
                **_HOTEL,
            ),
            txn(
                2,
                "refund",
                189.37,
                days=2,
                merchant_id="M-HOTEL-4",
                merchant_name="AIRPORT INN",
                linked_txn_id="EX-0001",
                **_HOTEL,
            ),
        ),
        example(
            "pre-auth released, never settled on the card",
            txn(
                1, "preauth", 300.0, merchant_id="M-HOTEL-4", merchant_name="AIRPORT INN", **_HOTEL
            ),
            txn(
                2,
                "reversal",
                300.0,
                days=3,
                merchant_id="M-HOTEL-4",
                merchant_name="AIRPORT INN",
                linked_txn_id="EX-0001",
                **_HOTEL,
            ),
        ),
    ),
    must_not_fire=(
        example(
            "pre-auth settled at check-out, odd amounts",
            txn(
                1, "preauth", 250.0, merchant_id="M-HOTEL-4", merchant_name="AIRPORT INN", **_HOTEL
            ),
            txn(
                2,
                "purchase",
                212.43,
                days=2,
                merchant_id="M-HOTEL-4",
                merchant_name="AIRPORT INN",
                linked_txn_id="EX-0001",
                **_HOTEL,
            ),
            txn(
                3,
                "purchase",
                23.17,
                days=20,
                mcc="5411",
                merchant_id="M-GROCER",
                merchant_name="SAFEWAY",
                city="Calgary",
                province="AB",
            ),
        ),
        example(
            "partial refund of a car rental",
            txn(
                1,
                "purchase",
                320.55,
                mcc="7512",
                merchant_id="M-CAR-1",
                merchant_name="BUDGET RENT A CAR",
                city="Calgary",
                province="AB",
            ),
            txn(
                2,
                "refund",
                40.0,
                days=1,
                mcc="7512",
                merchant_id="M-CAR-1",
                merchant_name="BUDGET RENT A CAR",
                linked_txn_id="EX-0001",
                city="Calgary",
                province="AB",
            ),
        ),
    ),
)
