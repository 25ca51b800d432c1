"""Shared helpers for the kernel tests: which kernels are covered, and how to run one."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from indicators import registry
from indicators.columns import BATCH_COLUMNS
from indicators.runner import KernelOutput, run_indicator
from indicators.spec import IndicatorSpec

KERNEL_IDS = ("PP-01", "PP-04", "PP-12", "PP-13", "PP-16", "PP-17")


def run(spec: IndicatorSpec, columns: Mapping[str, np.ndarray], params: Mapping[str, float],
        state: dict[str, np.ndarray] | None = None
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
    return {name: (col[start:stop] if name in BATCH_COLUMNS else col)
            for name, col in columns.items()}
