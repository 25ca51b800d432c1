"""Work done once per distinct value of a batch, not once per row.

Identifier hashes and reference-list matches depend only on a row's values, and values
repeat heavily in a batch (cities, merchants, counterparties, a customer's own account), so
the work is done on the distinct rows and spread back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import polars as pl


def per_distinct(frame: pl.DataFrame, names: Sequence[str], fn: Callable[..., int]) -> np.ndarray:
    """``fn(*row)`` (an int64) for each row of ``frame[names]``, computed once per distinct row."""

    def each(distinct: pl.DataFrame) -> np.ndarray:
        if distinct.width == 1:
            values = [fn(v) for v in distinct.to_series().to_list()]
        else:
            values = [fn(*row) for row in distinct.iter_rows()]
        return np.array(values, dtype=np.int64)

    return by_distinct(frame, names, each)


def by_distinct(
    frame: pl.DataFrame, names: Sequence[str], compute: Callable[[pl.DataFrame], np.ndarray]
) -> np.ndarray:
    """``compute`` over the distinct rows of ``frame[names]``, spread back to every row.

    One ``group_by`` that keeps each group's row numbers, then a scatter: measured on a
    65,536-row batch of the bank workload, 1.4-2x faster than ``unique`` plus a join back.
    """
    groups = frame.select(names).with_row_index("_row").group_by(names).agg("_row")
    values = compute(groups.select(names))
    out = np.empty(frame.height, dtype=values.dtype)
    rows = groups["_row"]
    out[rows.explode().to_numpy()] = np.repeat(values, rows.list.len().to_numpy())
    return out
