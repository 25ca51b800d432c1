"""Slow, obviously correct references for the `rails` group's kernels (PP-14, 15, 20, 21, 23-28).

Same conventions as :mod:`tests.oracles`: one :class:`OracleRow` per input row, unbounded
per-customer Python lists, every window recomputed with a plain loop; ``attempted`` rows are
ignored; a window of width ``w`` ending at ``t`` covers ``(t - w, t]``; day windows of ``n``
days ending on local day ``d`` cover ``d - n + 1 .. d``; NaN amounts are unknown. The
evidence is the set of candidate ``(ts, ref)`` events; the kernel reports the newest ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

import numpy as np

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
from tests.oracles import NOT_FIRED, Event, OracleRow, _known, _rows, in_window

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
        share = (n_wl >= p["share_min_white_label"] and n_all >= p["share_min_withdrawals"]
                 and n_wl / n_all >= p["min_share"])
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
            out.append(OracleRow(True, cash, _within(((e[0], e[1]) for e in deposits[c]),
                                                     t, width)))
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
                others = [g for g in legs[c] if g["out"] != is_out and g["acct"] != acct
                          and g["amount"] == a and in_window(g["ts"], t, pair_w)]
                if not others:
                    legs[c].append({"ts": t, "ref": ref, "acct": acct, "amount": a,
                                    "out": is_out})
                else:
                    other = min(others, key=lambda g: (g["ts"], g["ref"]))
                    legs[c].remove(other)
                    if is_out:
                        out_ref, src, dst = ref, acct, other["acct"]
                    else:
                        out_ref, src, dst = other["ref"], other["acct"], acct
                    transfers[c].append((t, out_ref))
                    if any(ac == src and in_window(tc, t, fwd_w) for tc, ac in credits[c]):
                        candidates[c].append({"ts": t, "ref": out_ref, "acct": dst,
                                              "left": p["drain_share"] * a, "open": True})
                    recent = _within(transfers[c], t, width)
                    if len(recent) >= p["min_transfers"]:
                        row = OracleRow(True, float(len(recent)), recent)
        elif tt in (EMT_OUT, CASH_WITHDRAWAL) and _known(a) and acct != 0:
            completed = False
            left = a
            while left > 0:
                open_ = [k for k in candidates[c] if k["open"] and k["acct"] == acct
                         and in_window(k["ts"], t, drain_w)]
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
        rounded = (mcc in _GIFT_MCCS and a >= p["rounded_min_cad"]
                   and a % p["round_unit_cad"] == 0)
        single = ((mcc == 5499 and a > p["convenience_max_cad"])
                  or (bool(flags & REF_GIFT_CARD) and a >= p["gift_min_cad"]))
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
                out.append(OracleRow(True, float(len(recent)),
                                     frozenset((e[0], e[1]) for e in recent)))
            else:
                out.append(NOT_FIRED)
        elif (tt == CARD_TO_CARD and card != 0 and cp != 0 and card != cp and loaded(card)
              and not loaded(cp)):
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
    return (tt == VC_BUY or (tt == PURCHASE and (dealer or mcc == 6051))
            or (tt in (EMT_OUT, WIRE_OUT, EFT_OUT, TRANSFER_OUT) and dealer))


def oracle_pp25(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Small-multiple VC purchases; VC purchases funded by EMTs from several senders."""
    width = p["window_days"] * DAY
    fund_w = p["fund_hours"] * HOUR
    senders: dict[int, dict[int, Event]] = defaultdict(dict)
    small_events: dict[int, list[Event]] = defaultdict(list)
    funded_events: dict[int, list[Event]] = defaultdict(list)
    out = []
    for c, ref, t, tt, a, mcc, cp, flags, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "amount", "mcc", "counterparty", "ref_flags",
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
        columns, "cust", "seq", "ts", "txn_type", "amount", "mcc", "counterparty", "ref_flags",
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
        columns, "cust", "seq", "ts", "txn_type", "amount", "mcc", "counterparty", "ref_flags",
        "attempted",
    ):
        row = NOT_FIRED
        investment = bool(flags & REF_INVESTMENT_PLATFORM)
        if att:
            out.append(row)
            continue
        if (tt in (EMT_IN, TRANSFER_IN, WIRE_IN) and cp != 0
                and not flags & (REF_GAMING_OPERATOR | REF_INVESTMENT_PLATFORM)):
            senders[c].append((t, cp))
        kind = ("casino" if tt == CASINO_CASH_OUT
                else "investment" if investment and tt in _TRANSFERS_IN else None)
        if kind is not None:
            if _known(a):
                completed = False
                left = a
                while left > 0:
                    pending = [s for s in starts[c] if s["open"] and s["kind"] == kind
                               and in_window(s["ts"], t, trip_w)]
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
        gambling = tt == CASINO_BUY_IN or (payment_out and (
            mcc in (7801, 7995) or bool(flags & REF_GAMING_OPERATOR)))
        if _known(a) and a >= p["min_trip_cad"]:
            start = ("casino" if tt == CASINO_BUY_IN
                     else "investment" if payment_out and investment else None)
            if start is not None:
                starts[c].append({"ts": t, "ref": ref, "kind": start,
                                  "left": p["return_share"] * a, "open": True})
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
        columns, "cust", "seq", "ts", "local_day", "txn_type", "amount", "account",
        "counterparty", "attempted",
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
        total = sum(x for _, _, day, x in advances[c]
                    if _known(x) and d - p["window_days"] + 1 <= day <= d)
        if _known(a) and total >= p["min_advance_cad"]:
            out.append(OracleRow(True, total, _within(((e[0], e[1]) for e in advances[c]),
                                                      t, width)))
        else:
            out.append(NOT_FIRED)
    return out


RAILS_ORACLES: dict[str, Callable[[Mapping[str, np.ndarray], Mapping[str, float]],
                                  list[OracleRow]]] = {
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
