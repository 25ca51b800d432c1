"""The FUNNEL kernels that read ``cp_flags`` (PP-18, PP-22) against their oracles, in
chunks, under saturation and at exact boundaries.

Below ring capacity a bounded kernel must agree with its unbounded oracle exactly: the same
rows fire, with the same observed value and the same evidence (newest first; for PP-18's
network branch the onward transfer first). One batch must give the same outputs and end
state as the same rows in k chunks. Far above capacity a kernel must still fire.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from indicators import registry
from indicators.columns import BATCH_COLUMNS, PROFILE_COLUMNS, TXN_CODE
from indicators.runner import KernelOutput
from tests.bits import CP_ADV_LODGE, CP_ALERTED, CP_ESCORT_EMT, REF_BRACKET_ALIAS, REF_ESCORT_MEMO
from tests.kernel_harness import (
    assert_chunk_invariant,
    assert_empty_batch_fires_nothing,
    assert_matches_oracle,
    assert_saturation_fires,
    evidence_refs,
    kernel_settings,
    note_firing,
    run,
)
from tests.kernel_harness import at as _at
from tests.oracles_funnel import ORACLES
from tests.strategies import batches, chunk_bounds, columns_from_rows, params_for
from tests.strategies_adv_travel import adv_travel_batches
from tests.strategies_funnel import GROUP_IDS, funnel_batches
from tests.strategies_lifestyle import lifestyle_batches
from tests.strategies_rails import rails_batches

SETTINGS = kernel_settings(max_examples=60)
# Against the oracle, more examples: each rule has three (PP-18) or four (PP-22) conditions
# that must hold on the same row, so a given branch fires in fewer examples.
ORACLE_SETTINGS = kernel_settings(max_examples=150)

_T = TXN_CODE
_ONWARD = (_T["emt_out"], _T["transfer_out"])
_ESCORT_TYPES = (_T["emt_in"], _T["transfer_in"])  # with REF_ESCORT_MEMO: escort credits


def assert_onward_first(columns: Mapping[str, np.ndarray], params: Mapping[str, float],
                        out: KernelOutput) -> None:
    """PP-18's network branch (an onward transfer to a collector, after enough escort
    credits) reports the onward transfer itself as its first evidence ref."""
    network = (np.isin(columns["txn_type"], _ONWARD)
               & (columns["cp_flags"] & CP_ESCORT_EMT != 0)
               & (out.fired == 1) & (out.observed >= params["min_network_emts"]))
    for i in np.flatnonzero(network):
        event("PP-18 network branch fires")
        got = evidence_refs(out.evidence[i])
        assert got[0] == columns["seq"][i], f"row {i}: evidence {got} does not start with it"


# The thresholds :func:`on_threshold` moves onto a row.
ON_THRESHOLD = {
    "PP-18": ("min_escort_emts", "min_network_emts", "min_senders"),
    "PP-22": ("min_share", "min_credits", "min_total"),
}


def on_threshold(spec_id: str, columns: Mapping[str, np.ndarray], params: dict[str, float],
                 data: st.DataObject) -> dict[str, float]:
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
        escort_credit = (np.isin(columns["txn_type"], _ESCORT_TYPES)
                         & (columns["ref_flags"] & REF_ESCORT_MEMO != 0))
        sender = dict(zip(columns["seq"].tolist(),
                          np.where(escort_credit, columns["counterparty"], 0).tolist(),
                          strict=True))
        moved["min_senders"] = max(1, len({sender[ref] for _, ref in row.evidence} - {0}))
    else:
        amount = dict(zip(columns["seq"].tolist(), columns["amount"].tolist(), strict=True))
        moved = {"min_share": row.observed, "min_credits": len(row.evidence),
                 "min_total": sum(amount[ref] for _, ref in row.evidence)}
    event("thresholds on a row")
    return spec.resolve_params({**params, **moved})


@pytest.mark.parametrize("spec_id", GROUP_IDS)
@ORACLE_SETTINGS
@given(data=st.data())
def test_kernel_matches_oracle(spec_id: str, data: st.DataObject) -> None:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    params = data.draw(params_for(spec), label="params")
    columns = data.draw(funnel_batches(spec_id, dense=dense, window_days=params["window_days"]),
                        label="columns")
    if data.draw(st.booleans(), label="thresholds on a row"):
        params = on_threshold(spec_id, columns, params, data)
    out = assert_matches_oracle(spec_id, columns, params, ORACLES[spec_id])
    if spec_id == "PP-18":
        assert_onward_first(columns, params, out)
    note_firing(out)


@pytest.mark.parametrize("spec_id", GROUP_IDS)
@SETTINGS
@given(data=st.data())
def test_chunked_run_equals_whole_run(spec_id: str, data: st.DataObject) -> None:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    params = data.draw(params_for(spec), label="params")
    # Up to 40 rows per customer and no bound on escort or alias rows: the rings overflow.
    columns = data.draw(funnel_batches(spec_id, dense=dense, max_per_customer=40,
                                       within_rings=False, window_days=params["window_days"]),
                        label="columns")
    bounds = data.draw(chunk_bounds(len(columns["cust"])), label="chunk bounds")
    assert_chunk_invariant(spec, columns, params, bounds)


@pytest.mark.parametrize("spec_id", GROUP_IDS)
def test_empty_batch_fires_nothing(spec_id: str) -> None:
    assert_empty_batch_fires_nothing(registry.get(spec_id))


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
        lambda: [r for k in range(25) for r in (
            _row(_at(k, 9.0), "eft_in", 100.0, counterparty=401),
            *(_funded(_at(k, 10.0 + h)) for h in range(3)))],
    ],
}


@pytest.mark.parametrize(
    ("spec_id", "k"), [(i, k) for i in GROUP_IDS for k in range(len(SATURATION[i]))],
    ids=[f"{i}-{k}" for i in GROUP_IDS for k in range(len(SATURATION[i]))],
)
def test_saturation_never_hides_a_threshold(spec_id: str, k: int) -> None:
    assert_saturation_fires(registry.get(spec_id), columns_from_rows(SATURATION[spec_id][k]()),
                            ORACLES[spec_id], f"{spec_id} scenario {k}")


# --------------------------------------------------------------------------- edge cases
# Exact boundaries the random search reaches only rarely. Each case states the expected
# fired rows and is also checked against the oracle.

EDGE_CASES = [
    ("PP-18", "an onward transfer to a collector after min_network_emts escort credits",
     [_escort(_at(0), 401), _escort(_at(1), 402), _onward(_at(2), CP_ESCORT_EMT)], {},
     [0, 0, 1]),
    ("PP-18", "one escort credit short of min_network_emts",
     [_escort(_at(0), 401), _onward(_at(2), CP_ESCORT_EMT)], {}, [0, 0]),
    ("PP-18", "escort credits without a sender count for the network branch",
     [_escort(_at(0), 0), _escort(_at(1), 0), _onward(_at(2), CP_ESCORT_EMT | CP_ALERTED)],
     {}, [0, 0, 1]),
    ("PP-18", "other party signals are not a collector",
     [_escort(_at(0), 401), _escort(_at(1), 402), _onward(_at(2), CP_ADV_LODGE | CP_ALERTED)],
     {}, [0, 0, 0]),
    ("PP-18", "a credit from a collector is not an onward transfer",
     [_escort(_at(0), 401), _escort(_at(1), 402),
      _row(_at(2), "emt_in", counterparty=999, cp_flags=CP_ESCORT_EMT)], {}, [0, 0, 0]),
    ("PP-18", "an internal transfer out counts as onward",
     [_escort(_at(0), 401), _escort(_at(1), 402),
      _row(_at(2), "transfer_out", counterparty=999, cp_flags=CP_ESCORT_EMT)], {}, [0, 0, 1]),
    ("PP-18", "a credit one second inside the window counts, exactly window_days old not",
     [_escort(_at(0), 401), _escort(_at(1), 402), _onward(_at(30) - 1, CP_ESCORT_EMT),
      _onward(_at(30), CP_ESCORT_EMT)], {}, [0, 0, 1, 0]),
    ("PP-18", "an attempted onward transfer is ignored",
     [_escort(_at(0), 401), _escort(_at(1), 402),
      _onward(_at(2), CP_ESCORT_EMT, attempted=1)], {}, [0, 0, 0]),
    ("PP-18", "the collector branch: an attempted transfer does not pass the money on",
     [_onward(_at(0), attempted=1), *(_escort(_at(1 + k), 401 + k % 3) for k in range(5))],
     {}, [0] * 6),
    ("PP-22", "a share exactly min_share fires",
     [_row(_at(0), "eft_in", 400.0, counterparty=401), _funded(_at(1), 300.0),
      _funded(_at(2), 300.0)], {}, [0, 0, 1]),
    ("PP-22", "funded exactly min_total fires, a quarter less does not",
     [_funded(_at(0), 100.0), _funded(_at(1), 99.75), _funded(_at(2), 0.25, cust=0),
      _funded(_at(3), 100.0, cust=1), _funded(_at(4), 99.75, cust=1)], {}, [0, 0, 1, 0, 0]),
    ("PP-22", "the flag must be on the credit that fires",
     [_funded(_at(0), 300.0, cp_flags=0), _funded(_at(1), 300.0, cp_flags=CP_ALERTED),
      _funded(_at(2), 300.0)], {}, [0, 0, 1]),
    ("PP-22", "cash deposits and EFTs count in the total, never as the funder",
     [_row(_at(0), "eft_in", 300.0, counterparty=FUNDER, cp_flags=CP_ADV_LODGE),
      _row(_at(1), "cash_deposit", 300.0, counterparty=FUNDER, cp_flags=CP_ADV_LODGE),
      _funded(_at(2), 300.0), _funded(_at(3), 300.0)], {"min_share": 0.5}, [0, 0, 0, 1]),
    ("PP-22", "a credit exactly window_days old is outside",
     [_funded(_at(0), 150.0), _funded(_at(30), 150.0), _funded(_at(31) - 1, 150.0)], {},
     [0, 0, 1]),
    ("PP-22", "NaN amounts are skipped, even from the funder",
     [_funded(_at(0), float("nan")), _funded(_at(1), 300.0),
      _row(_at(2), "eft_in", float("nan")), _funded(_at(3), 300.0)], {}, [0, 0, 0, 1]),
    ("PP-22", "money sent to the funder is not a credit",
     [_row(_at(0), "emt_out", 300.0, counterparty=FUNDER, cp_flags=CP_ADV_LODGE),
      _funded(_at(1), 300.0)], {}, [0, 0]),
]


@pytest.mark.parametrize(
    ("spec_id", "name", "rows", "overrides", "expected"), EDGE_CASES,
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
    rows = [_row(_at(0), "cash_deposit", 100.0), _row(_at(1), "wire_in", 300.0, counterparty=402),
            _funded(_at(2), 200.0), _funded(_at(3), 400.0)]
    spec = registry.get("PP-22")
    out, _, _ = run(spec, columns_from_rows(rows), spec.resolve_params({"min_share": 0.3}))
    assert out.fired.tolist() == [0, 0, 0, 1]
    assert out.observed[3] == 0.6
    assert evidence_refs(out.evidence[3]) == [3, 2]
