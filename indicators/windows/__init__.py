"""Bounded per-customer event-time windows that kernels share.

Three shapes cover the catalogue, each a fixed number of slots per customer, so state
never grows with a customer's activity (the design's bound on bytes per customer):

* :mod:`~indicators.windows.ring`: the most recent relevant events ``(ts, ref)``; counts,
  sums and FIFO matching in a window. When full, the oldest slot is reused.
* :mod:`~indicators.windows.keyed`: the last time each distinct key was seen (senders,
  cities, locations); distinct counts in a window. When full, the least recently seen key
  is replaced.
* :mod:`~indicators.windows.days`: sums per local day in a circular buffer; window sums at
  day granularity.

:mod:`~indicators.windows.evidence` picks the newest entries of any of them (or of a
scratch list) for an alert. A window ending at ``t`` covers ``(t - width, t]``; slots with
``ts == EMPTY_TS`` are free. Helpers are inlined into kernels; none allocates.
"""

from indicators.windows.days import bucket_add, bucket_days_at_least, bucket_sum
from indicators.windows.evidence import (
    LATEST,
    evidence_selector,
    listed,
    select_evidence,
    select_evidence_tag_in,
    select_evidence_tag_is,
    select_evidence_tag_is_not,
    tagged_window,
    window,
)
from indicators.windows.keyed import keyed2_touch, keyed_distinct, keyed_last, keyed_touch
from indicators.windows.ring import (
    drain_oldest_eq,
    ring_count,
    ring_count_eq,
    ring_count_except,
    ring_count_where,
    ring_distinct,
    ring_insert,
    ring_insert_latest,
    ring_oldest,
    ring_oldest_eq,
    ring_sum,
    ring_sum_eq,
)

__all__ = [
    "LATEST",
    "bucket_add",
    "bucket_days_at_least",
    "bucket_sum",
    "drain_oldest_eq",
    "evidence_selector",
    "keyed2_touch",
    "keyed_distinct",
    "keyed_last",
    "keyed_touch",
    "listed",
    "ring_count",
    "ring_count_eq",
    "ring_count_except",
    "ring_count_where",
    "ring_distinct",
    "ring_insert",
    "ring_insert_latest",
    "ring_oldest",
    "ring_oldest_eq",
    "ring_sum",
    "ring_sum_eq",
    "select_evidence",
    "select_evidence_tag_in",
    "select_evidence_tag_is",
    "select_evidence_tag_is_not",
    "tagged_window",
    "window",
]
