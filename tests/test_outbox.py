"""Nothing the firehose sends is lost silently (engine/stream/outbox.py), on a real broker:

- a record the broker refuses for good goes out as its smaller replacement, or is counted
  and logged as lost when it has none;
- while the broker is frozen (SIGSTOP: connections open, nothing answers) the records are
  retried with backoff and every one is on the topic once it answers again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import uuid

import msgspec
import pytest

from engine.config import Settings
from engine.metrics import Metrics
from engine.stream.broker import free_port, start_broker
from engine.stream.firehose import _alert_without_rows, _dead_letter_without_value
from engine.stream.kafka import ensure_topics, make_producer
from engine.stream.outbox import Outbox
from engine.tools.demo import read_topic
from indicators.examples import txn
from schemas import Alert, DeadLetter, Transaction

pytestmark = pytest.mark.integration


def _value(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def _alert(rows: int) -> Alert:
    transactions = [
        msgspec.convert(dict(txn(i, "cash_deposit", 100.0), memo="x" * 500), Transaction)
        for i in range(rows)
    ]
    return Alert(
        alert_id="A-1", customer_id="C-EXAMPLE", role_hypothesis="unknown", score=1.0,
        families=["CASHGEO"], indicators=[], window_start="2026-01-01T00:00:00Z",
        window_end="2026-01-02T00:00:00Z", created_at="2026-01-02T00:00:00Z",
        ppp_code="PROTECT", engine_version="test", config_hash="0", trigger_txn_id="T0",
        trigger="test", transactions=transactions,
    )  # fmt: skip


async def _refusals(bootstrap: str, topic: str, caplog) -> Metrics:
    settings = Settings(bootstrap=bootstrap, partitions=1, alerts_topic=topic)  # one: in order
    await ensure_topics(settings)
    # The client refuses what is over max_request_size, as a broker does over message.max.bytes.
    producer = make_producer(settings, max_request_size=4_096, max_batch_size=4_096)
    await producer.start()
    metrics = Metrics()
    outbox = Outbox(producer, metrics)
    try:
        big_alert = _alert(rows=20)  # > 10 KB with its rows, < 1 KB without
        letter = DeadLetter(
            source_topic="transactions", partition=0, offset=7, key=None, key_encoding="utf-8",
            value="y" * 20_000, value_encoding="utf-8", reason="invalid_json: ...",
            reason_class="invalid_json", received_at="2026-01-02T00:00:00Z",
        )  # fmt: skip
        await outbox.send("ordinary", topic, b"small", b"k")
        await outbox.send(
            "alert", topic, msgspec.json.encode(big_alert), None,
            lambda: _alert_without_rows(big_alert),
        )  # fmt: skip
        await outbox.send(
            "dead_letter", topic, msgspec.json.encode(letter), None,
            lambda: _dead_letter_without_value(letter),
        )  # fmt: skip
        await outbox.send("party_signal", topic, b"z" * 10_000)  # no replacement: lost
        with caplog.at_level(logging.ERROR, logger="engine.stream.outbox"):
            await asyncio.wait_for(outbox.confirm(), 60)
    finally:
        await producer.stop()
    return metrics


def test_a_refused_record_goes_out_smaller_or_is_counted_as_lost(bootstrap, caplog):
    topic = f"outbox-{uuid.uuid4().hex[:8]}"
    metrics = asyncio.run(_refusals(bootstrap, topic, caplog))

    values = asyncio.run(read_topic(bootstrap, topic, 3, timeout=30))
    assert values[0] == b"small" and len(values) == 3
    alert = msgspec.json.decode(values[1], type=Alert)
    assert alert.transactions == [] and alert.transactions_omitted == 20
    letter = msgspec.json.decode(values[2], type=DeadLetter)
    assert letter.value is None and letter.offset == 7 and "left out" in letter.reason
    assert _value(metrics, "protect_outputs_refused_total", kind="alert") == 1
    assert _value(metrics, "protect_outputs_refused_total", kind="dead_letter") == 1
    assert _value(metrics, "protect_outputs_lost_total", kind="party_signal") == 1
    assert _value(metrics, "protect_outputs_lost_total", kind="alert") == 0
    lost = [r for r in caplog.records if r.getMessage().startswith("LOST")]
    assert len(lost) == 1 and "party_signal" in lost[0].getMessage()


async def _through_an_outage(broker, bootstrap: str, topic: str) -> tuple[Metrics, list[float]]:
    settings = Settings(bootstrap=bootstrap, partitions=1, alerts_topic=topic)
    await ensure_topics(settings)
    producer = make_producer(settings, request_timeout_ms=1_500, retry_backoff_ms=100)
    await producer.start()
    metrics = Metrics()
    outbox = Outbox(producer, metrics, backoff_s=0.2, max_backoff_s=1.0)
    waited: list[float] = []
    try:
        os.kill(broker.pid, signal.SIGSTOP)
        try:
            for i in range(20):
                await outbox.send("alert", topic, f"record-{i}".encode())
            confirming = asyncio.ensure_future(outbox.confirm())
            for _ in range(40):  # until the outbox has seen the broker fail to answer
                await asyncio.sleep(0.25)
                if outbox.waiting_since is not None:
                    break
            assert not confirming.done(), "confirmed while the broker was frozen"
            waited.append(_value(metrics, "protect_unconfirmed_records"))
        finally:
            os.kill(broker.pid, signal.SIGCONT)
        await asyncio.wait_for(confirming, 120)
        assert outbox.waiting_since is None and len(outbox) == 0
    finally:
        await producer.stop()
    return metrics, waited


def test_records_sent_while_the_broker_is_frozen_all_arrive_once_it_answers(tmp_path):
    port = free_port()
    broker = start_broker(port, tmp_path / "broker.log")
    bootstrap = f"127.0.0.1:{port}"
    topic = f"outbox-{uuid.uuid4().hex[:8]}"
    try:
        metrics, waited = asyncio.run(_through_an_outage(broker, bootstrap, topic))
        values = asyncio.run(read_topic(bootstrap, topic, 20, timeout=60))
    finally:
        os.kill(broker.pid, signal.SIGCONT)
        broker.terminate()
        broker.wait(timeout=10)
    # At least once: every record is there (a retry may have doubled one the broker had).
    assert {v.decode() for v in values} == {f"record-{i}" for i in range(20)}
    assert waited[0] > 0 and _value(metrics, "protect_send_retries_total") >= 1
    assert _value(metrics, "protect_unconfirmed_records") == 0
