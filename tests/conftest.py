"""Shared fixtures: a real embedded broker for integration tests, small generated data."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import msgspec
import pytest

from engine.config import Settings
from engine.stream.broker import embedded_broker
from engine.tools.backtest import backtest
from schemas import Profile

PACKAGE_KEY = "test-package-key-0123456789abcdef0123456789"  # seals packages (seal.py)


def alerts_and_profiles(dataset: Path):
    """A backtest's alerts over a data set and its profiles by customer id: what the
    ``pipeline`` fixtures of the case tests return."""
    result, _ = backtest(dataset / "transactions.jsonl", dataset / "profiles.jsonl", Settings())
    decoder = msgspec.json.Decoder(Profile)
    with open(dataset / "profiles.jsonl", "rb") as f:
        profiles = {p.customer_id: p for p in (decoder.decode(line) for line in f if line.strip())}
    assert result.alerts
    return result.alerts, profiles


@pytest.fixture(scope="session")
def bootstrap():
    """The Kafka-protocol broker: the one CI started (PROTECT_TEST_BOOTSTRAP) or our own."""
    existing = os.environ.get("PROTECT_TEST_BOOTSTRAP")
    if existing:
        yield existing
        return
    with embedded_broker() as address:
        yield address


@pytest.fixture
def topics(bootstrap) -> Settings:
    """Settings with topic and group names unique to one test (the broker is shared)."""
    tag = uuid.uuid4().hex[:8]
    return Settings.build(
        {
            "bootstrap": bootstrap,
            "transactions_topic": f"transactions-{tag}",
            "profiles_topic": f"profiles-{tag}",
            "reference_topic": f"reference-{tag}",
            "alerts_topic": f"alerts-{tag}",
            "dead_letter_topic": f"dead-letters-{tag}",
            "identifiers_topic": f"identifiers-{tag}",
            "findings_topic": f"findings-{tag}",
            "party_signals_topic": f"party-signals-{tag}",
            "disclosures_topic": f"disclosures-{tag}",
            "dispositions_topic": f"dispositions-{tag}",
            # the second stage is eventually consistent: tests that compare with a backtest run
            # without it
            "cross_customer": False,
            "group_id": f"protect-{tag}",
            "partitions": 2,
            "session_timeout_ms": 6000,
            "checkpoint_interval_s": 1.0,
            "package_key": PACKAGE_KEY,
        }
    )


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory) -> Path:
    """A generated population (deterministic) shared by the end-to-end tests."""
    from engine.synthetic import generate

    out = tmp_path_factory.mktemp("data")
    generate(out, customers=600, days=30, seed=11, progress=False)
    return out
