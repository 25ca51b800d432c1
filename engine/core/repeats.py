"""A transaction delivered twice counts once: a bounded memory of each customer's recent ids.

Producers retry, and an at-least-once pipeline upstream of the engine can send the same
transaction again; counting it twice would inflate every velocity and volume rule and
change alerts. Each customer keeps the hashes (``txn_key``, the stable hash of
``txn_id``) of its last :data:`RECENT_TXNS` transactions in a ring; a row whose hash is in
its customer's ring is a repeat. Rows are checked in input order and each is remembered
before the next is checked, so a repeat inside one batch is found too, and the result does
not depend on where batches are cut. The ring is part of the partition's state
(checkpointed with it), so a repeat is still recognised after a restart.

A re-delivery older than the customer's last 32 transactions is not recognised: retries
arrive within seconds, and a bounded memory is what keeps state per customer small
(32 x 8 bytes + 1).
"""

from __future__ import annotations

import numpy as np

from indicators.jit import kernel

RECENT_TXNS = 32


@kernel
def _mark_repeats(
    cust: np.ndarray, key: np.ndarray, ring: np.ndarray, head: np.ndarray, out: np.ndarray
) -> None:
    size = ring.shape[1]
    for i in range(cust.shape[0]):
        k = key[i]
        if k == 0:  # no id to compare (the contract requires one; be safe)
            continue
        slot = cust[i]
        seen = False
        for j in range(size):
            if ring[slot, j] == k:
                seen = True
                break
        if seen:
            out[i] = 1
        else:
            ring[slot, head[slot]] = k
            head[slot] = (head[slot] + 1) % size


class RecentTxns:
    """The rings of recent transaction hashes, one row per customer slot."""

    BYTES_PER_CUSTOMER = RECENT_TXNS * 8 + 1

    def __init__(self, capacity: int) -> None:
        self.ring = np.zeros((capacity, RECENT_TXNS), dtype=np.int64)
        self.head = np.zeros(capacity, dtype=np.uint8)

    def grow(self, capacity: int) -> None:
        extra = capacity - self.ring.shape[0]
        if extra > 0:
            self.ring = np.concatenate([self.ring, np.zeros((extra, RECENT_TXNS), np.int64)])
            self.head = np.concatenate([self.head, np.zeros(extra, np.uint8)])

    def repeats(self, cust: np.ndarray, txn_key: np.ndarray) -> np.ndarray:
        """Boolean mask of the rows already seen for their customer; remembers the others."""
        out = np.zeros(len(cust), dtype=np.uint8)
        _mark_repeats(
            np.ascontiguousarray(cust, dtype=np.int64),
            np.ascontiguousarray(txn_key, dtype=np.int64),
            self.ring,
            self.head,
            out,
        )
        return out.astype(bool)

    @property
    def nbytes(self) -> int:
        return int(self.ring.nbytes + self.head.nbytes)
