"""The FUNNEL kernels that read ``cp_flags`` (PP-18, PP-22) against their oracles, in
chunks, under saturation and at exact boundaries.

Below ring capacity a bounded kernel must agree with its unbounded oracle exactly: the same
rows fire, with the same observed value and the same evidence (newest first; for PP-18's
network branch the onward transfer first). One batch must give the same outputs and end
state as the same rows in k chunks. Far above capacity a kernel must still fire.

The family's oracles and hypothesis strategies live here too (the sections below).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from indicators import registry
from indicators.columns import (
    BATCH_COLUMNS,
    DAY,
    EMT_IN,
    EMT_OUT,
    PROFILE_COLUMNS,
    TRANSFER_IN,
    TRANSFER_OUT,
    TXN_CODE,
)
from indicators.pp18_emt_collector import ALIASES, RING
from indicators.runner import KernelOutput
from tests.bits import (
    CP_ADV_LODGE,
    CP_ALERTED,
    CP_ESCORT_EMT,
    REF_BRACKET_ALIAS,
    REF_ESCORT_AD,
    REF_ESCORT_MEMO,
)
from tests.kernel_harness import (
    assert_matches_oracle,
    assert_saturation_fires,
    evidence_refs,
    kernel_settings,
    run,
)
from tests.kernel_harness import at as _at
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
from tests.rules.test_adv_travel import adv_travel_batches
from tests.rules.test_lifestyle import DAY_HOURS, DAY_STEPS, _day_grid, lifestyle_batches
from tests.rules.test_rails import rails_batches
from tests.strategies import (
    FOCUS,
    Focus,
    _vocabulary,
    batches,
    chunk_bounds,
    columns_from_rows,
    params_for,
)

# ------------------------------------------------------------ oracles
# Slow, obviously correct references for the FUNNEL kernels that read ``cp_flags``: PP-18
# (EMT collector / nominee) and PP-22 (funded mainly by a flagged individual).
#
# Same conventions as :mod:`tests.oracles`: plain Python over the kernel's columns, the whole
# history of each customer in unbounded lists, every window recomputed by filtering that
# history; ``attempted`` rows are ignored; a window of width ``w`` ending at ``t`` covers
# ``(t - w, t]``; NaN amounts are unknown and skipped by amount logic. Each oracle returns one
# :class:`~tests.oracles.OracleRow` per input row whose evidence is the *candidate* set of
# ``(ts, ref)`` events; the kernel reports the newest ``EVIDENCE_SLOTS`` of them.
#
# Bounded rings are not modelled: PP-18 keeps 16 escort credits, 16 senders, 8 alias rows and
# 4 onward transfers per customer, PP-22 the 32 newest credits. The strategies
# (:mod:`tests.strategies_funnel`) keep every customer below those bounds, where the kernels
# must agree with these oracles exactly; saturation tests cover what happens above them.

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
        columns,
        "cust",
        "seq",
        "ts",
        "txn_type",
        "counterparty",
        "ref_flags",
        "cp_flags",
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

        if (
            is_escort
            and n_escort >= p["min_escort_emts"]
            and len(senders) >= p["min_senders"]
            and passed_on
        ):
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
        columns,
        "cust",
        "seq",
        "ts",
        "txn_type",
        "amount",
        "counterparty",
        "cp_flags",
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
        if (
            total > 0
            and funded >= p["min_total"]
            and funded / total >= p["min_share"]
            and len(theirs) >= p["min_credits"]
        ):
            out.append(
                OracleRow(True, funded / total, frozenset((ts_, r) for ts_, r, _, _ in theirs))
            )
        else:
            out.append(NOT_FIRED)
    return out


ORACLES: dict[str, Oracle] = {
    "PP-18": oracle_pp18,
    "PP-22": oracle_pp22,
}


# ------------------------------------------------------------ strategies
# hypothesis strategies for the FUNNEL kernels that read ``cp_flags``: PP-18 and PP-22.
#
# Registers each rule's :class:`~tests.strategies.Focus` and wraps
# :func:`tests.strategies.batches`, which leaves ``cp_flags`` at 0 and draws ``ref_flags``
# without the bits PP-18 reads. :func:`funnel_batches` fills in, per row:
#
# * ``cp_flags``: random ``CP_*`` bits on rows with a counterparty (weighted towards the bit
#   the rule reads), either drawn per row or fixed per counterparty for the whole example (as
#   the party index would report them);
# * for PP-18, ``ref_flags`` from escort-memo and bracket-alias bits;
# * for PP-22, the senders of person-to-person credits from a few keys, and in two examples
#   out of three credit amounts from a few round values (or all one value), so shares land
#   exactly on ``min_share`` and sums on ``min_total``.
#
# Two examples out of three re-time each customer's rows on whole days (the lifestyle
# group's day grid), stepping sometimes, or mostly, by exactly the example's window.
#
# Below-capacity batches (``within_rings``) keep every customer within the kernels' rings,
# so the unbounded oracles (:mod:`tests.oracles_funnel`) and the bounded kernels agree
# exactly: for PP-18 the escort-memo bit is dropped after 16 rows of a customer (the escort
# ring, and so at most 16 senders) and the bracket-alias bit after 8 (the alias ring); for
# PP-22 at most 30 rows per customer (32 credits). PP-18's onward ring (4 slots) needs no
# bound: only whether a transfer is in the window matters, and the newest one is always kept.

GROUP_IDS = ("PP-18", "PP-22")

# Random CP_* bits, weighted towards the bit each rule reads (0 twice: unflagged rows stay
# common; the other bits appear too, alone and combined).
CP_FLAGS: dict[str, tuple[int, ...]] = {
    "PP-18": (
        0,
        0,
        CP_ESCORT_EMT,
        CP_ESCORT_EMT | CP_ALERTED,
        CP_ADV_LODGE,
        CP_ALERTED,
        CP_ADV_LODGE | CP_ESCORT_EMT | CP_ALERTED,
    ),
    "PP-22": (
        0,
        0,
        CP_ADV_LODGE,
        CP_ADV_LODGE | CP_ALERTED,
        CP_ESCORT_EMT,
        CP_ALERTED,
        CP_ADV_LODGE | CP_ESCORT_EMT | CP_ALERTED,
    ),
}
PP18_FLAGS = (
    0,
    REF_ESCORT_MEMO,
    REF_ESCORT_MEMO,
    REF_ESCORT_MEMO,
    REF_BRACKET_ALIAS,
    REF_ESCORT_MEMO | REF_BRACKET_ALIAS,
    REF_ESCORT_AD,
)
# PP-22: senders of person-to-person credits (few, so one of them often dominates).
SENDERS = (0, 401, 402, 403, 404)
# PP-22's round-credit regime: shares land on simple fractions, sums on round thresholds.
ROUND_CREDITS = (50.0, 100.0, 100.0, 200.0, 250.0, 300.0, 500.0)

_IN = ("emt_in", "transfer_in")
_OUT = ("emt_out", "transfer_out")
_P2P = ("emt_in", "transfer_in", "wire_in")
_OTHER_CREDITS = ("cash_deposit", "eft_in")
_P2P_CODES = {TXN_CODE[t] for t in _P2P}
_CREDIT_CODES = _P2P_CODES | {TXN_CODE[t] for t in _OTHER_CREDITS}

FOCUS.update(
    {
        # 30 rows per customer: the escort and alias bits are capped below their rings.
        "PP-18": Focus(
            types=_IN * 3 + _OUT + ("wire_in", "purchase"),
            mccs=(-1,),
            flags=(0,),
            channels=("online", "mobile"),
            dense_max=30,
            patterns=(
                (_OUT,) + (_IN,) * 7,
                (_IN, _IN, _IN, _OUT),
                (_IN, _OUT + _IN),
                (_IN,) * 5 + (_OUT + ("wire_in", "purchase"),),
            ),
        ),
        "PP-22": Focus(
            types=_P2P * 3 + _OTHER_CREDITS + ("emt_out",),
            mccs=(-1,),
            channels=("online", "mobile", "branch"),
            dense_max=30,
            patterns=(
                (_P2P,),
                (_P2P, _P2P, _P2P, _OTHER_CREDITS),
                (_P2P, ("emt_out", "purchase", "cash_deposit")),
            ),
        ),
    }
)


@st.composite
def funnel_batches(
    draw: st.DrawFn,
    focus: str,
    dense: bool = False,
    max_per_customer: int = 15,
    within_rings: bool = True,
    window_days: int | None = None,
) -> dict[str, np.ndarray]:
    """A :func:`tests.strategies.batches` batch with ``cp_flags`` (and PP-18's reference
    bits) filled in.

    ``within_rings``: no customer has more escort-memo rows than PP-18's escort ring holds,
    nor more bracket-alias rows than its alias ring (``False``: no bound, for tests that
    want the rings to overflow). ``window_days``: the example's window; in the day-grid
    regimes (two examples out of three) each customer's rows step by whole days, sometimes
    (in the ``edge`` regime mostly) by exactly the window, so events land on its edge.
    """
    cols = draw(batches(focus=focus, dense=dense, max_per_customer=max_per_customer))
    windows = (window_days,) * 2 if window_days else ()
    timing = draw(st.sampled_from(("as drawn", "day grid", "edge")))
    if timing == "day grid":
        _day_grid(draw, cols, DAY_STEPS + windows, DAY_HOURS)
    elif timing == "edge":  # most steps land an earlier row exactly on the window's edge
        _day_grid(draw, cols, (0, 1) + windows, (12,))
    party_flags = st.sampled_from(CP_FLAGS[focus])
    per_party = draw(st.booleans())  # else drawn per row
    known: dict[int, int] = {}
    ref_flags = _vocabulary(draw, PP18_FLAGS) if focus == "PP-18" else None
    round_credits = senders = None
    if focus == "PP-22":
        senders = _vocabulary(draw, SENDERS)
        style = draw(st.sampled_from(("as drawn", "round", "one amount")))
        if style != "as drawn":
            one = (draw(st.sampled_from(ROUND_CREDITS)),)
            round_credits = _vocabulary(draw, ROUND_CREDITS if style == "round" else one)
    caps = {REF_ESCORT_MEMO: RING, REF_BRACKET_ALIAS: ALIASES} if within_rings else {}
    seen: Counter[tuple[int, int]] = Counter()  # (customer, bit) -> rows so far
    for i in range(len(cols["cust"])):
        if senders is not None and cols["txn_type"][i] in _P2P_CODES:
            cols["counterparty"][i] = draw(senders)
        cp = int(cols["counterparty"][i])
        if cp != 0:
            if not per_party:
                cols["cp_flags"][i] = draw(party_flags)
            else:
                if cp not in known:
                    known[cp] = draw(party_flags)
                cols["cp_flags"][i] = known[cp]
        if ref_flags is not None:
            flags = draw(ref_flags)
            c = int(cols["cust"][i])
            for bit, cap in caps.items():
                if flags & bit:
                    if seen[c, bit] >= cap:
                        flags &= ~bit
                    else:
                        seen[c, bit] += 1
            cols["ref_flags"][i] = flags
        if round_credits is not None and cols["txn_type"][i] in _CREDIT_CODES:
            cols["amount"][i] = draw(round_credits)
    return cols


# ------------------------------------------------------------ tests

SETTINGS = kernel_settings(max_examples=60)
# Against the oracle, more examples: each rule has three (PP-18) or four (PP-22) conditions
# that must hold on the same row, so a given branch fires in fewer examples.
ORACLE_SETTINGS = kernel_settings(max_examples=150)

_T = TXN_CODE
_ONWARD = (_T["emt_out"], _T["transfer_out"])
_ESCORT_TYPES = (_T["emt_in"], _T["transfer_in"])  # with REF_ESCORT_MEMO: escort credits


def assert_onward_first(
    columns: Mapping[str, np.ndarray], params: Mapping[str, float], out: KernelOutput
) -> None:
    """PP-18's network branch (an onward transfer to a collector, after enough escort
    credits) reports the onward transfer itself as its first evidence ref."""
    network = (
        np.isin(columns["txn_type"], _ONWARD)
        & (columns["cp_flags"] & CP_ESCORT_EMT != 0)
        & (out.fired == 1)
        & (out.observed >= params["min_network_emts"])
    )
    for i in np.flatnonzero(network):
        event("PP-18 network branch fires")
        got = evidence_refs(out.evidence[i])
        assert got[0] == columns["seq"][i], f"row {i}: evidence {got} does not start with it"


# The thresholds :func:`on_threshold` moves onto a row.
ON_THRESHOLD = {
    "PP-18": ("min_escort_emts", "min_network_emts", "min_senders"),
    "PP-22": ("min_share", "min_credits", "min_total"),
}


def on_threshold(
    spec_id: str, columns: Mapping[str, np.ndarray], params: dict[str, float], data: st.DataObject
) -> dict[str, float]:
    """``params`` with thresholds moved onto one row of the data, so that row fires exactly
    at them and a kernel that compares strictly (or one step off) misses it; random
    thresholds land there rarely.

    The oracle runs with the ``ON_THRESHOLD`` parameters at their lower bounds; one row that
    fires is drawn; each moved threshold becomes the value that row reached: PP-18, its
    escort count (for the collector and the network branch alike) and the senders of the
    escort credits in its evidence; PP-22, the sender's share, credits and total.
    """
    spec = registry.get(spec_id)
    lowest = {p.name: p.lo for p in spec.params if p.name in ON_THRESHOLD[spec_id]}
    rows = ORACLES[spec_id](columns, spec.resolve_params({**params, **lowest}))
    floor = lowest.get("min_escort_emts", 0)  # PP-18: both counts move to one value
    fired = [r for r in rows if r.fired and r.observed >= floor]
    if not fired:
        return params
    row = data.draw(st.sampled_from(fired), label="row on the thresholds")
    if spec_id == "PP-18":
        moved = {"min_escort_emts": row.observed, "min_network_emts": row.observed}
        escort_credit = np.isin(columns["txn_type"], _ESCORT_TYPES) & (
            columns["ref_flags"] & REF_ESCORT_MEMO != 0
        )
        sender = dict(
            zip(
                columns["seq"].tolist(),
                np.where(escort_credit, columns["counterparty"], 0).tolist(),
                strict=True,
            )
        )
        moved["min_senders"] = max(1, len({sender[ref] for _, ref in row.evidence} - {0}))
    else:
        amount = dict(zip(columns["seq"].tolist(), columns["amount"].tolist(), strict=True))
        moved = {
            "min_share": row.observed,
            "min_credits": len(row.evidence),
            "min_total": sum(amount[ref] for _, ref in row.evidence),
        }
    event("thresholds on a row")
    return spec.resolve_params({**params, **moved})


# ------------------------------------------------------------ the generic suite's hooks
# tests/test_kernel_oracles.py runs every kernel against its oracle and in chunks, with
# the cases these functions draw and the settings below.
CHUNK_SETTINGS = kernel_settings(max_examples=60)


def draw_oracle_case(spec_id: str, data: st.DataObject) -> tuple[dict, dict]:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    params = data.draw(params_for(spec), label="params")
    columns = data.draw(
        funnel_batches(spec_id, dense=dense, window_days=params["window_days"]), label="columns"
    )
    if data.draw(st.booleans(), label="thresholds on a row"):
        params = on_threshold(spec_id, columns, params, data)
    return columns, params


def check_output(spec_id: str, columns, params, out: KernelOutput) -> None:
    """More than the oracle compares: PP-18's network evidence starts with the row."""
    if spec_id == "PP-18":
        assert_onward_first(columns, params, out)


def draw_chunk_case(spec_id: str, data: st.DataObject) -> tuple[dict, dict, list[int]]:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    params = data.draw(params_for(spec), label="params")
    # Up to 40 rows per customer and no bound on escort or alias rows: the rings overflow.
    columns = data.draw(
        funnel_batches(
            spec_id,
            dense=dense,
            max_per_customer=40,
            within_rings=False,
            window_days=params["window_days"],
        ),
        label="columns",
    )
    bounds = data.draw(chunk_bounds(len(columns["cust"])), label="chunk bounds")
    return columns, params, bounds


# --------------------------------------------------------------------------- strategies

STRATEGIES: dict[str, Callable[[], st.SearchStrategy[dict[str, np.ndarray]]]] = {
    "shared": lambda: batches(),
    "shared PP-16 dense": lambda: batches(focus="PP-16", dense=True),
    "adv_travel PP-05": lambda: adv_travel_batches("PP-05"),
    "rails PP-21": lambda: rails_batches("PP-21"),
    "lifestyle PP-29": lambda: lifestyle_batches("PP-29"),
    "funnel PP-18": lambda: funnel_batches("PP-18"),
    "funnel PP-22 dense": lambda: funnel_batches("PP-22", dense=True),
}


@pytest.mark.parametrize("name", STRATEGIES)
@kernel_settings(max_examples=10)
@given(data=st.data())
def test_strategies_produce_every_column(name: str, data: st.DataObject) -> None:
    """Every group's batches carry every batch and profile column, with its dtype, one
    value per row (per customer slot for profile columns); ``cp_flags`` only on rows that
    name a counterparty."""
    columns = data.draw(STRATEGIES[name](), label="columns")
    n, n_cust = len(columns["cust"]), len(columns["home_city"])
    for table, length in ((BATCH_COLUMNS, n), (PROFILE_COLUMNS, n_cust)):
        for col, (dtype, _, _) in table.items():
            assert col in columns, f"{name}: no column {col!r}"
            assert columns[col].dtype == dtype, f"{name}: {col!r} is {columns[col].dtype}"
            assert columns[col].shape == (length,), f"{name}: {col!r} has {columns[col].shape}"
    assert n == 0 or columns["cust"].max() < n_cust
    assert not columns["cp_flags"][columns["counterparty"] == 0].any()


# --------------------------------------------------------------------------- saturation


def _row(ts: int, kind: str, amount: float = 100.0, **kw) -> dict:
    return {"ts": ts, "txn_type": _T[kind], "amount": amount, **kw}


def _escort(ts: int, sender: int, **kw) -> dict:
    return _row(ts, "emt_in", 120.0, counterparty=sender, ref_flags=REF_ESCORT_MEMO, **kw)


def _onward(ts: int, cp_flags: int = 0, **kw) -> dict:
    return _row(ts, "emt_out", 500.0, counterparty=999, cp_flags=cp_flags, **kw)


FUNDER = 777


def _funded(ts: int, amount: float = 100.0, cp_flags: int = CP_ADV_LODGE, **kw) -> dict:
    return _row(ts, "emt_in", amount, counterparty=FUNDER, cp_flags=cp_flags, **kw)


# Each scenario: many more relevant events than the kernel's rings hold.
SATURATION = {
    "PP-18": [
        # 120 escort credits from 40 senders (ring and sender table 16), forwarded first.
        lambda: [_onward(_at(0))] + [_escort(_at(i / 6), 1000 + i % 40) for i in range(1, 121)],
        # 100 escort credits, then an onward transfer to a collector.
        lambda: [_escort(_at(i / 4), 1000 + i) for i in range(100)]
        + [_onward(_at(26), CP_ESCORT_EMT)],
        # 50 onward transfers (ring 4), then five escort credits from three senders.
        lambda: [_onward(_at(i / 10)) for i in range(50)]
        + [_escort(_at(6 + k), 401 + k % 3) for k in range(5)],
        # 50 rows naming an alias (ring 8).
        lambda: [_onward(_at(i / 2), ref_flags=REF_BRACKET_ALIAS) for i in range(50)],
    ],
    "PP-22": [
        # 100 credits, all from the funder (ring 32).
        lambda: [_funded(_at(i / 4)) for i in range(100)],
        # Payroll then three funder credits, 25 times: 75 % over the window and over the
        # newest 32 credits alike.
        lambda: [
            r
            for k in range(25)
            for r in (
                _row(_at(k, 9.0), "eft_in", 100.0, counterparty=401),
                *(_funded(_at(k, 10.0 + h)) for h in range(3)),
            )
        ],
    ],
}


@pytest.mark.parametrize(
    ("spec_id", "k"),
    [(i, k) for i in GROUP_IDS for k in range(len(SATURATION[i]))],
    ids=[f"{i}-{k}" for i in GROUP_IDS for k in range(len(SATURATION[i]))],
)
def test_saturation_never_hides_a_threshold(spec_id: str, k: int) -> None:
    assert_saturation_fires(
        registry.get(spec_id),
        columns_from_rows(SATURATION[spec_id][k]()),
        ORACLES[spec_id],
        f"{spec_id} scenario {k}",
    )


# --------------------------------------------------------------------------- edge cases
# Exact boundaries the random search reaches only rarely. Each case states the expected
# fired rows and is also checked against the oracle.

EDGE_CASES = [
    (
        "PP-18",
        "an onward transfer to a collector after min_network_emts escort credits",
        [_escort(_at(0), 401), _escort(_at(1), 402), _onward(_at(2), CP_ESCORT_EMT)],
        {},
        [0, 0, 1],
    ),
    (
        "PP-18",
        "one escort credit short of min_network_emts",
        [_escort(_at(0), 401), _onward(_at(2), CP_ESCORT_EMT)],
        {},
        [0, 0],
    ),
    (
        "PP-18",
        "escort credits without a sender count for the network branch",
        [_escort(_at(0), 0), _escort(_at(1), 0), _onward(_at(2), CP_ESCORT_EMT | CP_ALERTED)],
        {},
        [0, 0, 1],
    ),
    (
        "PP-18",
        "other party signals are not a collector",
        [_escort(_at(0), 401), _escort(_at(1), 402), _onward(_at(2), CP_ADV_LODGE | CP_ALERTED)],
        {},
        [0, 0, 0],
    ),
    (
        "PP-18",
        "a credit from a collector is not an onward transfer",
        [
            _escort(_at(0), 401),
            _escort(_at(1), 402),
            _row(_at(2), "emt_in", counterparty=999, cp_flags=CP_ESCORT_EMT),
        ],
        {},
        [0, 0, 0],
    ),
    (
        "PP-18",
        "an internal transfer out counts as onward",
        [
            _escort(_at(0), 401),
            _escort(_at(1), 402),
            _row(_at(2), "transfer_out", counterparty=999, cp_flags=CP_ESCORT_EMT),
        ],
        {},
        [0, 0, 1],
    ),
    (
        "PP-18",
        "a credit one second inside the window counts, exactly window_days old not",
        [
            _escort(_at(0), 401),
            _escort(_at(1), 402),
            _onward(_at(30) - 1, CP_ESCORT_EMT),
            _onward(_at(30), CP_ESCORT_EMT),
        ],
        {},
        [0, 0, 1, 0],
    ),
    (
        "PP-18",
        "an attempted onward transfer is ignored",
        [_escort(_at(0), 401), _escort(_at(1), 402), _onward(_at(2), CP_ESCORT_EMT, attempted=1)],
        {},
        [0, 0, 0],
    ),
    (
        "PP-18",
        "the collector branch: an attempted transfer does not pass the money on",
        [_onward(_at(0), attempted=1), *(_escort(_at(1 + k), 401 + k % 3) for k in range(5))],
        {},
        [0] * 6,
    ),
    (
        "PP-22",
        "a share exactly min_share fires",
        [
            _row(_at(0), "eft_in", 400.0, counterparty=401),
            _funded(_at(1), 300.0),
            _funded(_at(2), 300.0),
        ],
        {},
        [0, 0, 1],
    ),
    (
        "PP-22",
        "funded exactly min_total fires, a quarter less does not",
        [
            _funded(_at(0), 100.0),
            _funded(_at(1), 99.75),
            _funded(_at(2), 0.25, cust=0),
            _funded(_at(3), 100.0, cust=1),
            _funded(_at(4), 99.75, cust=1),
        ],
        {},
        [0, 0, 1, 0, 0],
    ),
    (
        "PP-22",
        "the flag must be on the credit that fires",
        [
            _funded(_at(0), 300.0, cp_flags=0),
            _funded(_at(1), 300.0, cp_flags=CP_ALERTED),
            _funded(_at(2), 300.0),
        ],
        {},
        [0, 0, 1],
    ),
    (
        "PP-22",
        "cash deposits and EFTs count in the total, never as the funder",
        [
            _row(_at(0), "eft_in", 300.0, counterparty=FUNDER, cp_flags=CP_ADV_LODGE),
            _row(_at(1), "cash_deposit", 300.0, counterparty=FUNDER, cp_flags=CP_ADV_LODGE),
            _funded(_at(2), 300.0),
            _funded(_at(3), 300.0),
        ],
        {"min_share": 0.5},
        [0, 0, 0, 1],
    ),
    (
        "PP-22",
        "a credit exactly window_days old is outside",
        [_funded(_at(0), 150.0), _funded(_at(30), 150.0), _funded(_at(31) - 1, 150.0)],
        {},
        [0, 0, 1],
    ),
    (
        "PP-22",
        "NaN amounts are skipped, even from the funder",
        [
            _funded(_at(0), float("nan")),
            _funded(_at(1), 300.0),
            _row(_at(2), "eft_in", float("nan")),
            _funded(_at(3), 300.0),
        ],
        {},
        [0, 0, 0, 1],
    ),
    (
        "PP-22",
        "money sent to the funder is not a credit",
        [
            _row(_at(0), "emt_out", 300.0, counterparty=FUNDER, cp_flags=CP_ADV_LODGE),
            _funded(_at(1), 300.0),
        ],
        {},
        [0, 0],
    ),
]


@pytest.mark.parametrize(
    ("spec_id", "name", "rows", "overrides", "expected"),
    EDGE_CASES,
    ids=[f"{c[0]}-{c[1]}" for c in EDGE_CASES],
)
def test_edge_case(spec_id, name, rows, overrides, expected) -> None:
    spec = registry.get(spec_id)
    columns = columns_from_rows(rows)
    params = spec.resolve_params(overrides)
    out = assert_matches_oracle(spec_id, columns, params, ORACLES[spec_id])
    assert out.fired.tolist() == expected, name


def test_pp18_network_evidence_is_the_onward_transfer_then_the_newest_credits() -> None:
    # Ten credits, the last at the same time as the onward transfer and with a larger ref
    # (which newest-first order would put first): the transfer still comes first, then the
    # seven newest credits.
    rows = [_escort(_at(k), 401 + k) for k in range(9)] + [
        {**_escort(_at(10), 410), "seq": 200},
        {**_onward(_at(10), CP_ESCORT_EMT), "seq": 100},
    ]
    spec = registry.get("PP-18")
    out, _, _ = run(spec, columns_from_rows(rows), spec.resolve_params())
    assert out.fired[10] == 1 and out.observed[10] == 10
    assert evidence_refs(out.evidence[10]) == [100, 200, 8, 7, 6, 5, 4, 3]


def test_pp22_observed_is_the_funders_share() -> None:
    rows = [
        _row(_at(0), "cash_deposit", 100.0),
        _row(_at(1), "wire_in", 300.0, counterparty=402),
        _funded(_at(2), 200.0),
        _funded(_at(3), 400.0),
    ]
    spec = registry.get("PP-22")
    out, _, _ = run(spec, columns_from_rows(rows), spec.resolve_params({"min_share": 0.3}))
    assert out.fired.tolist() == [0, 0, 0, 1]
    assert out.observed[3] == 0.6
    assert evidence_refs(out.evidence[3]) == [3, 2]
