"""Poison pills through the real broker to a running worker, on every topic it reads.

The first version's worker died on each of these and crash-looped on restart (issue: a
message nested 1,000 deep on ``reference`` or ``party-signals`` stopped it from ever
starting again). Here the worker must consume everything, dead-letter each bad message with
its reason class, process the valid ones and stop cleanly.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter

import pytest
from aiokafka import AIOKafkaProducer

from engine.stream.kafka import ensure_topics
from engine.tools.demo import metric_sum, read_topic
from tests.test_integration import run_worker_until

pytestmark = pytest.mark.integration

GOOD = {
    "txn_id": "T1", "re_id": "RE1", "ts": "2026-03-14T23:41:07-05:00", "customer_id": "C1",
    "account_id": "A1", "txn_type": "cash_deposit", "channel": "atm", "amount": 200,
    "currency": "CAD",
}  # fmt: skip
NESTED = b"[" * 1000 + b"]" * 1000


def row(**change) -> bytes:
    return json.dumps({**GOOD, **change}).encode()


def nested(value: bytes) -> bytes:
    return value[:-1] + b', "extra": ' + NESTED + b"}"


def halves() -> list[bytes]:
    """Two values, each invalid JSON, that joined with a comma are two valid rows."""
    joined = (
        json.dumps({**GOOD, "txn_id": "H1", "memo": "x},{y"})
        + ","
        + json.dumps({**GOOD, "txn_id": "H2"})
    )
    cut = joined.index("x},") + 2
    return [joined[:cut].encode(), joined[cut + 1 :].encode()]


def test_a_running_worker_survives_every_poison_pill(topics, tmp_path):
    settings = dataclasses.replace(topics, cross_customer=True)
    transactions = [
        (row(txn_id="V1"), None),
        (row(txn_id="V2", mcc=5812), None),  # a JSON number: the contract allows it
        (nested(row(txn_id="D1")), "too_deep"),
        (row(txn_id="L1", linked_txn_id="L" * 25_000), "invalid_field"),
        (row(txn_id="O1", memo="m" * 200_000), "oversize"),
        (row(txn_id="A1", amount=1e26), "out_of_range"),
        (row(txn_id="F1", ts="2031-01-01T00:00:00-05:00"), "out_of_range"),  # years ahead
        (row(txn_id="Y1", ts="0001-01-01T00:00:00+05:00"), "out_of_range"),
        *[(half, "invalid_json") for half in halves()],
        (row(txn_id="V3"), None),
    ]
    profile = nested(json.dumps({"customer_id": "C1"}).encode())
    engine_topics = [b"garbage", NESTED]  # party signals and findings

    async def send() -> None:
        await ensure_topics(settings)
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap, max_request_size=1_048_576
        )
        await producer.start()
        try:
            for value, _ in transactions:
                await producer.send_and_wait(settings.transactions_topic, value, key=b"C1")
            await producer.send_and_wait(settings.profiles_topic, profile, key=b"C1")
            await producer.send_and_wait(
                settings.reference_topic, NESTED, key=b"escort_ad_platforms"
            )
            for value in engine_topics:
                await producer.send_and_wait(settings.party_signals_topic, value, key=b"k")
                await producer.send_and_wait(settings.findings_topic, value, key=b"C1")
        finally:
            await producer.stop()

    asyncio.run(send())
    consumed = len(transactions) + 1 + len(engine_topics)  # transactions, profiles, findings
    expected = Counter(c for _, c in transactions if c) + Counter(
        {"too_deep": 1 + 1 + 2, "invalid_signal": 2}
    )  # profile, reference, signal + finding
    # asserts a clean exit; waits for the feeds' letters too (party signals are not input)
    samples = run_worker_until(settings, tmp_path, consumed, dead_letters=sum(expected.values()))
    assert metric_sum(samples, "protect_transactions_processed") == 3  # V1, V2 (mcc 5812), V3
    letters = [
        json.loads(v)
        for v in asyncio.run(
            read_topic(settings.bootstrap, settings.dead_letter_topic, sum(expected.values()))
        )
    ]
    assert Counter(letter["reason_class"] for letter in letters) == expected
    by_topic = Counter(letter["source_topic"] for letter in letters)
    assert by_topic[settings.reference_topic] == 1 and by_topic[settings.party_signals_topic] == 2
