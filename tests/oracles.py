"""What every kernel oracle shares (STYLE item 13); the oracles themselves live with their
family's tests in ``tests/rules/``.

Each oracle reads the same column arrays as its kernel but keeps unbounded per-customer
Python lists and recomputes every window with a plain loop. It returns one
:class:`OracleRow` per input row: whether the rule fires, the observed value of its
threshold parameter, and the *candidate* evidence: every ``(ts, ref)`` event in the window
the rule reports on. The kernel keeps only the ``EVIDENCE_SLOTS`` most recent of them
(newest first, ties by larger ref), which :func:`newest_refs` computes.

While a customer has fewer relevant events than a kernel's ring / table capacity, the
bounded kernel and the unbounded oracle must agree exactly; the strategies keep it so.

Semantics shared by every oracle: rows are taken in order; ``attempted`` rows are ignored;
a window of width ``w`` ending at ``t`` covers ``(t - w, t]``; day-bucket windows of ``n``
days ending on local day ``d`` cover local days ``d - n + 1 .. d``; NaN amounts and
balances are unknown and skipped by amount logic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from indicators.columns import CASH_DEPOSIT, EFT_IN, EMT_IN, EVIDENCE_SLOTS, TRANSFER_IN, WIRE_IN

Event = tuple[int, int]  # (ts, ref)


@dataclass(frozen=True)
class OracleRow:
    fired: bool = False
    observed: float = 0.0
    evidence: frozenset[Event] = field(default_factory=frozenset)


NOT_FIRED = OracleRow()


def newest_refs(events: frozenset[Event], slots: int = EVIDENCE_SLOTS) -> list[int]:
    """Refs of the ``slots`` most recent events, newest first (ties: larger ref first)."""
    return [ref for _, ref in sorted(events, reverse=True)[:slots]]


def in_window(t_event: int, t: int, width: int) -> bool:
    return t - width < t_event <= t


def _rows(columns: Mapping[str, np.ndarray], *names: str) -> list[tuple]:
    """Row tuples of plain Python values (ints, floats) for the named columns."""
    return list(zip(*(np.asarray(columns[n]).tolist() for n in names), strict=True))


def _known(x: float) -> bool:
    return not math.isnan(x)


# ---------------------------------------------------------------------------------- PP-01


# Credit types several families' oracles share.
_THIRD_PARTY_TYPES = (EMT_IN, TRANSFER_IN, WIRE_IN)
_CREDIT_TYPES = (CASH_DEPOSIT, EMT_IN, TRANSFER_IN, WIRE_IN, EFT_IN)
