"""PP-18 (EMT collector) at its edges: what must and must not count, window expiry, chunks."""

from __future__ import annotations

import numpy as np

from indicators import registry
from indicators.columns import DAY, TXN_CODE
from tests.bits import REF_BRACKET_ALIAS, REF_ESCORT_MEMO
from tests.kernel_harness import chunk, evidence_refs, run
from tests.strategies import T0, columns_from_rows

SPEC = registry.get("PP-18")
PARAMS = SPEC.resolve_params()
EMT_IN, EMT_OUT = TXN_CODE["emt_in"], TXN_CODE["emt_out"]


def escort_in(day: float, sender: int, **extra) -> dict:
    return {
        "ts": T0 + int(day * DAY),
        "txn_type": EMT_IN,
        "counterparty": sender,
        "ref_flags": REF_ESCORT_MEMO,
        "amount": 120.0,
        **extra,
    }


def forward(day: float) -> dict:
    return {"ts": T0 + int(day * DAY), "txn_type": EMT_OUT, "counterparty": 999, "amount": 500.0}


def test_collects_from_several_senders_and_passes_on():
    rows = [forward(0)] + [escort_in(1 + i, 401 + i % 3) for i in range(5)]
    out, _, _ = run(SPEC, columns_from_rows(rows), PARAMS)
    assert out.fired.tolist() == [0, 0, 0, 0, 0, 1]
    assert out.observed[-1] == 5
    assert evidence_refs(out.evidence[-1]) == [5, 4, 3, 2, 1]


def test_needs_the_money_passed_on_and_several_senders():
    kept = [escort_in(1 + i, 401 + i % 3) for i in range(6)]
    out, _, _ = run(SPEC, columns_from_rows(kept), PARAMS)
    assert not out.fired.any(), "never forwarded: not the collector pattern"
    one_sender = [forward(0)] + [escort_in(1 + i, 401) for i in range(6)]
    out, _, _ = run(SPEC, columns_from_rows(one_sender), PARAMS)
    assert not out.fired.any(), "one regular sender is not fan-in"


def test_window_expiry_and_attempted_rows():
    old = [forward(0)] + [escort_in(1 + i, 401 + i) for i in range(4)]
    late = [escort_in(40, 405)]  # 39 days after the others: outside the 30-day window
    out, _, _ = run(SPEC, columns_from_rows(old + late), PARAMS)
    assert not out.fired.any()
    attempted = [forward(0)] + [escort_in(1 + i, 401 + i, attempted=1) for i in range(6)]
    out, _, _ = run(SPEC, columns_from_rows(attempted), PARAMS)
    assert not out.fired.any()


def test_bracketed_aliases_fire_on_the_second():
    rows = [
        {
            "ts": T0 + k * DAY,
            "txn_type": EMT_OUT,
            "counterparty": 7,
            "ref_flags": REF_BRACKET_ALIAS,
            "amount": 80.0,
        }
        for k in range(3)
    ]
    out, _, _ = run(SPEC, columns_from_rows(rows), PARAMS)
    assert out.fired.tolist() == [0, 1, 1]


def test_one_row_chunks_equal_one_batch():
    rows = [forward(0)] + [escort_in(1 + i * 0.5, 401 + i % 4) for i in range(12)]
    columns = columns_from_rows(rows)
    whole, _, whole_state = run(SPEC, columns, PARAMS)
    state = registry.allocate_state(SPEC, 1)
    fired = []
    for i in range(len(rows)):
        out, _, state = run(SPEC, chunk(columns, i, i + 1), PARAMS, state)
        fired.append(int(out.fired[0]))
    assert fired == whole.fired.tolist()
    for name, array in whole_state.items():
        np.testing.assert_array_equal(state[name], array)
