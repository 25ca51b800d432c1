"""Every record the firehose sends, kept until the broker has acknowledged it.

``AIOKafkaProducer.send`` only queues a record; whether the broker took it is known later,
from the future it returns. The firehose checkpoints its state and input offsets only after
:meth:`Outbox.confirm` has seen every record sent for that input acknowledged, so an alert
or a dead letter is never behind a checkpoint without being on Kafka:

- a *retriable* failure (broker down, leader moving, request timed out) is sent again, with
  backoff, for as long as it takes: the worker stops consuming meanwhile (backpressure),
  ``/health`` says ``degraded`` and ``protect_send_retries_total`` counts the attempts;
- an *undeliverable* record (the broker refuses it for good, typically over its
  ``message.max.bytes``) is replaced once by its fallback, a smaller record that says what
  was left out (an alert without its embedded evidence rows, a dead letter without the
  original value); without a fallback, or if the fallback is refused too, it is counted in
  ``protect_outputs_lost_total{kind}`` and logged as an ERROR (kind, topic, size, error
  class: no customer data), so nothing is lost silently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka.errors import KafkaError, KafkaTimeoutError

from engine.metrics import Metrics

log = logging.getLogger(__name__)

# The smaller record to send instead of one the broker refuses for good, or None.
Fallback = Callable[[], bytes | None]


@dataclass
class Outgoing:
    kind: str  # alert, dead_letter, identifier, party_signal
    topic: str
    key: bytes | None
    value: bytes
    fallback: Fallback | None = None
    future: asyncio.Future | None = None
    error: BaseException | None = None  # raised by send() itself (queue full, too large)


class Outbox:
    def __init__(
        self,
        producer,
        metrics: Metrics,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ):
        self.producer = producer
        self.metrics = metrics
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.pending: list[Outgoing] = []
        self.waiting_since: float | None = None  # monotonic: retrying since (for /health)

    def __len__(self) -> int:
        return len(self.pending)

    async def send(
        self,
        kind: str,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        fallback: Fallback | None = None,
    ) -> None:
        record = Outgoing(kind, topic, key, value, fallback)
        await self._submit(record)
        self.pending.append(record)

    async def confirm(self) -> None:
        """Return once every record sent since the last call is acknowledged, replaced by
        its fallback, or counted as lost; retriable failures are retried until then."""
        await self.producer.flush()
        delay = self.backoff_s
        while self.pending:
            again: list[Outgoing] = []
            for record in self.pending:
                error = await _outcome(record)
                if error is None:
                    continue
                if _retriable(error):
                    again.append(record)
                elif (replacement := self._replace(record, error)) is not None:
                    again.append(replacement)  # not sent yet: goes out with the retries
            failed = [r for r in again if r.error is not None]
            if failed:
                self._waiting(failed)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
            for record in again:
                await self._submit(record)
            self.pending = again
            await self.producer.flush()
        if self.waiting_since is not None:
            log.warning(
                "the broker acknowledged every record again after %.0f s",
                time.monotonic() - self.waiting_since,
            )
        self.waiting_since = None
        self.metrics.unconfirmed_records.set(0)

    # ------------------------------------------------------------------ internals
    async def _submit(self, record: Outgoing) -> None:
        record.future, record.error = None, None
        try:
            record.future = await self.producer.send(record.topic, record.value, key=record.key)
        except KafkaError as exc:  # refused before it was queued (too large, queue full)
            record.error = exc

    def _replace(self, record: Outgoing, error: BaseException) -> Outgoing | None:
        """The fallback of an undeliverable record, to be sent in its place; or None (lost)."""
        self.metrics.outputs_refused.labels(record.kind).inc()
        value = record.fallback() if record.fallback is not None else None
        if value is None or len(value) >= len(record.value):
            self._lost(record, error)
            return None
        log.error(
            "the broker refused a record (%s, %d bytes) for %s (%s); sending a %d-byte "
            "replacement that says what was left out",
            record.kind,
            len(record.value),
            record.topic,
            type(error).__name__,
            len(value),
        )
        return Outgoing(record.kind, record.topic, record.key, value, fallback=None)

    def _lost(self, record: Outgoing, error: BaseException) -> None:
        self.metrics.outputs_lost.labels(record.kind).inc()
        log.error(
            "LOST: a record (%s, %d bytes) for %s could not be delivered (%s) and has no "
            "smaller replacement",
            record.kind,
            len(record.value),
            record.topic,
            type(error).__name__,
        )

    def _waiting(self, failed: list[Outgoing]) -> None:
        if self.waiting_since is None:
            self.waiting_since = time.monotonic()
            log.warning(
                "the broker has not acknowledged %d records (%s); retrying with backoff, "
                "consuming paused",
                len(failed),
                type(failed[0].error).__name__,
            )
        self.metrics.send_retries.inc(len(failed))
        self.metrics.unconfirmed_records.set(len(failed))


async def _outcome(record: Outgoing) -> BaseException | None:
    if record.error is not None:
        return record.error
    if record.future is None:
        return None
    try:
        await record.future
    except KafkaError as exc:
        record.error = exc
        return exc
    return None


def _retriable(error: BaseException) -> bool:
    """Worth sending again: Kafka says so, or the broker did not answer in time (aiokafka
    does not mark its own timeout retriable; here it means the broker is away)."""
    return isinstance(error, KafkaTimeoutError) or bool(getattr(error, "retriable", False))
