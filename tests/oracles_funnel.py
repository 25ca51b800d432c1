"""Slow, obviously correct references for the FUNNEL kernels that read ``cp_flags``: PP-18
(EMT collector / nominee) and PP-22 (funded mainly by a flagged individual).

Same conventions as :mod:`tests.oracles`: plain Python over the kernel's columns, the whole
history of each customer in unbounded lists, every window recomputed by filtering that
history; ``attempted`` rows are ignored; a window of width ``w`` ending at ``t`` covers
``(t - w, t]``; NaN amounts are unknown and skipped by amount logic. Each oracle returns one
:class:`~tests.oracles.OracleRow` per input row whose evidence is the *candidate* set of
``(ts, ref)`` events; the kernel reports the newest ``EVIDENCE_SLOTS`` of them.

Bounded rings are not modelled: PP-18 keeps 16 escort credits, 16 senders, 8 alias rows and
4 onward transfers per customer, PP-22 the 32 newest credits. The strategies
(:mod:`tests.strategies_funnel`) keep every customer below those bounds, where the kernels
must agree with these oracles exactly; saturation tests cover what happens above them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

import numpy as np

from indicators.columns import DAY, EMT_IN, EMT_OUT, TRANSFER_IN, TRANSFER_OUT
from tests.bits import CP_ADV_LODGE, CP_ESCORT_EMT, REF_BRACKET_ALIAS, REF_ESCORT_MEMO
from tests.oracles import (
    _CREDIT_TYPES,
    _THIRD_PARTY_TYPES,
    NOT_FIRED,
    Event,
    OracleRow,
    _known,
    _rows,
    in_window,
)

Oracle = Callable[[Mapping[str, np.ndarray], Mapping[str, float]], list[OracleRow]]

# ---------------------------------------------------------------------------------- PP-18

# The kernel treats internal transfers like e-transfers, in both directions.
_INBOUND = (EMT_IN, TRANSFER_IN)
_OUTBOUND = (EMT_OUT, TRANSFER_OUT)


def oracle_pp18(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """Escort-referenced credits from several senders passed on; onward transfers to another
    collector; bracketed aliases. Checked in that order on each row; observed is always the
    number of escort-referenced credits in the window.

    * collector: on an escort-referenced credit, at least ``min_escort_emts`` such credits
      from at least ``min_senders`` distinct (non-zero) senders, and any onward transfer, in
      the window. Evidence: the escort credits.
    * network: on an onward transfer whose ``cp_flags`` has ``CP_ESCORT_EMT``, at least
      ``min_network_emts`` escort credits in the window. Evidence: the onward transfer
      first, then the escort credits newest first. The transfer is the newest event of the
      set (its ts is the window's end, its ref larger than any earlier row's at that ts),
      so "newest first" over the set is exactly that order.
    * aliases: on any row naming a bracketed alias, at least ``min_aliases`` such rows in
      the window. Evidence: the alias rows.

    polars: ``rolling(index_column="ts", period=f"{window_days}d", group_by="cust")`` with
    ``len()`` of escort credits, ``counterparty.filter(escort & (counterparty != 0))
    .n_unique()``, ``len()`` of onward transfers and of alias rows.
    """
    width = p["window_days"] * DAY
    escort: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # (ts, ref, sender)
    onward: dict[int, list[int]] = defaultdict(list)  # ts
    aliases: dict[int, list[Event]] = defaultdict(list)
    out = []
    for c, ref, t, tt, cp, flags, cpf, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "counterparty", "ref_flags", "cp_flags",
        "attempted",
    ):
        inbound, outbound = tt in _INBOUND, tt in _OUTBOUND
        if att or not (inbound or outbound):
            out.append(NOT_FIRED)
            continue
        is_escort = inbound and bool(flags & REF_ESCORT_MEMO)
        is_alias = bool(flags & REF_BRACKET_ALIAS)
        to_collector = outbound and bool(cpf & CP_ESCORT_EMT)
        if is_escort:
            escort[c].append((t, ref, cp))
        if outbound:
            onward[c].append(t)
        if is_alias:
            aliases[c].append((t, ref))

        credits = [e for e in escort[c] if in_window(e[0], t, width)]
        n_escort = len(credits)
        credit_events = frozenset((ts_, r) for ts_, r, _ in credits)
        senders = {s for _, _, s in credits if s != 0}
        passed_on = any(in_window(ts_, t, width) for ts_ in onward[c])
        alias_events = frozenset(e for e in aliases[c] if in_window(e[0], t, width))

        if (is_escort and n_escort >= p["min_escort_emts"] and len(senders) >= p["min_senders"]
                and passed_on):
            out.append(OracleRow(True, float(n_escort), credit_events))
        elif to_collector and n_escort >= p["min_network_emts"]:
            out.append(OracleRow(True, float(n_escort), credit_events | {(t, ref)}))
        elif is_alias and len(alias_events) >= p["min_aliases"]:
            out.append(OracleRow(True, float(n_escort), alias_events))
        else:
            out.append(NOT_FIRED)
    return out


# ---------------------------------------------------------------------------------- PP-22


def oracle_pp22(columns: Mapping[str, np.ndarray], p: Mapping[str, float]) -> list[OracleRow]:
    """The sender's share of the window's credits, on a person-to-person credit from a
    sender whose ``cp_flags`` has ``CP_ADV_LODGE``.

    Credits are cash deposits, e-transfers, transfers, wires and EFTs with a known amount;
    only e-transfers, transfers and wires have a sender (their non-zero counterparty). Fires
    when the sender's credits in the window number at least ``min_credits``, sum to at least
    ``min_total``, and are at least ``min_share`` of all credits in the window (whose sum
    must be positive). Observed: the share. Evidence: the sender's credits in the window.

    polars: ``df.filter(credit & amount.is_not_nan()).rolling(index_column="ts",
    period=f"{window_days}d", group_by="cust")`` with ``amount.sum()`` overall and
    ``amount.filter(sender == this_sender).sum()`` / ``.len()``.
    """
    width = p["window_days"] * DAY
    # (ts, ref, sender, amount) of every completed credit with a known amount
    credits: dict[int, list[tuple[int, int, int, float]]] = defaultdict(list)
    out = []
    for c, ref, t, tt, a, cp, cpf, att in _rows(
        columns, "cust", "seq", "ts", "txn_type", "amount", "counterparty", "cp_flags",
        "attempted",
    ):
        if att or tt not in _CREDIT_TYPES or not _known(a):
            out.append(NOT_FIRED)
            continue
        sender = cp if tt in _THIRD_PARTY_TYPES else 0
        credits[c].append((t, ref, sender, a))
        if sender == 0 or not cpf & CP_ADV_LODGE:
            out.append(NOT_FIRED)
            continue
        recent = [e for e in credits[c] if in_window(e[0], t, width)]
        theirs = [e for e in recent if e[2] == sender]
        total = sum(e[3] for e in recent)
        funded = sum(e[3] for e in theirs)
        if (total > 0 and funded >= p["min_total"] and funded / total >= p["min_share"]
                and len(theirs) >= p["min_credits"]):
            out.append(OracleRow(True, funded / total,
                                 frozenset((ts_, r) for ts_, r, _, _ in theirs)))
        else:
            out.append(NOT_FIRED)
    return out


ORACLES: dict[str, Oracle] = {
    "PP-18": oracle_pp18,
    "PP-22": oracle_pp22,
}
