"""The case agents' per-message handling (engine/stream/case_agents.py) without Kafka.

The tables are stand-ins that behave like Faust's (a missing key reads as the default, and
deleting it raises); the topics are a list of what was sent.
"""

from __future__ import annotations

import asyncio
import collections
import logging

import msgspec
import pytest

from engine.config import Settings
from engine.core.decode import Message, decode_profile
from engine.metrics import Metrics
from engine.stream.case_agents import CaseHandlers, CaseStore
from tests.conftest import alerts_and_profiles

SETTINGS = Settings()


@pytest.fixture(scope="module")
def pipeline(small_dataset):
    """The small data set's alerts and profiles."""
    return alerts_and_profiles(small_dataset)


class FaustLikeTable(collections.UserDict):
    """Like a Faust table with ``default=str``: a missing key reads as "", ``del`` of one
    raises KeyError (so ``pop(key, None)`` does too)."""

    def __missing__(self, key):
        return ""


@pytest.fixture
def agents():
    sent = []

    async def send(topic, key, value, headers=None):
        sent.append((topic, key, value))

    store = CaseStore(FaustLikeTable(), FaustLikeTable(), Metrics())
    return CaseHandlers(SETTINGS, store, send), sent


def run(handlers, handler, key, value, topic="t"):
    message = Message(topic, 0, 7, key, value)
    asyncio.run(handlers.guarded(handler, message))


def dead_letters(sent):
    return [msgspec.json.decode(v) for t, _, v in sent if t == SETTINGS.dead_letter_topic]


def metric(handlers, name, **labels):
    return handlers.metrics.registry.get_sample_value(name, labels) or 0


def test_a_profile_keyed_by_another_customer_is_not_stored(agents, pipeline):
    """Refused, and dead-lettered once: by the firehose, which reads the same message with the
    same decoder (tests/test_hostile_broker.py counts the letters end to end)."""
    handlers, sent = agents
    _, profiles = pipeline
    a, b = list(profiles.values())[:2]
    run(handlers, handlers.on_profile, a.customer_id.encode(), msgspec.json.encode(b))
    assert not {a.customer_id, b.customer_id} & set(handlers.store.profiles)
    assert dead_letters(sent) == []
    message = Message("profiles", 0, 7, a.customer_id.encode(), msgspec.json.encode(b))
    assert decode_profile(message).reason_class == "key_mismatch"  # the firehose's letter
    run(handlers, handlers.on_profile, b.customer_id.encode(), msgspec.json.encode(b))
    assert b.customer_id in handlers.store.profiles


def test_a_tombstone_for_a_customer_without_a_profile_changes_nothing(agents):
    handlers, sent = agents
    run(handlers, handlers.on_profile, b"C-NEVER-SEEN", None)
    assert sent == [] and metric(handlers, "protect_handler_errors_total", stage="case_agent") == 0


def test_an_alert_that_cannot_join_a_case_is_dead_lettered_with_a_reason(agents, pipeline):
    handlers, sent = agents
    alerts, _ = pipeline
    run(handlers, handlers.on_alert, b"C1", b"not an alert")
    alert = alerts[0]
    run(handlers, handlers.on_alert, b"SOMEONE-ELSE", msgspec.json.encode(alert))
    letters = dead_letters(sent)
    assert [d["reason_class"] for d in letters] == ["invalid_json", "key_mismatch"]
    assert metric(handlers, "protect_dead_letters_total", reason_class="key_mismatch") == 1
    assert handlers.store.cases == {}
    run(handlers, handlers.on_alert, alert.customer_id.encode(), msgspec.json.encode(alert))
    assert alert.customer_id in handlers.store.cases


def test_a_handler_that_raises_dead_letters_the_message_and_the_agent_goes_on(
    agents, pipeline, caplog
):
    handlers, sent = agents
    alerts, _ = pipeline
    alert = alerts[0]

    def broken(*args):
        raise RuntimeError(f"boom for {alert.customer_id}")

    handlers.store.entry = broken
    with caplog.at_level(logging.ERROR):
        run(handlers, handlers.on_alert, alert.customer_id.encode(), msgspec.json.encode(alert))
    [letter] = dead_letters(sent)
    assert letter["reason_class"] == "handler_error" and "RuntimeError" in letter["reason"]
    assert metric(handlers, "protect_handler_errors_total", stage="case_agent") == 1
    assert caplog.records and alert.customer_id not in caplog.text  # no customer data logged


def test_a_package_that_cannot_be_built_is_counted_and_logged_without_customer_data(
    agents, pipeline, caplog, monkeypatch
):
    from engine.cases.disclosure import DisclosureError
    from engine.stream import case_agents

    handlers, sent = agents
    alerts, _ = pipeline
    alert = alerts[0]

    def invalid(entry, profiles):
        raise DisclosureError(f"$.subject.name: {alert.customer_id!r} is not valid")

    monkeypatch.setattr(case_agents, "package_for", invalid)
    with caplog.at_level(logging.INFO):
        run(handlers, handlers.on_alert, alert.customer_id.encode(), msgspec.json.encode(alert))
    assert alert.customer_id in handlers.store.cases  # kept, published at the next round
    assert [t for t, _, _ in sent if t == SETTINGS.disclosures_topic] == []
    assert metric(handlers, "protect_handler_errors_total", stage="case_package") == 1
    assert "DisclosureError" in caplog.text and alert.customer_id not in caplog.text
