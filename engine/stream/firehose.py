"""The firehose: batched consumption of transactions and profiles, detection, publishing.

One :class:`PartitionState` per assigned input partition. Every ``checkpoint_interval_s``
(and when partitions are revoked or the worker stops) the firehose

1. waits until the broker has acknowledged every alert, dead letter, observation and signal
   sent for the consumed input (:class:`engine.stream.outbox.Outbox`: retriable failures are
   sent again, a record refused for good is replaced by a smaller one or counted as lost);
2. writes each partition's state together with the offsets it reflects (one file);
3. commits those offsets to the consumer group, for operators and lag tools.

After a crash the worker restarts from the checkpoint, not from the group offsets, and
replays; replayed alerts carry the same deterministic ``alert_id`` as before, so consumers
drop them. After a clean stop nothing is replayed at all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import msgspec
from aiokafka import TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import OffsetAndMetadata

from engine.config import Settings
from engine.core.decode import Message, dead_letter, encode_dead_letter, frame_problem
from engine.core.detector import BatchResult, Detector
from engine.core.isolate import culprits, pure_stage
from engine.core.state import PartitionState
from engine.crosscustomer.identifiers import FINDING_FACTS, decode_finding
from engine.crosscustomer.parties import decode_signal, encode_signal
from engine.errors import CheckpointError
from engine.metrics import Metrics
from engine.stream.feeds import WholeTopicFeed, apply_reference_messages
from engine.stream.kafka import ensure_topics, make_consumer, make_producer
from engine.stream.outbox import Outbox
from indicators.columns import DAY
from schemas import Alert, DeadLetter

log = logging.getLogger(__name__)
T = TypeVar("T")

_ALERT_ENCODER = msgspec.json.Encoder()
BOOTSTRAP_MAX_POLLS = (
    25  # quiet polls after which profiles count as loaded even without a watermark
)
STOP_CONFIRM_S = 15.0  # how long a stopping worker waits for the broker to acknowledge


class Firehose:
    def __init__(self, settings: Settings, metrics: Metrics, detector: Detector | None = None):
        self.settings = settings
        self.metrics = metrics
        self.detector = detector or Detector(settings)
        self.reference_feed = WholeTopicFeed(settings, settings.reference_topic)
        # The party index (engine/crosscustomer/parties.py) is global: every worker reads all of it.
        self.party_feed = (
            WholeTopicFeed(settings, settings.party_signals_topic)
            if settings.cross_customer
            else None
        )
        # Findings of the cross-customer stage come back keyed by customer, co-partitioned.
        self.input_topics = [settings.transactions_topic, settings.profiles_topic] + (
            [settings.findings_topic] if settings.cross_customer else []
        )
        self.states: dict[int, PartitionState] = {}
        self.saved_offsets: dict[int, dict[str, int]] = {}  # per partition, as last checkpointed
        self.bootstrapping: dict[
            int, int
        ] = {}  # partition -> quiet polls; transactions wait for profiles
        self.lock = asyncio.Lock()
        self.consumer = None
        self.producer = None
        self.outbox: Outbox | None = None
        self.started = False
        self.last_batch_at = 0.0
        self.last_checkpoint_at = time.monotonic()
        self._stopping = False
        # An unusable checkpoint under on_bad_checkpoint = "refuse": the worker stops at the
        # next turn of the loop, leaving the file as it is for the operator.
        self.refused: CheckpointError | None = None

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        log.info("compiling %d indicator kernels", len(self.detector.specs))
        self.metrics.declare_topics(self.input_topics)
        await asyncio.to_thread(self.detector.warm_up)
        await ensure_topics(self.settings)
        self.producer = make_producer(self.settings)
        await self.producer.start()
        self.outbox = Outbox(self.producer, self.metrics)
        self.consumer = make_consumer(self.settings)
        self.consumer.subscribe(self.input_topics, listener=_Listener(self))
        await self.consumer.start()
        await self.reference_feed.start()
        if self.party_feed is not None:
            await self.party_feed.start()
        self.started = True
        log.info(
            "firehose started (group %s, config %s)",
            self.settings.group_id,
            self.detector.config_hash,
        )

    async def run(self) -> None:
        """Consume, detect and publish until :meth:`stop`."""
        while not self._stopping:
            if self.refused is not None:
                raise self.refused
            await self._apply_reference_updates()
            await self._apply_party_signals()
            records = await self.consumer.getmany(
                timeout_ms=self.settings.poll_timeout_ms, max_records=self.settings.max_batch
            )
            if self.refused is not None:
                raise self.refused
            if records:
                async with self.lock:
                    await self._process(records)
            self._resume_caught_up(records)
            if time.monotonic() - self.last_checkpoint_at >= self.settings.checkpoint_interval_s:
                async with self.lock:
                    await self.checkpoint(list(self.states))

    async def stop(self) -> None:
        self._stopping = True
        if not self.started:
            return
        async with self.lock:
            assert self.outbox is not None
            try:
                await asyncio.wait_for(self.outbox.confirm(), STOP_CONFIRM_S)
            except TimeoutError:
                # Not checkpointed: the input since the last checkpoint is read again on
                # restart and reproduces the same records (same alert ids).
                log.error(
                    "stopping with %d records the broker has not acknowledged; the state is "
                    "not checkpointed, so the input behind them is replayed on restart",
                    len(self.outbox),
                )
            else:
                await self.checkpoint(list(self.states))
        await self.consumer.stop()  # leaves the group, so a restarted worker is assigned at once
        await self.reference_feed.stop()
        if self.party_feed is not None:
            await self.party_feed.stop()
        await self.producer.stop()
        self.started = False
        log.info("firehose stopped cleanly")

    async def _apply_reference_updates(self) -> None:
        """Swap in updated reference lists; visible from the next batch on (and in config_hash)."""
        messages = await self.reference_feed.poll()
        if not messages:
            return
        lists, dead, applied = apply_reference_messages(
            self.detector.reference, messages, self.settings.limits
        )
        if applied:
            async with self.lock:
                self.detector = self.detector.with_reference(lists)
            log.info(
                "reference lists updated (%d messages); config %s",
                applied,
                self.detector.config_hash,
            )
        if dead:
            await self._publish(BatchResult(dead=dead))

    async def _apply_party_signals(self) -> None:
        """Fold new party signals into the index the detector reads (between batches)."""
        if self.party_feed is None:
            return
        messages = await self.party_feed.poll()
        if messages:
            signals, dead = self._internal(messages, decode_signal, "a party signal")
            async with self.lock:
                self.detector.parties.add_all(signals)
            self.metrics.party_index_keys.set(len(self.detector.parties))
            if dead:
                await self._publish(BatchResult(dead=dead))

    # --------------------------------------------------------------- batches
    async def _process(self, records) -> None:
        by_partition: dict[int, tuple[list[Message], list[Message]]] = defaultdict(lambda: ([], []))
        consumed: list[tuple[str, int, int]] = []  # counted once handled, so "consumed" means done
        findings_dead: list[DeadLetter] = []
        for tp, batch in records.items():
            state = self.states.get(tp.partition)
            if state is None:
                continue  # revoked while the fetch was in flight
            topic, partition = tp.topic, tp.partition
            # Anything below the state's position was already applied (a fetch that raced a
            # seek); applying it twice would double-count windows.
            done = state.offsets.get(topic, 0)
            if batch[0].offset < done:
                batch = [r for r in batch if r.offset >= done]
            if topic == self.settings.findings_topic:
                findings_dead += self._apply_findings(state, topic, batch)
                consumed.append(
                    (topic, len(batch), sum(max(r.serialized_value_size, 0) for r in batch))
                )
                continue
            profiles = topic == self.settings.profiles_topic
            target = by_partition[partition][0 if profiles else 1]
            target.extend(
                [Message(topic, partition, r.offset, r.key, r.value, r.timestamp) for r in batch]
            )
            consumed.append(
                (topic, len(batch), sum(max(r.serialized_value_size, 0) for r in batch))
            )
        for partition, (profiles, transactions) in sorted(by_partition.items()):
            state = self.states[partition]
            started = time.perf_counter()
            result = await self._detect(state, profiles, transactions)
            self.metrics.batch_seconds.observe(time.perf_counter() - started)
            oldest = min(
                (m.timestamp_ms for m in (profiles[:1] + transactions[:1]) if m.timestamp_ms > 0),
                default=0,
            )
            if oldest:
                self.metrics.processing_delay.observe(max(time.time() - oldest / 1000, 0.0))
            self.metrics.batch_size.observe(len(profiles) + len(transactions))
            await self._publish(result)
        if findings_dead:
            await self._publish(BatchResult(dead=findings_dead))
        for topic, messages, size in consumed:
            self.metrics.input_messages.labels(topic).inc(messages)
            self.metrics.input_bytes.labels(topic).inc(size)
        self.last_batch_at = time.time()
        self._observe_lag()
        self.metrics.state_customers.set(sum(len(s.customer_ids) for s in self.states.values()))
        self.metrics.state_bytes.set(sum(s.nbytes() for s in self.states.values()))

    async def _detect(
        self, state: PartitionState, profiles: list[Message], transactions: list[Message]
    ) -> BatchResult:
        """``Detector.process`` on one partition's batch; if it raises, the messages
        responsible become dead letters and the rest is processed (no input stops a worker)."""
        try:
            return await asyncio.to_thread(self.detector.process, state, profiles, transactions)
        except Exception as exc:  # noqa: BLE001 - the failure policy: isolate, never crash
            self.metrics.handler_errors.labels("firehose").inc()
            log.error(
                "partition %d: a batch of %d messages raised %s; isolating the messages "
                "responsible",
                transactions[0].partition if transactions else profiles[0].partition,
                len(profiles) + len(transactions),
                type(exc).__name__,
            )
            return await asyncio.to_thread(self._isolate, state, profiles, transactions, exc)

    def _isolate(
        self,
        state: PartitionState,
        profiles: list[Message],
        transactions: list[Message],
        exc: Exception,
    ) -> BatchResult:
        reference, limits = self.detector.reference, self.settings.limits
        bad_profiles = culprits(profiles, lambda ms: pure_stage(ms, [], reference, limits))
        bad_rows = culprits(transactions, lambda ms: pure_stage([], ms, reference, limits))
        bad = {(m.topic, m.offset) for m in (*bad_profiles, *bad_rows)}
        reason = f"handling this message raised {type(exc).__name__}; it was set aside"
        if not bad:
            # The stage that updates state raised: retrying would apply rows twice, so the
            # batch's transactions are set aside whole (its profiles were applied).
            bad = {(m.topic, m.offset) for m in transactions}
            reason = _batch_set_aside(exc)
        dead = [
            dead_letter(m, reason, "handler_error")
            for m in (*profiles, *transactions)
            if (m.topic, m.offset) in bad
        ]
        keep_p = [m for m in profiles if (m.topic, m.offset) not in bad]
        keep_t = [m for m in transactions if (m.topic, m.offset) not in bad]
        result = BatchResult()
        if bad_profiles or bad_rows:
            try:
                result = self.detector.process(state, keep_p, keep_t)
            except Exception as again:  # noqa: BLE001 - a second failure, in the stateful stage
                self.metrics.handler_errors.labels("firehose").inc()
                dead += [dead_letter(m, _batch_set_aside(again), "handler_error") for m in keep_t]
        for ms in (profiles, transactions):  # the set-aside messages count as handled
            if ms:
                state.offsets[ms[-1].topic] = max(
                    state.offsets.get(ms[-1].topic, 0), ms[-1].offset + 1
                )
        result.dead.extend(dead)
        return result

    def _internal(
        self, messages: list[Message], decode: Callable[[bytes | None], T | None], what: str
    ) -> tuple[list[T], list[DeadLetter]]:
        """Messages of the engine's own topics (party signals, findings) decoded; any that is
        not ``what`` (written by something else, or damaged) is a dead letter, never a crash."""
        decoded: list[T] = []
        dead: list[DeadLetter] = []
        limits = self.settings.limits
        for m in messages:
            if m.value is None:
                continue  # a tombstone on a compacted engine topic: nothing to apply
            problem = frame_problem(m, limits.max_other_bytes, limits)
            value = None
            if problem is None:
                try:
                    value = decode(m.value)
                except Exception as exc:  # noqa: BLE001 - no message may stop the worker
                    self.metrics.handler_errors.labels("internal_topic").inc()
                    problem = (f"decoding it raised {type(exc).__name__}", "handler_error")
            if value is not None:
                decoded.append(value)
            else:
                reason, reason_class = problem or (
                    f"not {what} (CONTRACT: engine topic)",
                    "invalid_signal",
                )
                dead.append(dead_letter(m, reason, reason_class))
        return decoded, dead

    def _apply_findings(self, state: PartitionState, topic: str, records) -> list[DeadLetter]:
        messages = [
            Message(topic, r.partition, r.offset, r.key, r.value, r.timestamp) for r in records
        ]
        findings, dead = self._internal(messages, decode_finding, "an identifier finding")
        for finding in findings:
            if finding.rule in FINDING_FACTS:
                state.apply_finding(finding.customer_id, FINDING_FACTS[finding.rule])
        if records:
            state.offsets[topic] = records[-1].offset + 1
        return dead

    async def _publish(self, result: BatchResult) -> None:
        s, outbox = self.settings, self.outbox
        assert outbox is not None, "the firehose is not started"
        for letter in result.dead:
            key = (
                letter.key.encode()
                if letter.key is not None and letter.key_encoding == "utf-8"
                else None
            )
            await outbox.send(
                "dead_letter",
                s.dead_letter_topic,
                encode_dead_letter(letter),
                key,
                fallback=partial(_dead_letter_without_value, letter),
            )
            self.metrics.dead_letters.labels(letter.reason_class).inc()
        for alert in result.alerts:
            await outbox.send(
                "alert",
                s.alerts_topic,
                encode_alert(alert),
                alert.customer_id.encode(),
                fallback=partial(_alert_without_rows, alert),
            )
            self.metrics.alerts.labels(alert.role_hypothesis).inc()
            for indicator in alert.indicators:
                self.metrics.alert_indicators.labels(indicator.id, indicator.family).inc()
            for family in {indicator.family for indicator in alert.indicators}:
                self.metrics.alert_families.labels(family).inc()
        if s.cross_customer:
            for key, value in result.observations:
                await outbox.send("identifier", s.identifiers_topic, value, key)
            for signal in result.party_signals:
                key, value = encode_signal(signal)
                await outbox.send("party_signal", s.party_signals_topic, value, key)
        for lag in result.event_lag_s:
            self.metrics.alert_event_lag.observe(max(lag, 0.0))
        now_ms = time.time() * 1000
        for arrival in result.arrivals_ms:
            if arrival > 0:
                self.metrics.alert_latency.observe(max(now_ms - arrival, 0.0) / 1000)
        self.metrics.transactions.inc(result.transactions)
        for indicator_id, count in result.fired.items():
            if count:
                self.metrics.indicator_fires.labels(indicator_id).inc(count)

    def _observe_lag(self) -> None:
        # The group may have moved partitions while the batch was handled (the revocation
        # waits for the lock this batch holds): ask only about what is still assigned.
        assigned = self.consumer.assignment()
        for p, state in self.states.items():
            for topic in self.input_topics:
                tp = TopicPartition(topic, p)
                if tp not in assigned:
                    continue
                highwater = self.consumer.highwater(tp)
                if highwater is not None:
                    lag = max(highwater - state.offsets.get(topic, 0), 0)
                    self.metrics.consumer_lag.labels(topic, str(p)).set(lag)

    # ------------------------------------------------------------ checkpoints
    def checkpoint_path(self, partition: int) -> Path:
        return (
            Path(self.settings.checkpoint_dir)
            / f"{self.settings.transactions_topic}-{partition}.ckpt"
        )

    async def checkpoint(self, partitions: list[int]) -> None:
        """Flush output, save state + offsets, then commit the same offsets to the group."""
        started = time.perf_counter()
        assert self.outbox is not None, "the firehose is not started"
        await self.outbox.confirm()  # never checkpoint input ahead of its output
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        written = 0
        for p in partitions:
            state = self.states.get(p)
            if state is None or self.saved_offsets.get(p) == state.offsets:
                continue  # nothing consumed since the last checkpoint: don't rewrite the state
            if state.offsets:
                newest = state.newest_event_ts()
                state.prune(newest, self.settings.constellation.window_days * DAY)
            written += await asyncio.to_thread(
                state.save, self.checkpoint_path(p), self.detector.config_hash
            )
            self.saved_offsets[p] = dict(state.offsets)
            for topic, offset in state.offsets.items():
                offsets[TopicPartition(topic, p)] = OffsetAndMetadata(offset, "")
                self.metrics.committed_offset.labels(topic, str(p)).set(offset)
        if offsets:
            try:
                await self.consumer.commit(offsets)
            except (CommitFailedError, KafkaError) as exc:
                # The checkpoint is authoritative; a failed commit only delays what lag tools see.
                log.warning("offset commit failed (%s); checkpoint is saved", exc)
        self.last_checkpoint_at = time.monotonic()
        self.metrics.checkpoint_seconds.observe(time.perf_counter() - started)
        self.metrics.checkpoint_bytes.set(written)
        self.metrics.last_checkpoint.set(time.time())

    async def assign(self, partitions: set[int]) -> None:
        """Load state for newly assigned partitions; seek every assigned partition to its state.

        Seeking kept partitions too matters: after a rebalance the client would otherwise
        resume from the group's committed offsets, which may lag the in-memory state.
        """
        s = self.settings
        for p in sorted(partitions - self.states.keys()):
            try:
                self.states[p] = await asyncio.to_thread(self._load_state, p)
            except CheckpointError as exc:  # on_bad_checkpoint = "refuse"
                self.refused = exc
                self.consumer.pause(*(TopicPartition(t, p) for t in self.input_topics))
                continue
            self.consumer.pause(TopicPartition(s.transactions_topic, p))
            self.bootstrapping[p] = 0
            log.info(
                "partition %d assigned: %d customers from checkpoint",
                p,
                len(self.states[p].customer_ids),
            )
        assigned = self.consumer.assignment()
        for p in sorted(partitions & self.states.keys()):
            state = self.states[p]
            for topic in self.input_topics:
                tp = TopicPartition(topic, p)
                if tp not in assigned:  # moved again by a newer rebalance: its turn comes then
                    continue
                # Without a checkpoint, start at 0 (out of range falls back to "earliest"):
                # state must be rebuilt from the whole retained topic. seek() rather than
                # seek_to_beginning(), which re-delivered records already fetched here.
                self.consumer.seek(tp, state.offsets.get(topic, 0))
        self.metrics.partitions.set(len(self.states))

    def _resume_caught_up(self, records) -> None:
        """Resume a partition's transactions once its profiles are read to the end.

        Like a table bootstrap: profiles are loaded before the transactions they qualify,
        so a restart or a new assignment detects what the backtest detects. "Read to the
        end" is the position reaching the high watermark the last fetch reported (the
        ``ListOffsets`` answer is not trusted: one broker under-reports it) and a poll that
        brought no more profile records; ``BOOTSTRAP_MAX_POLLS`` quiet polls without any
        high watermark also count, so an unreachable watermark never stalls a partition.
        """
        if not self.bootstrapping:
            return
        topic = self.settings.profiles_topic
        busy = {tp.partition for tp in records if tp.topic == topic}
        for p in sorted(self.bootstrapping):
            quiet = 0 if p in busy else self.bootstrapping[p] + 1
            self.bootstrapping[p] = quiet
            state = self.states.get(p)
            highwater = self.consumer.highwater(TopicPartition(topic, p))
            at_end = (
                highwater is not None
                and state is not None
                and state.offsets.get(topic, 0) >= highwater
            )
            if not ((at_end and quiet >= 1) or quiet >= BOOTSTRAP_MAX_POLLS):
                continue
            del self.bootstrapping[p]
            if state is not None:
                self.consumer.resume(TopicPartition(self.settings.transactions_topic, p))
                log.info("partition %d: profiles loaded, consuming transactions", p)

    def _load_state(self, partition: int) -> PartitionState:
        path = self.checkpoint_path(partition)
        if not path.exists():
            return self.detector.new_state()
        try:
            return PartitionState.load(path, self.detector.specs)
        except CheckpointError as exc:
            if self.settings.on_bad_checkpoint == "refuse":
                raise CheckpointError(
                    f"partition {partition}: {exc}. on_bad_checkpoint = 'refuse': the worker "
                    "stops and leaves the file; move it away (or set on_bad_checkpoint = "
                    "'rebuild') to rebuild this partition's state from the topic"
                ) from exc
            self.metrics.checkpoints_rebuilt.inc()
            log.error(
                "partition %d: %s; rebuilding its state from the start of the topic "
                "(on_bad_checkpoint = 'rebuild')",
                partition,
                exc,
            )
            return self.detector.new_state()

    async def revoke(self, partitions: set[int]) -> None:
        async with self.lock:
            mine = sorted(partitions & self.states.keys())
            if mine:
                await self.checkpoint(mine)
            for p in mine:
                del self.states[p]
                self.saved_offsets.pop(p, None)
                self.bootstrapping.pop(p, None)
            self.metrics.forget_partitions(mine, self.input_topics)
        self.metrics.partitions.set(len(self.states))


class _Listener(ConsumerRebalanceListener):
    def __init__(self, firehose: Firehose):
        self.firehose = firehose

    async def on_partitions_revoked(self, revoked):
        await self.firehose.revoke({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned):
        async with self.firehose.lock:
            await self.firehose.assign({tp.partition for tp in assigned})


def _batch_set_aside(exc: Exception) -> str:
    """The reason given when the stage that updates state raised on a batch."""
    return (
        f"detection over this message's batch raised {type(exc).__name__}; the "
        "batch was set aside (its effect on state may be partial)"
    )


def encode_alert(alert: Alert) -> bytes:
    return _ALERT_ENCODER.encode(alert)


def _alert_without_rows(alert: Alert) -> bytes:
    """An alert too large for the broker, without its embedded evidence rows: the ids stay
    in ``indicators[].evidence_txn_ids`` and ``transactions_omitted`` says how many rows
    were left out (the rows are on the input topic)."""
    count = len(alert.transactions)
    return encode_alert(msgspec.structs.replace(alert, transactions=[], transactions_omitted=count))


def _dead_letter_without_value(letter: DeadLetter) -> bytes:
    """A dead letter too large for the broker, without the original value (it stays on the
    source topic at the letter's partition and offset)."""
    size = len(letter.value or "")
    note = f" [the original value ({size:,} characters) is left out: too large to forward]"
    return encode_dead_letter(
        msgspec.structs.replace(letter, value=None, reason=letter.reason + note)
    )
