"""The cluster's case queue, read from the ``disclosures`` topic by every worker.

Cases live in Faust tables partitioned by subject, so a worker's tables hold the cases of
its own partitions only. But every package goes to ``disclosures``, keyed by ``case_id``
(compacted: the latest package per case), so that topic holds every case of the cluster.
Each worker that serves the analyst view follows it:

* :class:`CaseIndex` (pure, no Kafka) folds ``disclosures`` records into one
  :class:`~engine.cases.model.CaseSummary` per case (the queue row) and where the case's latest
  record is (partition, offset), and keeps the raw packages of the most recently
  published or viewed cases in a cache bounded in bytes.
* :class:`~engine.stream.case_reader.DisclosuresReader` (the Kafka adapter) runs one consumer
  with no group, assigned to every partition of ``disclosures``, that reads from offset 0 and
  then follows the topic;
  a package not in the cache is read back from its known offset by a second consumer.
  Compaction never removes the latest record of a key, so the offset stays valid.
* :func:`merge` combines the worker's own table summaries with the index: per case the
  higher version wins, and on equal versions the worker's own table (the table is written
  before the package is published, so it is never behind on the cases the worker holds).

Which version is the latest: the highest ``version``; on equal versions the later record
(the hourly republish of an open case). A record with a lower version than the one held is
ignored, so a package republished late (e.g. by a worker that has just lost the partition)
never hides a newer decision. A tombstone (empty value) removes the case. This is the rule
of ``protect export`` (:func:`engine.stream.case_reader.latest_package`) too.

Memory: every case costs its summary and location (about 1.2 KB measured on generated
cases, whatever the size of its package), so 100,000 cases are about 120 MB; packages
(typically 50-500 kB) are cached up to :data:`PACKAGE_CACHE_BYTES` per worker, the least
recently published or viewed out first.

Example::

    index = CaseIndex(cache_bytes=1 << 20)
    index.fold(0, 17, b"CASE-1", package_bytes)    # "new"
    index.summaries()                              # [CaseSummary(case_id="CASE-1", ...)]
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import msgspec

from engine.cases.model import CaseSummary

PACKAGE_CACHE_BYTES = 64 * 1024 * 1024  # raw packages kept per worker (about 100 to 1,000 cases)

Fold = Literal["new", "updated", "older", "removed", "invalid"]  # what fold() did


# ---------------------------------------------------------------------- the package head
class _SubjectHead(msgspec.Struct):
    customer_id: str
    relation: str = "primary"
    name: str | None = None
    role_hypothesis: str = "unknown"


class _AlertHead(msgspec.Struct):
    families: list[str] = []


class _WindowHead(msgspec.Struct):
    end: str = ""


class PackageHead(msgspec.Struct):
    """The fields of a CONTRACT §5 package the queue needs (the rest is skipped unread)."""

    case_id: str
    version: int
    status: str
    score: float
    subjects: list[_SubjectHead]
    opened_at: str = ""
    updated_at: str = ""
    alerts: list[_AlertHead] = []
    window: _WindowHead = msgspec.field(default_factory=_WindowHead)


_HEAD = msgspec.json.Decoder(PackageHead)


def summary_of(head: PackageHead) -> CaseSummary:
    """The queue row of a package: the same fields :meth:`CaseSummary.of` takes from a case."""
    primary = next((s for s in head.subjects if s.relation == "primary"), head.subjects[0])
    return CaseSummary(
        case_id=head.case_id,
        customer_id=primary.customer_id,
        name=primary.name,
        status=head.status,
        score=head.score,
        role=primary.role_hypothesis,
        families=tuple(sorted({f for a in head.alerts for f in a.families})),
        alerts=len(head.alerts),
        version=head.version,
        opened_at=head.opened_at,
        updated_at=head.updated_at,
        window_end=head.window.end,
    )


# ---------------------------------------------------------------------- the index (pure)
@dataclass(frozen=True)
class Located:
    """A case of the cluster: its queue row and where its latest package is on the topic."""

    summary: CaseSummary
    partition: int
    offset: int


class CaseIndex:
    """The latest version of every case seen on ``disclosures``, and a bounded package cache."""

    def __init__(self, cache_bytes: int = PACKAGE_CACHE_BYTES):
        self.cache_bytes = cache_bytes
        self._cases: dict[str, Located] = {}
        self._cache: OrderedDict[str, tuple[int, bytes]] = OrderedDict()  # id → (offset, raw)
        self._cached_bytes = 0
        self.invalid = 0  # records that are not a package (skipped)

    def __len__(self) -> int:
        return len(self._cases)

    def fold(self, partition: int, offset: int, key: bytes | None, value: bytes | None) -> Fold:
        """Take one ``disclosures`` record (records of one partition in offset order)."""
        if not value:
            case_id = (key or b"").decode("utf-8", "replace")
            self._cases.pop(case_id, None)
            self._forget(case_id)
            return "removed"
        try:
            head = _HEAD.decode(value)
            summary = summary_of(head)
        # RecursionError: msgspec recurses per nesting level, and this topic is not trusted
        except (msgspec.DecodeError, msgspec.ValidationError, IndexError, RecursionError):
            self.invalid += 1
            return "invalid"
        held = self._cases.get(head.case_id)
        if held is not None and head.version < held.summary.version:
            return "older"
        self._cases[head.case_id] = Located(summary, partition, offset)
        self.remember(head.case_id, offset, value)
        return "new" if held is None else "updated"

    def entry(self, case_id: str) -> Located | None:
        return self._cases.get(case_id)

    def summaries(self) -> list[CaseSummary]:
        return [located.summary for located in self._cases.values()]

    def cached(self, case_id: str) -> bytes | None:
        """The raw latest package of ``case_id`` if it is in the cache."""
        located, hit = self._cases.get(case_id), self._cache.get(case_id)
        if located is None or hit is None or hit[0] != located.offset:
            return None
        self._cache.move_to_end(case_id)
        return hit[1]

    def remember(self, case_id: str, offset: int, raw: bytes) -> None:
        """Cache ``raw`` if it is still the case's latest record; evict the least recent."""
        located = self._cases.get(case_id)
        if located is None or located.offset != offset:
            return  # a newer version arrived while this one was read back
        self._forget(case_id)
        if len(raw) > self.cache_bytes:
            return
        self._cache[case_id] = (offset, raw)
        self._cached_bytes += len(raw)
        while self._cached_bytes > self.cache_bytes:
            _, (_, old) = self._cache.popitem(last=False)
            self._cached_bytes -= len(old)

    @property
    def cached_bytes(self) -> int:
        return self._cached_bytes

    def _forget(self, case_id: str) -> None:
        dropped = self._cache.pop(case_id, None)
        if dropped is not None:
            self._cached_bytes -= len(dropped[1])


def merge(
    local: Iterable[CaseSummary], cluster: Iterable[CaseSummary]
) -> tuple[list[CaseSummary], frozenset[str]]:
    """Every case once: the higher version of the two, the worker's own on a tie.

    Returns the summaries and the ids of those taken from the worker's own tables. A table
    entry can be stale (the worker lost its partition, or the subject's case was decided and
    a new one opened): the owner's newer version on the topic then wins.
    """
    best = {s.case_id: s for s in cluster}
    own: set[str] = set()
    for s in local:
        other = best.get(s.case_id)
        if other is None or s.version >= other.version:
            best[s.case_id] = s
            own.add(s.case_id)
    return list(best.values()), frozenset(own)
