"""Same answer in batch and stream: one batch of N rows == the same rows in k chunks.

State is carried between chunks exactly as the engine carries it between Kafka batches.
Batches here go well above ring capacities, so eviction paths are covered too.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicators import registry
from tests.kernel_harness import KERNEL_IDS, KERNEL_SETTINGS, assert_chunk_invariant
from tests.strategies import batches, chunk_bounds, params_for


@pytest.mark.parametrize("spec_id", KERNEL_IDS)
@KERNEL_SETTINGS
@given(data=st.data())
def test_chunked_run_equals_whole_run(spec_id: str, data: st.DataObject) -> None:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    columns = data.draw(batches(focus=spec_id, dense=dense, max_per_customer=40), label="columns")
    params = data.draw(params_for(spec), label="params")
    n = len(columns["cust"])
    bounds = data.draw(chunk_bounds(n), label="chunk bounds")
    assert_chunk_invariant(spec, columns, params, bounds)
