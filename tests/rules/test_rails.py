"""The `rails` group's kernels (PP-14, 15, 20, 21, 23-28) against their oracles, in chunks,
under saturation, and at exact boundaries.

Below ring capacity a bounded kernel must agree with its unbounded oracle exactly: the same
rows fire, with the same observed value and the same evidence (newest first). One batch
must give the same outputs and end state as the same rows in k chunks. Far above capacity a
kernel must still fire: a ring that saturates may cap a count, never hide a threshold.

The family's oracles and hypothesis strategies live here too (the sections below).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from indicators import registry
from indicators.columns import (
    BILL_PAYMENT,
    CARD_TO_CARD,
    CASH_ADVANCE,
    CASH_DEPOSIT,
    CASH_WITHDRAWAL,
    CASINO_BUY_IN,
    CHANNEL_CODE,
    DAY,
    EFT_IN,
    EFT_OUT,
    EMT_IN,
    EMT_OUT,
    PREPAID_LOAD,
    PURCHASE,
    TRANSFER_IN,
    TRANSFER_OUT,
    TXN_CODE,
    VC_BUY,
    WIRE_IN,
    WIRE_OUT,
)
from tests.bits import (
    REF_GAMING_OPERATOR,
    REF_GIFT_CARD,
    REF_INVESTMENT_PLATFORM,
    REF_PAYMENT_SERVICE,
    REF_VC_DEALER,
    REF_WHITE_LABEL_ATM,
)
from tests.kernel_harness import (
    assert_matches_oracle,
    assert_saturation_fires,
    kernel_settings,
)
from tests.kernel_harness import at as _at
from tests.oracles import NOT_FIRED, Event, OracleRow, _known, _rows, in_window
from tests.strategies import FOCUS, Focus, batches, chunk_bounds, columns_from_rows, params_for

# ------------------------------------------------------------ oracles
# Slow, obviously correct references for the `rails` group's kernels (PP-14, 15, 20, 21, 23-28).
#
# Same conventions as :mod:`tests.oracles`: one :class:`OracleRow` per input row, unbounded
# per-customer Python lists, every window recomputed with a plain loop; ``attempted`` rows are
# ignored; a window of width ``w`` ending at ``t`` covers ``(t - w, t]``; day windows of ``n``
# days ending on local day ``d`` cover ``d - n + 1 .. d``; NaN amounts are unknown. The
# evidence is the set of candidate ``(ts, ref)`` events; the kernel reports the newest ones.

CASINO_CASH_OUT = TXN_CODE["casino_cash_out"]
HOUR = 3600


def _latest(table: dict, key, t: int, ref: int) -> None:
    """Remember ``(t, ref)`` as the last sighting of ``key`` (a later row at an earlier time
    does not replace it)."""
    if key not in table or t >= table[key][0]:
        table[key] = (t, ref)


def _within(events, t: int, width: int) -> frozenset[Event]:
    return frozenset((ts_, r) for ts_, r in events if in_window(ts_, t, width))


# ---------------------------------------------------------------------------------- PP-14


def oracle_pp14(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """White-label withdrawals: count and share of withdrawals in a sliding window."""
    width = p["window_days"] * DAY
    withdrawals: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
    out = []
    for c, ref, t, tt, flags, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "ref_flags", "attempted"
    ):
        if att or tt != CASH_WITHDRAWAL:
            out.append(NOT_FIRED)
            continue
        wl = bool(flags & REF_WHITE_LABEL_ATM)
        withdrawals[c].append((t, ref, wl))
        if not wl:
            out.append(NOT_FIRED)
            continue
        recent = [e for e in withdrawals[c] if in_window(e[0], t, width)]
        wl_events = frozenset((ts_, r) for ts_, r, w in recent if w)
        n_wl, n_all = len(wl_events), len(recent)
        share = (
            n_wl >= p["share_min_white_label"]
            and n_all >= p["share_min_withdrawals"]
            and n_wl / n_all >= p["min_share"]
        )
        if n_wl >= p["min_white_label"] or share:
            out.append(OracleRow(True, float(n_wl), wl_events))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-15


def oracle_pp15(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Cash deposits by local day vs eft_in credits and declared income."""
    width = p["window_days"] * DAY
    income_of = np.asarray(columns["declared_income"]).tolist()
    payroll: dict[int, list[int]] = defaultdict(list)
    deposits: dict[int, list[tuple[int, int, int, float]]] = defaultdict(list)
    out = []
    for c, ref, t, d, tt, a, att in _rows(
        columns, "cust", "seq", "ts", "local_day", "txn_type", "amount", "attempted"
    ):
        if att:
            out.append(NOT_FIRED)
            continue
        if tt == EFT_IN:
            payroll[c].append(t)
            out.append(NOT_FIRED)
            continue
        if tt != CASH_DEPOSIT or not _known(a):
            out.append(NOT_FIRED)
            continue
        deposits[c].append((t, ref, d, a))
        cash = sum(x for _, _, day, x in deposits[c] if d - p["window_days"] + 1 <= day <= d)
        no_income = not any(in_window(tp, t, width) for tp in payroll[c])
        income = income_of[c]
        over = _known(income) and income > 0 and cash > p["income_multiple"] * income / 12.0
        if (cash > p["min_cash_cad"] and no_income) or over:
            out.append(
                OracleRow(True, cash, _within(((e[0], e[1]) for e in deposits[c]), t, width))
            )
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-20

_DIGITAL = (CHANNEL_CODE["online"], CHANNEL_CODE["mobile"], CHANNEL_CODE["ecom"])


def oracle_pp20(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Distinct devices on digital-channel rows in a sliding window."""
    width = p["window_days"] * DAY
    devices: dict[int, dict[int, Event]] = defaultdict(dict)
    out = []
    for c, ref, t, ch, dev, att in _rows(
        columns, "cust", "seq", "ts", "channel", "device", "attempted"
    ):
        if att or ch not in _DIGITAL or dev == 0:
            out.append(NOT_FIRED)
            continue
        _latest(devices[c], dev, t, ref)
        recent = _within(devices[c].values(), t, width)
        if len(recent) >= p["min_devices"]:
            out.append(OracleRow(True, float(len(recent)), recent))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-21


def oracle_pp21(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Own transfers (paired legs), credit → own transfer → drain chains."""
    width = p["window_days"] * DAY
    pair_w = p["pair_hours"] * HOUR
    fwd_w = p["forward_hours"] * HOUR
    drain_w = p["drain_hours"] * HOUR
    credits: dict[int, list[tuple[int, int]]] = defaultdict(list)  # (ts, account)
    legs: dict[int, list[dict]] = defaultdict(list)  # unpaired transfer legs
    transfers: dict[int, list[Event]] = defaultdict(list)
    candidates: dict[int, list[dict]] = defaultdict(list)
    chains: dict[int, list[Event]] = defaultdict(list)
    out = []
    for c, ref, t, tt, a, acct, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "amount", "account", "attempted"
    ):
        row = NOT_FIRED
        if att:
            pass
        elif tt in (CASH_DEPOSIT, EMT_IN):
            if acct != 0:
                credits[c].append((t, acct))
        elif tt in (TRANSFER_OUT, TRANSFER_IN):
            if acct != 0 and _known(a) and a > 0:
                is_out = tt == TRANSFER_OUT
                others = [
                    g
                    for g in legs[c]
                    if g["out"] != is_out
                    and g["acct"] != acct
                    and g["amount"] == a
                    and in_window(g["ts"], t, pair_w)
                ]
                if not others:
                    legs[c].append({"ts": t, "ref": ref, "acct": acct, "amount": a, "out": is_out})
                else:
                    other = min(others, key=lambda g: (g["ts"], g["ref"]))
                    legs[c].remove(other)
                    if is_out:
                        out_ref, src, dst = ref, acct, other["acct"]
                    else:
                        out_ref, src, dst = other["ref"], other["acct"], acct
                    transfers[c].append((t, out_ref))
                    if any(ac == src and in_window(tc, t, fwd_w) for tc, ac in credits[c]):
                        candidates[c].append(
                            {
                                "ts": t,
                                "ref": out_ref,
                                "acct": dst,
                                "left": p["drain_share"] * a,
                                "open": True,
                            }
                        )
                    recent = _within(transfers[c], t, width)
                    if len(recent) >= p["min_transfers"]:
                        row = OracleRow(True, float(len(recent)), recent)
        elif tt in (EMT_OUT, CASH_WITHDRAWAL) and _known(a) and acct != 0:
            completed = False
            left = a
            while left > 0:
                open_ = [
                    k
                    for k in candidates[c]
                    if k["open"] and k["acct"] == acct and in_window(k["ts"], t, drain_w)
                ]
                if not open_:
                    break
                k = min(open_, key=lambda k: (k["ts"], k["ref"]))
                take = min(left, k["left"])
                k["left"] -= take
                left -= take
                if k["left"] <= 0:
                    k["open"] = False
                    chains[c].append((t, k["ref"]))
                    completed = True
            if completed:
                recent = _within(chains[c], t, width)
                if len(recent) >= p["min_chains"]:
                    row = OracleRow(True, float(len(recent)), recent)
        out.append(row)
    return out


# ---------------------------------------------------------------------------------- PP-23

_GIFT_MCCS = (5411, 5499, 5947)


def oracle_pp23(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Rounded purchases where gift cards are sold; big convenience and gift-card purchases."""
    width = p["window_days"] * DAY
    rounded_events: dict[int, list[Event]] = defaultdict(list)
    single_events: dict[int, list[Event]] = defaultdict(list)
    out = []
    for c, ref, t, tt, a, mcc, flags, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "amount", "mcc", "ref_flags", "attempted"
    ):
        if att or tt != PURCHASE or not _known(a):
            out.append(NOT_FIRED)
            continue
        rounded = mcc in _GIFT_MCCS and a >= p["rounded_min_cad"] and a % p["round_unit_cad"] == 0
        single = (mcc == 5499 and a > p["convenience_max_cad"]) or (
            bool(flags & REF_GIFT_CARD) and a >= p["gift_min_cad"]
        )
        if rounded:
            rounded_events[c].append((t, ref))
        if single:
            single_events[c].append((t, ref))
        recent_rounded = _within(rounded_events[c], t, width)
        if rounded and len(recent_rounded) >= p["min_rounded"]:
            out.append(OracleRow(True, float(len(recent_rounded)), recent_rounded))
        elif single:
            recent = _within(single_events[c], t, width)
            out.append(OracleRow(True, float(len(recent)), recent))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-24


def oracle_pp24(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Loads to several cards; card-to-card transfers from a loaded card into an unloaded one."""
    width = p["window_days"] * DAY
    loads: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # (ts, ref, card)
    pushes: dict[int, list[Event]] = defaultdict(list)
    out = []
    for c, ref, t, tt, card, cp, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "card", "counterparty", "attempted"
    ):
        if att:
            out.append(NOT_FIRED)
            continue

        def loaded(x: int, c: int = c, t: int = t) -> bool:
            return any(k == x and in_window(tl, t, width) for tl, _, k in loads[c])

        if tt == PREPAID_LOAD:
            loads[c].append((t, ref, card))
            recent = [e for e in loads[c] if in_window(e[0], t, width)]
            cards = {k for _, _, k in recent if k != 0}
            if len(recent) >= p["min_loads"] and len(cards) >= p["min_cards"]:
                out.append(
                    OracleRow(True, float(len(recent)), frozenset((e[0], e[1]) for e in recent))
                )
            else:
                out.append(NOT_FIRED)
        elif (
            tt == CARD_TO_CARD
            and card != 0
            and cp != 0
            and card != cp
            and loaded(card)
            and not loaded(cp)
        ):
            pushes[c].append((t, ref))
            recent = _within(pushes[c], t, width)
            if len(recent) >= p["min_c2c"]:
                out.append(OracleRow(True, float(len(recent)), recent))
            else:
                out.append(NOT_FIRED)
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-25


def is_vc_purchase(tt: int, mcc: int, flags: int) -> bool:
    dealer = bool(flags & REF_VC_DEALER)
    return (
        tt == VC_BUY
        or (tt == PURCHASE and (dealer or mcc == 6051))
        or (tt in (EMT_OUT, WIRE_OUT, EFT_OUT, TRANSFER_OUT) and dealer)
    )


def oracle_pp25(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Small-multiple VC purchases; VC purchases funded by EMTs from several senders."""
    width = p["window_days"] * DAY
    fund_w = p["fund_hours"] * HOUR
    senders: dict[int, dict[int, Event]] = defaultdict(dict)
    small_events: dict[int, list[Event]] = defaultdict(list)
    funded_events: dict[int, list[Event]] = defaultdict(list)
    out = []
    for c, ref, t, tt, a, mcc, cp, flags, att in _rows(
        columns,
        "cust",
        "seq",
        "ts",
        "txn_type",
        "amount",
        "mcc",
        "counterparty",
        "ref_flags",
        "attempted",
    ):
        if att:
            out.append(NOT_FIRED)
            continue
        if tt == EMT_IN:
            if cp != 0:
                _latest(senders[c], cp, t, ref)
            out.append(NOT_FIRED)
            continue
        if not is_vc_purchase(tt, mcc, flags):
            out.append(NOT_FIRED)
            continue
        small = _known(a) and 0 < a <= p["small_max"] and a % 3.0 == 0
        funders = _within(senders[c].values(), t, fund_w)
        funded = len(funders) >= p["min_senders"]
        if small:
            small_events[c].append((t, ref))
        if funded:
            funded_events[c].append((t, ref))
        recent_small = _within(small_events[c], t, width)
        recent_funded = _within(funded_events[c], t, width)
        if small and len(recent_small) >= p["min_small"]:
            out.append(OracleRow(True, float(len(recent_small)), recent_small))
        elif funded and len(recent_funded) >= p["min_funded"]:
            out.append(OracleRow(True, float(len(recent_funded)), recent_funded | funders))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-26


def oracle_pp26(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Small payment-service transactions together with onward VC / card-to-card payments."""
    width = p["window_days"] * DAY
    processor_events: dict[int, list[Event]] = defaultdict(list)
    onward_events: dict[int, list[Event]] = defaultdict(list)
    out = []
    for c, ref, t, tt, a, mcc, cp, flags, att in _rows(
        columns,
        "cust",
        "seq",
        "ts",
        "txn_type",
        "amount",
        "mcc",
        "counterparty",
        "ref_flags",
        "attempted",
    ):
        if att:
            out.append(NOT_FIRED)
            continue
        processor = bool(flags & REF_PAYMENT_SERVICE) and _known(a) and a < p["under_cad"]
        onward = is_vc_purchase(tt, mcc, flags) or (tt == CARD_TO_CARD and cp != 0)
        if not processor and not onward:
            out.append(NOT_FIRED)
            continue
        if processor:
            processor_events[c].append((t, ref))
        if onward:
            onward_events[c].append((t, ref))
        procs = _within(processor_events[c], t, width)
        onwards = _within(onward_events[c], t, width)
        if len(procs) >= p["min_processor"] and len(onwards) >= p["min_onward"]:
            out.append(OracleRow(True, float(len(procs)), procs | onwards))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-27

_PAYMENTS_OUT = (PURCHASE, EMT_OUT, EFT_OUT, WIRE_OUT, TRANSFER_OUT, BILL_PAYMENT)
_TRANSFERS_IN = (EMT_IN, EFT_IN, TRANSFER_IN, WIRE_IN)


def oracle_pp27(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Third-party-funded gambling payments; casino and investment round trips."""
    width = p["window_days"] * DAY
    fund_w = p["fund_hours"] * HOUR
    trip_w = p["trip_days"] * DAY
    senders: dict[int, list[tuple[int, int]]] = defaultdict(list)  # (ts, counterparty)
    funded_events: dict[int, list[Event]] = defaultdict(list)
    starts: dict[int, list[dict]] = defaultdict(list)
    trips: dict[int, list[Event]] = defaultdict(list)
    out = []
    for c, ref, t, tt, a, mcc, cp, flags, att in _rows(
        columns,
        "cust",
        "seq",
        "ts",
        "txn_type",
        "amount",
        "mcc",
        "counterparty",
        "ref_flags",
        "attempted",
    ):
        row = NOT_FIRED
        investment = bool(flags & REF_INVESTMENT_PLATFORM)
        if att:
            out.append(row)
            continue
        if (
            tt in (EMT_IN, TRANSFER_IN, WIRE_IN)
            and cp != 0
            and not flags & (REF_GAMING_OPERATOR | REF_INVESTMENT_PLATFORM)
        ):
            senders[c].append((t, cp))
        kind = (
            "casino"
            if tt == CASINO_CASH_OUT
            else "investment"
            if investment and tt in _TRANSFERS_IN
            else None
        )
        if kind is not None:
            if _known(a):
                completed = False
                left = a
                while left > 0:
                    pending = [
                        s
                        for s in starts[c]
                        if s["open"] and s["kind"] == kind and in_window(s["ts"], t, trip_w)
                    ]
                    if not pending:
                        break
                    s = min(pending, key=lambda s: (s["ts"], s["ref"]))
                    take = min(left, s["left"])
                    s["left"] -= take
                    left -= take
                    if s["left"] <= 0:
                        s["open"] = False
                        trips[c].append((t, s["ref"]))
                        completed = True
                recent = _within(trips[c], t, width)
                if completed and len(recent) >= p["min_trips"]:
                    row = OracleRow(True, float(len(recent)), recent)
            out.append(row)
            continue
        if tt in _TRANSFERS_IN:
            out.append(row)
            continue
        payment_out = tt in _PAYMENTS_OUT
        gambling = tt == CASINO_BUY_IN or (
            payment_out and (mcc in (7801, 7995) or bool(flags & REF_GAMING_OPERATOR))
        )
        if _known(a) and a >= p["min_trip_cad"]:
            start = (
                "casino"
                if tt == CASINO_BUY_IN
                else "investment"
                if payment_out and investment
                else None
            )
            if start is not None:
                starts[c].append(
                    {
                        "ts": t,
                        "ref": ref,
                        "kind": start,
                        "left": p["return_share"] * a,
                        "open": True,
                    }
                )
        if gambling:
            distinct = {s for ts_, s in senders[c] if in_window(ts_, t, fund_w)}
            if len(distinct) >= p["min_senders"]:
                funded_events[c].append((t, ref))
                recent = _within(funded_events[c], t, width)
                if len(recent) >= p["min_funded"]:
                    row = OracleRow(True, float(len(recent)), recent)
        out.append(row)
    return out


# ---------------------------------------------------------------------------------- PP-28


def oracle_pp28(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Distinct payers of the card account before a cash advance; cash-advance totals."""
    pay_w = p["pay_days"] * DAY
    width = p["window_days"] * DAY
    payments: dict[int, dict[tuple[int, int], Event]] = defaultdict(dict)
    advances: dict[int, list[tuple[int, int, int, float]]] = defaultdict(list)
    out = []
    for c, ref, t, d, tt, a, acct, cp, att in _rows(
        columns,
        "cust",
        "seq",
        "ts",
        "local_day",
        "txn_type",
        "amount",
        "account",
        "counterparty",
        "attempted",
    ):
        if att:
            out.append(NOT_FIRED)
            continue
        if tt in (EFT_IN, TRANSFER_IN, BILL_PAYMENT):
            if cp != 0:
                _latest(payments[c], (acct, cp), t, ref)
            out.append(NOT_FIRED)
            continue
        if tt != CASH_ADVANCE:
            out.append(NOT_FIRED)
            continue
        advances[c].append((t, ref, d, a))
        payers = _within((e for (ac, _), e in payments[c].items() if ac == acct), t, pay_w)
        if len(payers) >= p["min_payers"]:
            out.append(OracleRow(True, float(len(payers)), payers | {(t, ref)}))
            continue
        total = sum(
            x for _, _, day, x in advances[c] if _known(x) and d - p["window_days"] + 1 <= day <= d
        )
        if _known(a) and total >= p["min_advance_cad"]:
            out.append(
                OracleRow(True, total, _within(((e[0], e[1]) for e in advances[c]), t, width))
            )
        else:
            out.append(NOT_FIRED)
    return out


RAILS_ORACLES: dict[
    str, Callable[[Mapping[str, np.ndarray], Mapping[str, float]], list[OracleRow]]
] = {
    "PP-14": oracle_pp14,
    "PP-15": oracle_pp15,
    "PP-20": oracle_pp20,
    "PP-21": oracle_pp21,
    "PP-23": oracle_pp23,
    "PP-24": oracle_pp24,
    "PP-25": oracle_pp25,
    "PP-26": oracle_pp26,
    "PP-27": oracle_pp27,
    "PP-28": oracle_pp28,
}


# ------------------------------------------------------------ strategies
# hypothesis strategies for the `rails` group's kernels (PP-14, 15, 20, 21, 23-28).
#
# :func:`rails_batches` draws a batch from :func:`tests.strategies.batches` with this group's
# focuses, then fills what the shared strategy leaves at its missing value or draws from other
# groups' vocabularies: the reference bits these rules read (white-label ATM, gift card, VC
# dealer, payment service, gaming, investment), and the ``account``, ``card`` and ``device``
# hashes. Focus-specific touches make the rare shapes common: the two legs of an own transfer
# carry the same amount (PP-21), and card-to-card rows name one of the customer's cards as
# the peer (PP-24).
#
# Dense batches keep each customer's relevant rows under every ring / table the kernels fill
# (16 slots, 32 for PP-14), so the bounded kernels and the unbounded oracles agree exactly.

ACCOUNTS = (0, 501, 502, 503)
CARDS = (0, 601, 602, 603, 604)
DEVICES = (0, *range(701, 713))  # more than the evidence slots, fewer than the table
PEERS = (0, 401, 402)  # card-to-card peers that are not the customer's cards

_ALL_FLAGS = (
    0,
    0,
    REF_WHITE_LABEL_ATM,
    REF_GIFT_CARD,
    REF_VC_DEALER,
    REF_PAYMENT_SERVICE,
    REF_GAMING_OPERATOR,
    REF_INVESTMENT_PLATFORM,
    REF_PAYMENT_SERVICE | REF_VC_DEALER,
    REF_GAMING_OPERATOR | REF_INVESTMENT_PLATFORM,
)
FLAGS: dict[str, tuple[int, ...]] = {
    "PP-14": (0, REF_WHITE_LABEL_ATM, REF_WHITE_LABEL_ATM),
    "PP-23": (0, 0, REF_GIFT_CARD),
    "PP-25": (0, REF_VC_DEALER),
    "PP-26": (
        0,
        REF_PAYMENT_SERVICE,
        REF_PAYMENT_SERVICE,
        REF_VC_DEALER,
        REF_PAYMENT_SERVICE | REF_VC_DEALER,
    ),
    "PP-27": (
        0,
        REF_GAMING_OPERATOR,
        REF_INVESTMENT_PLATFORM,
        REF_GAMING_OPERATOR | REF_INVESTMENT_PLATFORM,
    ),
}

_CREDITS_3P = ("emt_in", "transfer_in", "wire_in")

FOCUS.update(
    {
        "PP-14": Focus(types=("cash_withdrawal",), mccs=(6011,), channels=("atm",), dense_max=30),
        "PP-15": Focus(
            types=("cash_deposit", "cash_deposit", "eft_in"),
            mccs=(-1,),
            patterns=((("cash_deposit",),), (("cash_deposit",),) * 4 + (("eft_in",),)),
        ),
        "PP-20": Focus(
            types=("emt_out", "purchase", "bill_payment", "emt_in"),
            mccs=(-1, 5999),
            channels=("online", "mobile", "ecom"),
        ),
        "PP-21": Focus(
            types=(
                "cash_deposit",
                "emt_in",
                "transfer_out",
                "transfer_in",
                "emt_out",
                "cash_withdrawal",
            ),
            mccs=(-1,),
            follow=True,
            patterns=(
                (
                    ("cash_deposit", "emt_in"),
                    ("transfer_out",),
                    ("transfer_in",),
                    ("emt_out", "cash_withdrawal"),
                ),
                (("transfer_out",), ("transfer_in",)),
                (("emt_in",), ("transfer_in",), ("transfer_out",), ("emt_out",)),
            ),
        ),
        "PP-23": Focus(types=("purchase",), mccs=(5411, 5499, 5947, 5999)),
        "PP-24": Focus(
            types=("prepaid_load", "card_to_card"),
            mccs=(6540, -1),
            channels=("online", "mobile"),
            patterns=(
                (("prepaid_load",), ("card_to_card",)),
                (("prepaid_load",), ("prepaid_load",), ("card_to_card",)),
                (("prepaid_load",),),
            ),
        ),
        "PP-25": Focus(
            types=("emt_in", "emt_in", "vc_buy", "purchase", "emt_out"),
            mccs=(6051, 5999, -1),
            channels=("online", "ecom"),
            patterns=(
                (("emt_in",), ("emt_in",), ("vc_buy", "purchase")),
                (("emt_in",), ("emt_in",)) + (("vc_buy", "purchase"),) * 4,
                (("vc_buy", "purchase"),),
            ),
        ),
        "PP-26": Focus(
            types=("emt_in", "eft_out", "purchase", "vc_buy", "card_to_card"),
            mccs=(6051, 5999, -1),
            channels=("online", "ecom"),
            patterns=(
                (("emt_in", "eft_out", "purchase"),) * 5 + (("vc_buy", "card_to_card"),),
                (("emt_in", "eft_out", "purchase", "vc_buy", "card_to_card"),),
            ),
        ),
        "PP-27": Focus(
            types=(
                "emt_in",
                "transfer_in",
                "casino_buy_in",
                "casino_cash_out",
                "purchase",
                "eft_out",
                "eft_in",
            ),
            mccs=(7995, 7801, 5999, -1),
            follow=True,
            patterns=(
                ((_CREDITS_3P), ("emt_in",), ("casino_buy_in", "purchase")),
                (_CREDITS_3P, ("emt_in",)) + (("casino_buy_in", "purchase"),) * 3,
                (("casino_buy_in",), ("casino_cash_out",)),
                (("eft_out",), ("eft_in",)),
            ),
        ),
        "PP-28": Focus(
            types=("eft_in", "transfer_in", "bill_payment", "cash_advance"),
            mccs=(-1,),
            patterns=(
                (
                    ("eft_in", "transfer_in", "bill_payment"),
                    ("eft_in", "transfer_in"),
                    ("cash_advance",),
                ),
                (("cash_advance",),),
            ),
        ),
    }
)

_T = TXN_CODE
_TRANSFERS = (_T["transfer_out"], _T["transfer_in"])
_PP21_SOURCE = (_T["cash_deposit"], _T["emt_in"], _T["transfer_out"])  # rows on the source
_VC = (_T["vc_buy"], _T["purchase"], _T["emt_out"])


def _choice(draw: st.DrawFn, values: Sequence[Any]) -> st.SearchStrategy:
    """All of ``values``, or a few of them drawn for this example (narrow vocabularies)."""
    narrow = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3))
    return st.sampled_from(draw(st.sampled_from((tuple(values), tuple(narrow)))))


@st.composite
def rails_batches(
    draw: st.DrawFn, focus: str, dense: bool = False, max_per_customer: int = 15
) -> dict[str, np.ndarray]:
    """A :func:`tests.strategies.batches` batch with this group's columns filled in."""
    cols = draw(batches(focus=focus, dense=dense, max_per_customer=max_per_customer))
    n = len(cols["cust"])
    flags = _choice(draw, FLAGS.get(focus, _ALL_FLAGS))
    accounts = _choice(draw, ACCOUNTS)
    cards = _choice(draw, CARDS)
    devices = _choice(draw, DEVICES if dense else DEVICES[:6])
    peers = _choice(draw, CARDS + PEERS)
    same_amount = st.sampled_from(draw(st.sampled_from(((True,), (True, True, False), (False,)))))
    # PP-21: credits and outgoing legs on one account, incoming legs and debits on another.
    two_accounts = draw(st.booleans())
    # PP-25 / PP-26: amounts in the small range the rules count.
    small = draw(st.booleans())
    small_vc = st.integers(1, 12).map(lambda k: 3.0 * k)
    last_transfer: dict[int, float] = {}
    for i in range(n):
        cols["ref_flags"][i] = draw(flags)
        cols["account"][i] = draw(accounts)
        cols["card"][i] = draw(cards)
        cols["device"][i] = draw(devices)
        t_type = cols["txn_type"][i]
        c = int(cols["cust"][i])
        if focus == "PP-24" and t_type == _T["card_to_card"]:
            cols["counterparty"][i] = draw(peers)
        if focus == "PP-21" and two_accounts:
            cols["account"][i] = 501 if t_type in _PP21_SOURCE else 502
        if focus == "PP-21" and t_type in _TRANSFERS:
            # The other leg of an own transfer: the same amount as the customer's last leg.
            if c in last_transfer and draw(same_amount):
                cols["amount"][i] = last_transfer[c]
            last_transfer[c] = float(cols["amount"][i])
        if focus == "PP-25" and small and t_type in _VC:
            cols["amount"][i] = draw(small_vc)
        if focus == "PP-26" and small:
            cols["amount"][i] = cols["amount"][i] % 100.0  # NaN stays NaN
    return cols


# ------------------------------------------------------------ tests

IDS = tuple(RAILS_ORACLES)

SETTINGS = kernel_settings(max_examples=60)


# ------------------------------------------------------------ the generic suite's hooks
# tests/test_kernel_oracles.py runs every kernel against its oracle and in chunks, with
# the cases these functions draw and the settings below.
ORACLES = RAILS_ORACLES
ORACLE_SETTINGS = CHUNK_SETTINGS = kernel_settings(max_examples=60)


def draw_oracle_case(spec_id: str, data: st.DataObject) -> tuple[dict, dict]:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    columns = data.draw(rails_batches(spec_id, dense=dense), label="columns")
    params = data.draw(params_for(spec), label="params")
    return columns, params


def draw_chunk_case(spec_id: str, data: st.DataObject) -> tuple[dict, dict, list[int]]:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    columns = data.draw(rails_batches(spec_id, dense=dense, max_per_customer=40), label="columns")
    params = data.draw(params_for(spec), label="params")
    bounds = data.draw(chunk_bounds(len(columns["cust"])), label="chunk bounds")
    return columns, params, bounds


@pytest.mark.parametrize("spec_id", IDS)
def test_params_never_exceed_capacity(spec_id: str) -> None:
    """A count threshold's upper bound never exceeds the ring or table that holds the count."""
    spec = registry.get(spec_id)
    capacity = max(s.tail[0] for s in spec.state if s.tail)
    for p in spec.params:
        if p.name.startswith("min_") and p.integer:
            assert p.hi <= capacity, f"{spec_id} {p.name} hi {p.hi} > capacity {capacity}"


# --------------------------------------------------------------------------- scenarios

_T = TXN_CODE
_CH = CHANNEL_CODE


def _row(ts: int, kind: str, amount: float = 100.0, **kw) -> dict:
    return {"ts": ts, "txn_type": _T[kind], "amount": amount, **kw}


def _wl(ts: int, white_label: bool = True) -> dict:
    return _row(
        ts,
        "cash_withdrawal",
        channel=_CH["atm"],
        ref_flags=REF_WHITE_LABEL_ATM if white_label else 0,
    )


def _chain(day: float, amount: float = 600.0) -> list[dict]:
    return [
        _row(_at(day, 9.0), "emt_in", amount, account=501, counterparty=401),
        _row(_at(day, 10.0), "transfer_out", amount, account=501),
        _row(_at(day, 10.0), "transfer_in", amount, account=502),
        _row(_at(day, 11.0), "emt_out", amount, account=502, counterparty=402),
    ]


def _bet_after_emts(day: float, k: int) -> list[dict]:
    return [
        _row(_at(day, 8.0), "emt_in", 200.0, counterparty=1000 + 2 * k),
        _row(_at(day, 9.0), "emt_in", 200.0, counterparty=1001 + 2 * k),
        _row(_at(day, 10.0), "purchase", 300.0, mcc=7995),
    ]


# Each scenario: many more relevant events than the kernel's rings hold.
SATURATION = {
    "PP-14": [
        lambda: [_wl(_at(i / 6)) for i in range(120)],
        # 200 bank-ATM withdrawals, then six white-label ones: the share is tiny, the count not.
        lambda: [_wl(_at(i / 10), False) for i in range(200)]
        + [_wl(_at(21 + k)) for k in range(6)],
    ],
    "PP-15": [
        lambda: [_row(_at(i / 4), "cash_deposit", 60.0) for i in range(120)],
    ],
    "PP-20": [
        lambda: [
            _row(_at(i / 6), "emt_out", channel=_CH["mobile"], device=1000 + i) for i in range(120)
        ],
        # One device used 150 times, then two new ones.
        lambda: [_row(_at(i / 8), "emt_out", channel=_CH["mobile"], device=701) for i in range(150)]
        + [_row(_at(20 + k), "emt_out", channel=_CH["online"], device=702 + k) for k in range(2)],
    ],
    "PP-21": [
        lambda: [r for i in range(40) for r in _chain(i / 2)],
        # 100 unpaired transfer legs, then one more own transfer.
        lambda: [_row(_at(i / 8), "transfer_out", 10.0 + i, account=501) for i in range(100)]
        + [r for k in range(5) for r in _chain(14 + k)[1:3]],
    ],
    "PP-23": [
        lambda: [_row(_at(i / 6), "purchase", 100.0, mcc=5411) for i in range(120)],
        # 100 gift-card purchases, then three rounded grocery ones.
        lambda: [
            _row(_at(i / 6), "purchase", 250.0, mcc=5999, ref_flags=REF_GIFT_CARD)
            for i in range(100)
        ]
        + [_row(_at(20 + k), "purchase", 200.0, mcc=5411) for k in range(3)],
    ],
    "PP-24": [
        lambda: [_row(_at(i / 6), "prepaid_load", card=601 + i % 2) for i in range(120)],
        # Loads to one card many times, then one load to a second card.
        lambda: [_row(_at(i / 8), "prepaid_load", card=601) for i in range(100)]
        + [_row(_at(20), "prepaid_load", card=602)],
        lambda: [
            r
            for i in range(60)
            for r in (
                _row(_at(i / 3), "prepaid_load", card=601),
                _row(_at(i / 3, 13.0), "card_to_card", card=601, counterparty=999),
            )
        ],
    ],
    "PP-25": [
        lambda: [_row(_at(i / 6), "vc_buy", 12.0) for i in range(120)],
        # 100 EMTs from distinct senders then purchases: the sender table saturates.
        lambda: [
            r
            for i in range(40)
            for r in (
                _row(_at(i / 2), "emt_in", 50.0, counterparty=1000 + 3 * i),
                _row(_at(i / 2, 12.5), "emt_in", 50.0, counterparty=1001 + 3 * i),
                _row(_at(i / 2, 13.0), "vc_buy", 500.0),
            )
        ],
    ],
    "PP-26": [
        lambda: [
            _row(_at(i / 6), "emt_in", 20.0, ref_flags=REF_PAYMENT_SERVICE) for i in range(120)
        ]
        + [_row(_at(20.5), "vc_buy", 300.0)],
        lambda: [_row(_at(i / 6), "vc_buy", 300.0) for i in range(100)]
        + [_row(_at(17 + k / 4), "emt_in", 20.0, ref_flags=REF_PAYMENT_SERVICE) for k in range(10)],
    ],
    "PP-27": [
        lambda: [r for i in range(40) for r in _bet_after_emts(i / 2, i)],
        lambda: [
            r
            for i in range(60)
            for r in (
                _row(_at(i / 3), "casino_buy_in", 2000.0),
                _row(_at(i / 3, 14.0), "casino_cash_out", 1900.0),
            )
        ],
        lambda: [
            r
            for i in range(60)
            for r in (
                _row(_at(i / 3), "eft_out", 2000.0, ref_flags=REF_INVESTMENT_PLATFORM),
                _row(_at(i / 3, 14.0), "eft_in", 1900.0, ref_flags=REF_INVESTMENT_PLATFORM),
            )
        ],
    ],
    "PP-28": [
        lambda: [_row(_at(i / 6), "cash_advance", 40.0) for i in range(120)],
        lambda: [
            _row(_at(i / 8), "eft_in", 300.0, account=501, counterparty=1000 + i)
            for i in range(100)
        ]
        + [_row(_at(13), "cash_advance", 300.0, account=501)],
    ],
}


@pytest.mark.parametrize(
    ("spec_id", "k"),
    [(i, k) for i in IDS for k in range(len(SATURATION[i]))],
    ids=[f"{i}-{k}" for i in IDS for k in range(len(SATURATION[i]))],
)
def test_saturation_never_hides_a_threshold(spec_id: str, k: int) -> None:
    assert_saturation_fires(
        registry.get(spec_id),
        columns_from_rows(SATURATION[spec_id][k]()),
        RAILS_ORACLES[spec_id],
        f"{spec_id} scenario {k}",
    )


# --------------------------------------------------------------------------- edge cases
# Exact boundaries the random search reaches only rarely. Each case states the expected
# fired rows and is also checked against the oracle.

EDGE_CASES = [
    (
        "PP-14",
        "attempted white-label withdrawals are ignored",
        [{**_wl(_at(k)), "attempted": 1} for k in range(6)],
        None,
        {},
        [0] * 6,
    ),
    (
        "PP-14",
        "a withdrawal exactly window_days old is outside the window",
        [_wl(_at(0))] + [_wl(_at(30 + k / 10)) for k in range(5)],
        None,
        {"share_min_white_label": 32},
        [0] * 6,
    ),
    (
        "PP-14",
        "a share exactly min_share fires",
        [
            _wl(_at(0), False),
            _wl(_at(1), False),
            _wl(_at(2), False),
            _wl(_at(3)),
            _wl(_at(4)),
            _wl(_at(5)),
        ],
        None,
        {},
        [0, 0, 0, 0, 0, 1],
    ),
    (
        "PP-15",
        "cash exactly min_cash_cad does not fire, one cent more does",
        [
            _row(_at(0), "cash_deposit", 2500.0),
            _row(_at(1), "cash_deposit", 2500.0),
            _row(_at(2), "cash_deposit", 0.25),
        ],
        None,
        {},
        [0, 0, 1],
    ),
    (
        "PP-15",
        "an eft_in in the window suppresses the absolute rule",
        [
            _row(_at(0), "eft_in", 10.0),
            _row(_at(1), "cash_deposit", 6000.0),
            _row(_at(90, 12.5), "cash_deposit", 10.0),
        ],
        None,
        {},
        [0, 0, 1],
    ),
    (
        "PP-15",
        "cash above three months of declared income fires despite payroll",
        [
            _row(_at(0), "eft_in", 3000.0),
            _row(_at(1), "cash_deposit", 3000.0),
            _row(_at(2), "cash_deposit", 0.25),
        ],
        {"declared_income": [12000.0]},
        {},
        [0, 0, 1],
    ),
    (
        "PP-15",
        "NaN amounts are skipped",
        [_row(_at(k), "cash_deposit", float("nan")) for k in range(3)],
        {"declared_income": [1.0]},
        {},
        [0, 0, 0],
    ),
    (
        "PP-20",
        "branch and ATM rows carry no device",
        [_row(_at(k), "cash_withdrawal", channel=_CH["atm"], device=701 + k) for k in range(3)]
        + [_row(_at(4), "emt_out", channel=_CH["ecom"], device=710)],
        None,
        {},
        [0, 0, 0, 0],
    ),
    (
        "PP-20",
        "the same device twice counts once",
        [
            _row(_at(k), "emt_out", channel=_CH["online"], device=d)
            for k, d in enumerate((701, 702, 701, 703))
        ],
        None,
        {},
        [0, 0, 0, 1],
    ),
    (
        "PP-21",
        "legs on the same account are not an own transfer",
        [
            _row(_at(k, 10.0), kind, 500.0, account=501)
            for k in range(3)
            for kind in ("transfer_out", "transfer_in")
        ],
        None,
        {"min_transfers": 1},
        [0] * 6,
    ),
    (
        "PP-21",
        "legs pair in either order, within pair_hours",
        [
            _row(_at(0, 10.0), "transfer_in", 500.0, account=502),
            _row(_at(0, 11.0), "transfer_out", 500.0, account=501),
            _row(_at(1, 10.0), "transfer_out", 300.0, account=501),
            _row(_at(2, 10.0), "transfer_in", 300.0, account=502),
        ],
        None,
        {"min_transfers": 1},
        [0, 1, 0, 0],
    ),
    (
        "PP-21",
        "a drain below drain_share does not complete the chain",
        _chain(0)[:3]
        + [
            _row(_at(0, 11.0), "emt_out", 479.0, account=502),
            _row(_at(0, 12.0), "cash_withdrawal", 1.0, account=502),
        ],
        None,
        {"min_chains": 1},
        [0, 0, 0, 0, 1],
    ),
    (
        "PP-21",
        "no personal credit before the transfer, no chain",
        _chain(0)[1:],
        None,
        {"min_chains": 1},
        [0, 0, 0],
    ),
    (
        "PP-21",
        "ten own transfers: evidence holds the newest eight",
        [r for k in range(10) for r in _chain(k)[1:3]],
        None,
        {},
        [0, 0] * 4 + [0, 1] * 6,
    ),
    (
        "PP-23",
        "rounded means a multiple of round_unit_cad from rounded_min_cad",
        [
            _row(_at(0), "purchase", 75.0, mcc=5411),
            _row(_at(1), "purchase", 110.0, mcc=5411),
            _row(_at(2), "purchase", 125.0, mcc=5411),
            _row(_at(3), "purchase", 100.0, mcc=5947),
            _row(_at(4), "purchase", 150.0, mcc=5411),
        ],
        None,
        {"min_rounded": 3},
        [0, 0, 0, 0, 1],
    ),
    (
        "PP-23",
        "a convenience purchase of exactly the cap does not fire",
        [_row(_at(0), "purchase", 300.0, mcc=5499), _row(_at(1), "purchase", 300.25, mcc=5499)],
        None,
        {},
        [0, 1],
    ),
    (
        "PP-23",
        "a gift-card purchase of exactly gift_min_cad fires",
        [
            _row(_at(0), "purchase", 199.75, ref_flags=REF_GIFT_CARD),
            _row(_at(1), "purchase", 200.0, ref_flags=REF_GIFT_CARD),
        ],
        None,
        {},
        [0, 1],
    ),
    (
        "PP-24",
        "a push into a card loaded in the window does not qualify",
        [
            _row(_at(0), "prepaid_load", card=601),
            _row(_at(1), "prepaid_load", card=602),
            _row(_at(2), "card_to_card", card=601, counterparty=602),
            _row(_at(33), "prepaid_load", card=601),
            _row(_at(34), "card_to_card", card=601, counterparty=602),
        ],
        None,
        {"min_c2c": 1},
        [0, 0, 0, 0, 1],
    ),
    (
        "PP-24",
        "a push from a card never loaded does not qualify",
        [_row(_at(0), "card_to_card", card=601, counterparty=602)],
        None,
        {"min_c2c": 1},
        [0],
    ),
    (
        "PP-25",
        "EMT senders exactly fund_hours before do not fund",
        [
            _row(_at(0), "emt_in", counterparty=401),
            _row(_at(0, 13.0), "emt_in", counterparty=402),
            _row(_at(1), "vc_buy", 300.0),
            _row(_at(1, 12.5), "vc_buy", 300.0),
        ],
        None,
        {"min_funded": 1},
        [0, 0, 0, 0],
    ),
    (
        "PP-25",
        "a purchase at MCC 6051 or a transfer to a dealer is a VC purchase",
        [
            _row(_at(0), "purchase", 12.0, mcc=6051),
            _row(_at(1), "emt_out", 24.0, ref_flags=REF_VC_DEALER),
            _row(_at(2), "emt_out", 3.0),
            _row(_at(3), "purchase", 3.0, ref_flags=REF_VC_DEALER),
        ],
        None,
        {},
        [0, 0, 0, 1],
    ),
    (
        "PP-26",
        "processor amounts must be under under_cad",
        [_row(_at(k / 2), "emt_in", 100.0, ref_flags=REF_PAYMENT_SERVICE) for k in range(10)]
        + [_row(_at(6), "vc_buy", 50.0)],
        None,
        {},
        [0] * 11,
    ),
    (
        "PP-26",
        "a card-to-card payment needs a peer",
        [_row(_at(k / 2), "emt_in", 99.75, ref_flags=REF_PAYMENT_SERVICE) for k in range(10)]
        + [
            _row(_at(6), "card_to_card", 50.0),
            _row(_at(7), "card_to_card", 50.0, counterparty=401),
        ],
        None,
        {},
        [0] * 11 + [1],
    ),
    (
        "PP-27",
        "ten funded bets: evidence holds the newest eight",
        [r for k in range(10) for r in _bet_after_emts(k, k)],
        None,
        {},
        [0, 0, 0] * 2 + [0, 0, 1] * 8,
    ),
    (
        "PP-27",
        "winnings and payroll are not third-party funding",
        [
            _row(_at(0, 8.0), "emt_in", counterparty=401, ref_flags=REF_GAMING_OPERATOR),
            _row(_at(0, 9.0), "eft_in", counterparty=402),
            _row(_at(0, 10.0), "emt_in", counterparty=403),
            _row(_at(0, 11.0), "purchase", 50.0, mcc=7995),
        ],
        None,
        {"min_funded": 1},
        [0, 0, 0, 0],
    ),
    (
        "PP-27",
        "a cash-out of exactly return_share completes the round trip",
        [
            _row(_at(0), "casino_buy_in", 1000.0),
            _row(_at(1), "casino_cash_out", 799.75),
            _row(_at(2), "casino_buy_in", 1000.0, cust=1),
            _row(_at(3), "casino_cash_out", 800.0, cust=1),
        ],
        None,
        {},
        [0, 0, 0, 1],
    ),
    (
        "PP-27",
        "a cash-out after trip_days does not return a buy-in",
        [_row(_at(0), "casino_buy_in", 1000.0), _row(_at(14), "casino_cash_out", 1000.0)],
        None,
        {},
        [0, 0],
    ),
    (
        "PP-27",
        "investment returns only match investment deposits",
        [
            _row(_at(0), "casino_buy_in", 1000.0),
            _row(_at(1), "eft_in", 1000.0, ref_flags=REF_INVESTMENT_PLATFORM),
            _row(_at(2), "transfer_out", 1000.0, ref_flags=REF_INVESTMENT_PLATFORM),
            _row(_at(3), "transfer_in", 900.0, ref_flags=REF_INVESTMENT_PLATFORM),
        ],
        None,
        {},
        [0, 0, 0, 1],
    ),
    (
        "PP-28",
        "payers on another account do not count",
        [
            _row(_at(0), "eft_in", account=501, counterparty=401),
            _row(_at(1), "eft_in", account=502, counterparty=402),
            _row(_at(2), "cash_advance", 100.0, account=501),
        ],
        None,
        {},
        [0, 0, 0],
    ),
    (
        "PP-28",
        "a payment exactly pay_days before does not count",
        [
            _row(_at(0), "bill_payment", account=501, counterparty=401),
            _row(_at(6), "transfer_in", account=501, counterparty=402),
            _row(_at(7), "cash_advance", 100.0, account=501),
            _row(_at(7, 12.5), "eft_in", account=501, counterparty=401),
            _row(_at(7, 13.0), "cash_advance", 100.0, account=501),
        ],
        None,
        {},
        [0, 0, 0, 0, 1],
    ),
    (
        "PP-28",
        "advances of exactly min_advance_cad fire",
        [
            _row(_at(0), "cash_advance", 1000.0),
            _row(_at(29), "cash_advance", 1000.0),
            _row(_at(30), "cash_advance", float("nan")),
        ],
        None,
        {},
        [0, 1, 0],
    ),
]


@pytest.mark.parametrize(
    ("spec_id", "name", "rows", "profiles", "overrides", "expected"),
    EDGE_CASES,
    ids=[f"{c[0]}-{c[1]}" for c in EDGE_CASES],
)
def test_edge_case(spec_id, name, rows, profiles, overrides, expected) -> None:
    spec = registry.get(spec_id)
    columns = columns_from_rows(rows, profiles)
    params = spec.resolve_params(overrides)
    out = assert_matches_oracle(spec_id, columns, params, RAILS_ORACLES[spec_id])
    assert out.fired.tolist() == expected, name
