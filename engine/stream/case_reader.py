"""Reading the ``disclosures`` topic: the case queue every worker follows, and one package.

:class:`DisclosuresReader` keeps a :class:`~engine.cases.index.CaseIndex` of every case of
the cluster (see that module for the rules); :func:`latest_package` serves ``protect export``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import msgspec
from aiokafka import AIOKafkaConsumer, TopicPartition

from engine.cases.disclosure.seal import verified
from engine.cases.index import PACKAGE_CACHE_BYTES, CaseIndex, Located
from engine.stream.kafka import client_security

log = logging.getLogger(__name__)

RETRY_S = 5.0  # after a broker error, or while the topic does not exist yet
FETCH_TIMEOUT_S = 15.0  # reading one package back from its offset


class DisclosuresReader:
    """Follows every partition of ``disclosures`` into a :class:`CaseIndex` (see the module doc).

    ``run()`` is the long-running task (it never raises on broker errors: it logs, waits
    and resumes where it was); ``package(case_id)`` serves a page; ``stop()`` closes both
    consumers. A record not sealed with ``package_key`` (a forgery, a tombstone, a package
    of an engine with another key) is never folded: it is counted in ``refused`` and handed
    to ``on_refused(record)`` (the worker dead-letters it).
    """

    def __init__(self, settings, cache_bytes: int = PACKAGE_CACHE_BYTES, on_refused=None):
        self.settings = settings
        self.key = settings.package_key.reveal().encode()
        self.refused = 0
        self.on_refused = on_refused
        self.topic = settings.disclosures_topic
        self.index = CaseIndex(cache_bytes)
        self.caught_up = False  # True once the records present at start-up have been read
        self.next_offsets: dict[int, int] = {}  # partition → next offset to read (kept on errors)
        self._reader = None
        self._fetcher = None
        self._fetch_lock = asyncio.Lock()
        self._stopping = False

    def _consumer(self):
        return AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap,
            group_id=None,  # no group: every worker reads every partition
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=16_777_216,  # one large case is a few hundred kB
            fetch_max_bytes=67_108_864,
            **client_security(self.settings),
        )

    async def _partitions(self, consumer) -> list:
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
                    self.next_offsets[tp.partition] = record.offset + 1
                    if verified(self.key, record.value, record.headers):
                        self.index.fold(tp.partition, record.offset, record.key, record.value)
                        continue
                    self.refused += 1
                    if self.on_refused is not None:
                        await self.on_refused(record)
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


async def latest_package(settings, case_id: str, timeout: float = 60.0) -> dict | None:
    """The highest-version package of ``case_id`` on the ``disclosures`` topic (read from the
    start of every partition until caught up, or ``timeout`` seconds); only packages sealed
    with ``package_key`` count."""
    key = settings.package_key.reveal().encode()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=16_777_216,
        fetch_max_bytes=67_108_864,
        **client_security(settings),
    )
    await consumer.start()
    best: dict | None = None
    wanted = case_id.encode()
    try:
        if settings.disclosures_topic not in await consumer.topics():  # also loads the metadata
            return None
        partitions = consumer.partitions_for_topic(settings.disclosures_topic)
        if not partitions:
            return None
        tps = [TopicPartition(settings.disclosures_topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        idle = 0
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            records = [r for rs in batch.values() for r in rs]
            for record in records:
                if record.key != wanted or not verified(key, record.value, record.headers):
                    continue
                package = msgspec.json.decode(record.value)
                if best is None or package.get("version", 0) >= best.get("version", 0):
                    best = package
            if records:
                idle = 0
                continue
            ends = await consumer.end_offsets(tps)
            positions = [await consumer.position(tp) for tp in tps]
            idle += 1
            if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)) and idle >= 2:
                break
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return best
