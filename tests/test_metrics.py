"""The metrics bundle with an injected registry (STYLE item 10): names, bounded labels,
buckets, series that exist before their first event, and what the firehose records."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from types import SimpleNamespace

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

import engine.core.decode
import engine.stream.firehose
from engine.config import Settings
from engine.core.detector import BatchResult
from engine.metrics import BATCH_BUCKETS, DEAD_LETTER_REASON_CLASSES, LATENCY_BUCKETS, Metrics
from engine.stream.outbox import Outbox
from indicators.profile_rules import PROFILE_RULES
from indicators.registry import REGISTRY
from schemas.contract import ROLE_HYPOTHESES

BOUNDED_LABELS = {
    "topic",
    "partition",
    "reason_class",
    "role",
    "indicator",
    "family",
    "status",
    "result",
    "action",
    "outcome",
}  # the last four: fixed sets in engine/metrics.py


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_bundles_with_their_own_registries_do_not_share_anything():
    registry = CollectorRegistry()
    a, b = Metrics(registry), Metrics()
    assert a.registry is registry and b.registry is not registry
    a.transactions.inc(5)
    assert value(a, "protect_transactions_processed_total") == 5
    assert value(b, "protect_transactions_processed_total") == 0


def test_names_help_and_labels_are_bounded():
    families = list(Metrics().registry.collect())
    assert len(families) >= 20
    for family in families:
        assert family.name.startswith("protect_"), family.name
        assert family.documentation, family.name
        for sample in family.samples:
            assert set(sample.labels) - {"le"} <= BOUNDED_LABELS, (family.name, sample.labels)


def test_buckets_fit_their_units():
    assert list(LATENCY_BUCKETS) == sorted(LATENCY_BUCKETS) and LATENCY_BUCKETS[0] <= 0.01
    assert list(BATCH_BUCKETS) == sorted(BATCH_BUCKETS)
    assert Settings().max_batch in BATCH_BUCKETS  # a full batch is told apart from a larger one


def test_series_with_known_labels_exist_at_zero_before_any_event():
    """rate() and increase() only count what happens after a series' first scrape."""
    m = Metrics()
    for role in ROLE_HYPOTHESES:
        assert value(m, "protect_alerts_total", role=role) == 0
    for reason_class in DEAD_LETTER_REASON_CLASSES:
        assert value(m, "protect_dead_letters_total", reason_class=reason_class) == 0
    for spec in REGISTRY.values():
        assert value(m, "protect_indicator_fires_total", indicator=spec.id) == 0
    for rule in (*REGISTRY.values(), *PROFILE_RULES):
        assert (
            value(m, "protect_alert_indicators_total", indicator=rule.id, family=rule.family) == 0
        )
        assert value(m, "protect_alert_families_total", family=rule.family) == 0


def _is_reason(node) -> bool:
    """A reason: an f-string, a variable, or a sentence (not a word like "amount")."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and " " in node.value
    return isinstance(node, ast.JoinedStr | ast.Name)


def test_reason_classes_match_what_the_engine_produces():
    """Every reason class literal in the engine (last element of a reason tuple or of a
    ``dead_letter(...)`` call, in any module that makes dead letters) is pre-declared, and
    nothing else is."""
    found = set()

    def constants(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.IfExp):
            return constants(node.body) | constants(node.orelse)
        return set()

    engine_dir = Path(engine.core.decode.__file__).parents[1]
    for path in sorted(engine_dir.rglob("*.py")):
        text = path.read_text()
        if "dead_letter" not in text and "_problem" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Tuple) and len(node.elts) == 2 and _is_reason(node.elts[0]):
                found |= constants(node.elts[1])
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "dead_letter"
                and len(node.args) == 3
            ):
                found |= constants(node.args[2])
    assert found == set(DEAD_LETTER_REASON_CLASSES)


def test_declared_topics_exist_at_zero():
    m = Metrics()
    assert value(m, "protect_input_messages_total", topic="transactions") is None
    m.declare_topics(["transactions", "profiles"])
    for topic in ("transactions", "profiles"):
        assert value(m, "protect_input_messages_total", topic=topic) == 0
        assert value(m, "protect_input_bytes_total", topic=topic) == 0


def test_revoked_partitions_leave_no_stale_series():
    m = Metrics()
    for p in (0, 1, 2):
        m.consumer_lag.labels("transactions", str(p)).set(100 + p)
        m.committed_offset.labels("transactions", str(p)).set(1000 + p)
    m.forget_partitions([1, 2, 7], ["transactions", "profiles"])  # 7 and profiles never set: fine
    assert value(m, "protect_consumer_lag", topic="transactions", partition="0") == 100
    assert value(m, "protect_committed_offset", topic="transactions", partition="0") == 1000
    for p in ("1", "2"):
        assert value(m, "protect_consumer_lag", topic="transactions", partition=p) is None
        assert value(m, "protect_committed_offset", topic="transactions", partition=p) is None


def test_exposition_is_valid_prometheus_text():
    m = Metrics()
    m.batch_seconds.observe(0.02)
    m.consumer_lag.labels("transactions", "0").set(3)
    text = m.exposition().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["protect_batch_seconds"].type == "histogram"
    assert families["protect_input_messages"].type == "counter"
    assert "_created" not in text


class _Producer:
    def __init__(self):
        self.sent: list[tuple[str, bytes]] = []

    async def send(self, topic, value, key=None):
        self.sent.append((topic, value))


def test_published_alerts_count_once_per_family(monkeypatch):
    """An alert carrying PP-12 and PP-13 (both CASHGEO) and PP-01 (ADV) counts one CASHGEO
    and one ADV alert, and one alert per indicator."""
    monkeypatch.setattr(engine.stream.firehose, "encode_alert", lambda alert: b"{}")
    metrics = Metrics()
    firehose = engine.stream.firehose.Firehose(Settings(), metrics, detector=SimpleNamespace())
    firehose.producer = _Producer()
    firehose.outbox = Outbox(firehose.producer, metrics)
    indicators = [
        SimpleNamespace(id=i, family=f)
        for i, f in (("PP-12", "CASHGEO"), ("PP-13", "CASHGEO"), ("PP-01", "ADV"))
    ]
    alert = SimpleNamespace(
        customer_id="C1", role_hypothesis="possible_victim", indicators=indicators
    )
    asyncio.run(firehose._publish(BatchResult(alerts=[alert], transactions=10, fired={"PP-12": 2})))
    assert value(metrics, "protect_alerts_total", role="possible_victim") == 1
    assert value(metrics, "protect_alert_families_total", family="CASHGEO") == 1
    assert value(metrics, "protect_alert_families_total", family="ADV") == 1
    assert (
        value(metrics, "protect_alert_indicators_total", indicator="PP-13", family="CASHGEO") == 1
    )
    assert value(metrics, "protect_indicator_fires_total", indicator="PP-12") == 2
    assert value(metrics, "protect_transactions_processed_total") == 10
    assert firehose.producer.sent == [(Settings().alerts_topic, b"{}")]


class _Client:
    async def start(self):
        pass

    def subscribe(self, topics, listener=None):
        self.topics = topics


def test_firehose_start_declares_its_input_topics(monkeypatch):
    """Before anything is consumed, so that "no input" is a rate of 0, not no data."""

    async def no_kafka(settings):
        pass

    monkeypatch.setattr(engine.stream.firehose, "ensure_topics", no_kafka)
    monkeypatch.setattr(engine.stream.firehose, "make_producer", lambda settings: _Client())
    monkeypatch.setattr(engine.stream.firehose, "make_consumer", lambda settings: _Client())
    metrics = Metrics()
    settings = Settings.build({"transactions_topic": "tx-a", "profiles_topic": "pr-a"})
    detector = SimpleNamespace(specs=[], warm_up=lambda: None, config_hash="0")
    firehose = engine.stream.firehose.Firehose(settings, metrics, detector=detector)
    firehose.reference_feed = firehose.party_feed = _Client()  # the whole-topic readers: Kafka too
    asyncio.run(firehose.start())
    assert value(metrics, "protect_input_messages_total", topic="tx-a") == 0
    assert value(metrics, "protect_input_bytes_total", topic="pr-a") == 0
