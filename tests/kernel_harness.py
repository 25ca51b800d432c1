"""Shared machinery for the kernel tests: which kernels are covered, how to run one, and the
checks every kernel group repeats (kernel against oracle, chunk invariance, saturation).

Each ``test_kernel*`` module keeps only what is specific to its rules: its oracle table, its
strategies, its scenarios and edge cases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise

import numpy as np
from hypothesis import HealthCheck, event, settings, target

from indicators import registry
from indicators.columns import BATCH_COLUMNS, DAY, EVIDENCE_SLOTS
from indicators.runner import KernelOutput, run_indicator
from indicators.spec import IndicatorSpec
from tests.oracles import OracleRow, newest_refs
from tests.strategies import HOUR, T0, columns_from_rows

KERNEL_IDS = ("PP-01", "PP-04", "PP-12", "PP-13", "PP-16", "PP-17")

Oracle = Callable[[Mapping[str, np.ndarray], Mapping[str, float]], Sequence[OracleRow]]


def kernel_settings(max_examples: int = 100) -> settings:
    """Hypothesis settings for the kernel property tests (reproducible, no deadline)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


KERNEL_SETTINGS = kernel_settings()


def run(
    spec: IndicatorSpec,
    columns: Mapping[str, np.ndarray],
    params: Mapping[str, float],
    state: dict[str, np.ndarray] | None = None,
) -> tuple[KernelOutput, np.ndarray, dict[str, np.ndarray]]:
    """Run ``spec``'s kernel over ``columns`` (fresh state unless given)."""
    if state is None:
        state = registry.allocate_state(spec, len(columns["home_city"]))
    touched = np.zeros(len(columns["cust"]), dtype=np.uint8)
    out = run_indicator(spec, columns, state, params, touched)
    return out, touched, state


def evidence_refs(row: np.ndarray) -> list[int]:
    """The refs an evidence row holds, in order; asserts the unused tail is all -1."""
    refs = row.tolist()
    k = refs.index(-1) if -1 in refs else len(refs)
    assert all(r == -1 for r in refs[k:]), f"evidence has a gap: {refs}"
    return refs[:k]


def chunk(columns: Mapping[str, np.ndarray], start: int, stop: int) -> dict[str, np.ndarray]:
    """Rows ``start:stop`` of the batch columns; profile columns (per customer) unchanged."""
    return {
        name: (col[start:stop] if name in BATCH_COLUMNS else col) for name, col in columns.items()
    }


def at(day: float, hour: float = 12.0) -> int:
    """Event time ``day`` days after T0 at local ``hour`` (the scenarios' offset is -05:00)."""
    local_midnight = (T0 - 5 * HOUR) // DAY * DAY
    return int(local_midnight + day * DAY + hour * HOUR + 5 * HOUR)


def assert_matches_oracle(
    spec_id: str, columns: Mapping[str, np.ndarray], params: Mapping[str, float], oracle: Oracle
) -> KernelOutput:
    """Run kernel and ``oracle``; compare every row. Returns the kernel's output.

    Where the oracle fires, the kernel must fire with the same observed value and the same
    evidence: the oracle's newest refs, newest first, all of them rows the kernel touched.
    """
    spec = registry.get(spec_id)
    out, touched, _ = run(spec, columns, params)
    expected = oracle(columns, params)
    seq = columns["seq"]
    touched_refs = set(seq[touched == 1].tolist())
    assert len(expected) == len(seq)
    for i, exp in enumerate(expected):
        where = f"{spec_id} row {i} (seq {seq[i]}, params {params})"
        assert bool(out.fired[i]) == exp.fired, f"{where}: fired {out.fired[i]}, oracle {exp}"
        if not exp.fired:
            continue
        assert out.observed[i] == exp.observed, f"{where}: observed {out.observed[i]}, {exp}"
        got = evidence_refs(out.evidence[i])
        want = newest_refs(exp.evidence)
        assert set(got) == set(want), f"{where}: evidence {got}, expected {want}"
        assert got == want, f"{where}: evidence not newest first: {got}, expected {want}"
        assert set(got) <= touched_refs, f"{where}: evidence {got} has refs never touched"
    return out


def note_firing(out: KernelOutput) -> None:
    """Hypothesis statistics for a property example, steering towards batches that fire."""
    fired = out.fired == 1
    target(float(fired.sum()), label="fired rows")
    event("fires" if fired.any() else "does not fire")
    if (out.evidence[fired] != -1).all(axis=1).any():
        event("evidence slots full")  # more events in the window than evidence slots


def assert_chunk_invariant(
    spec: IndicatorSpec,
    columns: Mapping[str, np.ndarray],
    params: Mapping[str, float],
    bounds: Sequence[int],
) -> None:
    """One batch == the same rows in chunks ``bounds`` with the state carried between them,
    as the engine carries it between Kafka batches: the same fired, observed, evidence (where
    fired) and touched rows, and the same final state."""
    whole, whole_touched, whole_state = run(spec, columns, params)

    state = registry.allocate_state(spec, len(columns["home_city"]))
    fired, observed, evidence, touched = [], [], [], []
    for start, stop in pairwise(bounds):
        out, t, _ = run(spec, chunk(columns, start, stop), params, state)
        fired.append(out.fired)
        observed.append(out.observed)
        evidence.append(out.evidence)
        touched.append(t)
    np.testing.assert_array_equal(np.concatenate(fired), whole.fired)
    np.testing.assert_array_equal(np.concatenate(observed), whole.observed)
    mask = whole.fired == 1  # evidence rows are only written where the rule fires
    np.testing.assert_array_equal(np.concatenate(evidence)[mask], whole.evidence[mask])
    np.testing.assert_array_equal(np.concatenate(touched), whole_touched)
    for name, array in whole_state.items():
        np.testing.assert_array_equal(state[name], array, err_msg=f"state {name!r}")


def assert_empty_batch_fires_nothing(spec: IndicatorSpec) -> None:
    """An empty batch runs, fires nothing and touches nothing."""
    out, touched, _ = run(spec, columns_from_rows([]), spec.resolve_params())
    assert out.fired.shape == (0,) and touched.shape == (0,)


def assert_saturation_fires(
    spec: IndicatorSpec,
    columns: Mapping[str, np.ndarray],
    oracle: Oracle,
    label: str,
    *,
    reaches_threshold: bool = True,
    newest_evidence: bool = True,
) -> None:
    """Far above ring capacity, with default params, the kernel still fires on the last row
    where the unbounded ``oracle`` does: never reporting more than the oracle, reaching the
    threshold when the oracle does (``reaches_threshold``), with evidence the oracle's and
    as many refs as it allows, the newest first (``newest_evidence``)."""
    params = spec.resolve_params()
    out, _, _ = run(spec, columns, params)
    expected = oracle(columns, params)[-1]
    assert expected.fired, "scenario must fire by the unbounded oracle"
    assert out.fired[-1] == 1, f"{label}: saturated kernel did not fire"
    threshold = params[spec.threshold_param]
    assert out.observed[-1] <= expected.observed
    if reaches_threshold and expected.observed >= threshold:
        assert out.observed[-1] >= threshold  # counts may saturate, not fall below
    got = evidence_refs(out.evidence[-1])
    assert len(got) == min(EVIDENCE_SLOTS, len(expected.evidence))
    assert set(got) <= {r for _, r in expected.evidence}
    if newest_evidence:
        assert got == newest_refs(expected.evidence)
