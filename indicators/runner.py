"""Run one indicator's kernel over a batch of columns: the only place arguments are assembled.

Both the engine and the tests go through :func:`run_indicator`, so the calling convention
in :mod:`indicators.spec` is implemented exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from indicators.columns import EVIDENCE_SLOTS
from indicators.registry import bit_values
from indicators.spec import IndicatorSpec


@dataclass
class KernelOutput:
    """Per-row results of one kernel over one batch."""

    fired: np.ndarray  # uint8[n]
    observed: np.ndarray  # float64[n], meaningful where fired
    evidence: np.ndarray  # int64[n, EVIDENCE_SLOTS], meaningful where fired

    @classmethod
    def empty(cls, n: int) -> KernelOutput:
        return cls(
            fired=np.zeros(n, dtype=np.uint8),
            observed=np.zeros(n, dtype=np.float64),
            evidence=np.empty((n, EVIDENCE_SLOTS), dtype=np.int64),
        )


def run_indicator(
    spec: IndicatorSpec,
    columns: Mapping[str, np.ndarray],
    state: Mapping[str, np.ndarray],
    params: Mapping[str, float | int],
    touched: np.ndarray,
    out: KernelOutput | None = None,
) -> KernelOutput:
    """Call ``spec.kernel`` on ``columns`` (batch and profile columns by name).

    ``state`` arrays are updated in place; ``touched`` (uint8[n]) is OR-ed with the rows the
    kernel kept in its state.
    """
    n = len(columns["cust"])
    out = out if out is not None else KernelOutput.empty(n)
    args: list[np.ndarray | float] = [columns[name] for name in spec.inputs]
    args += [state[s.name] for s in spec.state]
    args += [params[p.name] for p in spec.params]
    args += bit_values(spec)
    spec.kernel(*args, out.fired, out.observed, out.evidence, touched)
    return out
