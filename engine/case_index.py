"""The cluster's case queue, read from the ``disclosures`` topic by every worker.

Cases live in Faust tables partitioned by subject, so a worker's tables hold the cases of
its own partitions only. But every package goes to ``disclosures``, keyed by ``case_id``
(compacted: the latest package per case), so that topic holds every case of the cluster.
Each worker that serves the analyst view follows it:

* :class:`CaseIndex` (pure, no Kafka) folds ``disclosures`` records into one
  :class:`~engine.cases.CaseSummary` per case (the queue row) and where the case's latest
  record is (partition, offset), and keeps the raw packages of the most recently
  published or viewed cases in a cache bounded in bytes.
* :class:`DisclosuresReader` (the Kafka adapter) runs one consumer with no group, assigned to
  every partition of ``disclosures``, that reads from offset 0 and then follows the topic;
  a package not in the cache is read back from its known offset by a second consumer.
  Compaction never removes the latest record of a key, so the offset stays valid.
* :func:`merge` combines the worker's own table summaries with the index: per case the
  higher version wins, and on equal versions the worker's own table (the table is written
  before the package is published, so it is never behind on the cases the worker holds).

Which version is the latest: the highest ``version``; on equal versions the later record
(the hourly republish of an open case). A record with a lower version than the one held is
ignored, so a package republished late (e.g. by a worker that has just lost the partition)
never hides a newer decision. A tombstone (empty value) removes the case. This is the rule
of ``protect export`` (:func:`engine.cases.latest_package`) too.

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

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import msgspec

from engine.cases import CaseSummary

log = logging.getLogger(__name__)

PACKAGE_CACHE_BYTES = 64 * 1024 * 1024  # raw packages kept per worker (about 100 to 1,000 cases)
RETRY_S = 5.0  # after a broker error, or while the topic does not exist yet
FETCH_TIMEOUT_S = 15.0  # reading one package back from its offset

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
        except (msgspec.DecodeError, msgspec.ValidationError, IndexError):
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


# ---------------------------------------------------------------------- the Kafka adapter
class DisclosuresReader:
    """Follows every partition of ``disclosures`` into a :class:`CaseIndex` (see the module doc).

    ``run()`` is the long-running task (it never raises on broker errors: it logs, waits
    and resumes where it was); ``package(case_id)`` serves a page; ``stop()`` closes both
    consumers.
    """

    def __init__(self, settings, cache_bytes: int = PACKAGE_CACHE_BYTES):
        self.settings = settings
        self.topic = settings.disclosures_topic
        self.index = CaseIndex(cache_bytes)
        self.caught_up = False  # True once the records present at start-up have been read
        self.next_offsets: dict[int, int] = {}  # partition → next offset to read (kept on errors)
        self._reader = None
        self._fetcher = None
        self._fetch_lock = asyncio.Lock()
        self._stopping = False

    def _consumer(self):
        from aiokafka import AIOKafkaConsumer

        return AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap,
            group_id=None,  # no group: every worker reads every partition
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=16_777_216,  # one large case is a few hundred kB
            fetch_max_bytes=67_108_864,
            **self.settings.kafka_security(),
        )

    async def _partitions(self, consumer) -> list:
        from aiokafka import TopicPartition

        while True:
            if self.topic in await consumer.topics():  # refreshes the metadata
                partitions = consumer.partitions_for_topic(self.topic)
                if partitions:
                    return [TopicPartition(self.topic, p) for p in sorted(partitions)]
            log.info("case queue: waiting for topic %r", self.topic)
            await asyncio.sleep(RETRY_S)

    async def run(self) -> None:
        """Read ``disclosures`` from offset 0 on every partition, then follow it, forever."""
        while not self._stopping:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the view must not stop the worker
                if self._stopping:
                    return
                log.warning("case queue: reading %r failed (%s); retrying", self.topic, exc)
            finally:
                reader, self._reader = self._reader, None
                if reader is not None:
                    with contextlib.suppress(Exception):
                        await reader.stop()
            if not self._stopping:
                await asyncio.sleep(RETRY_S)

    async def _follow(self) -> None:
        consumer = self._reader = self._consumer()
        await consumer.start()
        tps = await self._partitions(consumer)
        consumer.assign(tps)
        for tp in tps:
            # seek, not seek_to_beginning: the embedded broker re-delivers after the latter
            consumer.seek(tp, self.next_offsets.get(tp.partition, 0))
        ends = await consumer.end_offsets(tps)
        while not self._stopping:
            batch = await consumer.getmany(timeout_ms=1000, max_records=500)
            for tp, records in batch.items():
                for record in records:
                    self.index.fold(tp.partition, record.offset, record.key, record.value)
                    self.next_offsets[tp.partition] = record.offset + 1
            if not batch and not self.caught_up:
                positions = [await consumer.position(tp) for tp in tps]
                if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                    self.caught_up = True
                    log.info("case queue: %d cases read from %r", len(self.index), self.topic)

    async def package(self, case_id: str) -> dict | None:
        """The latest package of ``case_id`` from the cache or read back from the topic."""
        raw = self.index.cached(case_id)
        if raw is None:
            located = self.index.entry(case_id)
            if located is None:
                return None
            raw = await self._read_at(case_id, located)
            if raw is None:
                return None
            self.index.remember(case_id, located.offset, raw)
        return msgspec.json.decode(raw)

    async def _read_at(self, case_id: str, located: Located) -> bytes | None:
        from aiokafka import TopicPartition

        async with self._fetch_lock:
            if self._fetcher is None:
                fetcher = self._consumer()
                await fetcher.start()
                self._fetcher = fetcher
            tp = TopicPartition(self.topic, located.partition)
            self._fetcher.assign([tp])
            self._fetcher.seek(tp, located.offset)
            deadline = time.monotonic() + FETCH_TIMEOUT_S
            try:
                while time.monotonic() < deadline:
                    batch = await self._fetcher.getmany(tp, timeout_ms=500, max_records=1)
                    for record in batch.get(tp, []):
                        if record.offset == located.offset and record.key == case_id.encode():
                            return record.value
                        return None  # not there any more (should not happen: see the module doc)
            finally:
                self._fetcher.unsubscribe()  # no prefetching while no page asks
        log.warning("case queue: %s not read back from %s within %ss", case_id, tp, FETCH_TIMEOUT_S)
        return None

    async def stop(self) -> None:
        self._stopping = True
        for consumer in (self._reader, self._fetcher):
            if consumer is not None:
                with contextlib.suppress(Exception):
                    await consumer.stop()
        self._reader = self._fetcher = None
