"""Same answer in batch and stream: one batch of N rows == the same rows in k chunks.

State is carried between chunks exactly as the engine carries it between Kafka batches.
Batches here go well above ring capacities, so eviction paths are covered too.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators import registry
from tests.kernel_harness import KERNEL_IDS, chunk, run
from tests.strategies import batches, chunk_bounds, params_for

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("spec_id", KERNEL_IDS)
@SETTINGS
@given(data=st.data())
def test_chunked_run_equals_whole_run(spec_id: str, data: st.DataObject) -> None:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    columns = data.draw(batches(focus=spec_id, dense=dense, max_per_customer=40), label="columns")
    params = data.draw(params_for(spec), label="params")
    n = len(columns["cust"])
    bounds = data.draw(chunk_bounds(n), label="chunk bounds")

    whole, whole_touched, whole_state = run(spec, columns, params)

    state = registry.allocate_state(spec, len(columns["home_city"]))
    fired, observed, evidence, touched = [], [], [], []
    for start, stop in pairwise(bounds):
        out, t, _ = run(spec, chunk(columns, start, stop), params, state)
        fired.append(out.fired)
        observed.append(out.observed)
        evidence.append(out.evidence)
        touched.append(t)
    fired_c = np.concatenate(fired)
    np.testing.assert_array_equal(fired_c, whole.fired)
    np.testing.assert_array_equal(np.concatenate(observed), whole.observed)
    mask = whole.fired == 1  # evidence rows are only written where the rule fires
    np.testing.assert_array_equal(np.concatenate(evidence)[mask], whole.evidence[mask])
    np.testing.assert_array_equal(np.concatenate(touched), whole_touched)
    for name, array in whole_state.items():
        np.testing.assert_array_equal(state[name], array, err_msg=f"state {name!r}")
