"""All Prometheus metrics in one bundle, built with an injectable registry (STYLE item 10).

Labels are bounded: topic, partition, indicator, family, role, reason class. Never a
customer, account or transaction id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from indicators.profile_rules import PROFILE_RULES
from indicators.registry import REGISTRY
from schemas.contract import CASE_STATUSES, DISPOSITION_ACTIONS, ROLE_HYPOTHESES

# `*_created` series double the exposition for no operational value.
disable_created_metrics()

# The reason classes the engine gives dead letters (tests/test_metrics.py keeps this list in
# step with every module that makes them).
DEAD_LETTER_REASON_CLASSES = (
    "invalid_json",
    "invalid_type",
    "invalid_field",
    "missing_field",
    "key_mismatch",
    "empty_message",
    "oversize",
    "too_deep",
    "out_of_range",
    "invalid_reference",
    "invalid_signal",
    "handler_error",
    "case_refused",
    "unverified_package",
    "duplicate",
)
# What folding an alert into a case did (engine/cases/model.py AlertResult keeps these in step).
CASE_UPDATE_RESULTS = ("opened", "joined", "duplicate", "snoozed", "reopened")
INDICATOR_OUTCOMES = ("true_positive", "false_positive")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
BATCH_BUCKETS = (1, 10, 100, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 50_000, 100_000)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.input_messages = Counter(
            "protect_input_messages",
            "Messages consumed and handled (detected, applied or dead-lettered)",
            ["topic"],
            registry=r,
        )
        self.input_bytes = Counter(
            "protect_input_bytes", "Message value bytes consumed", ["topic"], registry=r
        )
        self.transactions = Counter(
            "protect_transactions_processed",
            "Valid transactions run through the kernels",
            registry=r,
        )
        self.dead_letters = Counter(
            "protect_dead_letters", "Messages sent to dead-letters", ["reason_class"], registry=r
        )
        # A handler raised on a message or batch: the messages responsible were dead-lettered
        # and the worker went on (stage: firehose, feed, case_agent, case_reader, ...).
        self.handler_errors = Counter(
            "protect_handler_errors",
            "Errors raised while a message or batch "
            "was handled (its messages were dead-lettered)",
            ["stage"],
            registry=r,
        )
        self.alerts = Counter("protect_alerts", "Alerts published", ["role"], registry=r)
        self.alert_families = Counter(
            "protect_alert_families",
            "Published alerts carrying at least one indicator "
            "of the family (an alert counts once per family)",
            ["family"],
            registry=r,
        )
        self.alert_indicators = Counter(
            "protect_alert_indicators",
            "Indicators carried by published alerts",
            ["indicator", "family"],
            registry=r,
        )
        self.indicator_fires = Counter(
            "protect_indicator_fires", "Rows on which an indicator fired", ["indicator"], registry=r
        )
        self.batch_size = Histogram(
            "protect_batch_size", "Messages per processed batch", buckets=BATCH_BUCKETS, registry=r
        )
        self.batch_seconds = Histogram(
            "protect_batch_seconds",
            "Time to decode and run one batch",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.alert_event_lag = Histogram(
            "protect_alert_event_lag_seconds",
            "Alert creation time minus the triggering transaction's event time",
            buckets=(1, 10, 60, 600, 3600, 86_400, 7 * 86_400, 90 * 86_400),
            registry=r,
        )
        self.alert_latency = Histogram(
            "protect_alert_latency_seconds",
            "Alert published minus the triggering transaction's arrival on Kafka",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.processing_delay = Histogram(
            "protect_processing_delay_seconds",
            "Batch processed minus the arrival of its oldest record",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.consumer_lag = Gauge(
            "protect_consumer_lag",
            "Records in the partition not yet processed "
            "(last known high watermark minus position)",
            ["topic", "partition"],
            registry=r,
        )
        self.state_customers = Gauge(
            "protect_state_customers", "Customers held in state", registry=r
        )
        self.state_bytes = Gauge(
            "protect_state_bytes", "Bytes of per-customer state arrays", registry=r
        )
        self.party_index_keys = Gauge(
            "protect_party_index_keys",
            "Party keys in this worker's party index "
            "(customers flagged to the cross-customer stage)",
            registry=r,
        )
        self.partitions = Gauge(
            "protect_partitions_assigned", "Input partitions assigned to this worker", registry=r
        )
        self.checkpoint_seconds = Histogram(
            "protect_checkpoint_seconds",
            "Time to flush, save and commit",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.checkpoints_rebuilt = Counter(
            "protect_checkpoints_rebuilt",
            "Partitions whose checkpoint could not be used, rebuilt from the topic instead",
            registry=r,
        )
        self.checkpoint_bytes = Gauge(
            "protect_checkpoint_bytes", "Bytes of the last checkpoint written", registry=r
        )
        # Delivery of the firehose's own records (engine/stream/outbox.py); kind: alert,
        # dead_letter, identifier, party_signal.
        self.send_retries = Counter(
            "protect_send_retries",
            "Records sent again after the broker failed to acknowledge them (retriable errors)",
            registry=r,
        )
        self.unconfirmed_records = Gauge(
            "protect_unconfirmed_records",
            "Records waiting to be acknowledged after a failed send (0 when the broker keeps up)",
            registry=r,
        )
        self.outputs_refused = Counter(
            "protect_outputs_refused",
            "Records the broker refused for good (too large...); a smaller replacement was tried",
            ["kind"],
            registry=r,
        )
        self.outputs_lost = Counter(
            "protect_outputs_lost",
            "Records that could not be delivered at all, even as a replacement (logged)",
            ["kind"],
            registry=r,
        )
        self.last_checkpoint = Gauge(
            "protect_last_checkpoint_timestamp_seconds",
            "Unix time of the last completed checkpoint",
            registry=r,
        )
        self.cases = Gauge(
            "protect_cases", "Cases held by this worker, by status", ["status"], registry=r
        )
        self.case_updates = Counter(
            "protect_case_updates",
            "Alerts handled by case assembly, by what happened "
            "(opened, joined, duplicate, snoozed, reopened)",
            ["result"],
            registry=r,
        )
        self.disclosures = Counter(
            "protect_disclosures", "Disclosure packages published", registry=r
        )
        self.dispositions = Counter(
            "protect_dispositions", "Analyst dispositions applied", ["action"], registry=r
        )
        self.dispositions_refused = Counter(
            "protect_dispositions_refused",
            "Dispositions refused (unknown or decided case, bad message)",
            registry=r,
        )
        self.indicator_outcomes = Counter(
            "protect_indicator_outcomes",
            "Indicators of filed (true_positive) " "and closed-as-false-positive cases",
            ["indicator", "outcome"],
            registry=r,
        )
        self.committed_offset = Gauge(
            "protect_committed_offset",
            "Next offset committed to the group",
            ["topic", "partition"],
            registry=r,
        )

        # Every series whose label values are known up front exists from the start, at 0.
        # A counter series created by its first increment enters Prometheus already at 1 (or
        # at 10,000 after a burst of bad messages), and rate() / increase() never count that
        # first step: the first dead letters of a kind, or the first alert of a family,
        # would be invisible to the dashboard and to the alerting rules.
        for role in ROLE_HYPOTHESES:
            self.alerts.labels(role)
        for reason_class in DEAD_LETTER_REASON_CLASSES:
            self.dead_letters.labels(reason_class)
        for spec in REGISTRY.values():
            self.indicator_fires.labels(spec.id)
        for status in CASE_STATUSES:
            self.cases.labels(status)
        for result in CASE_UPDATE_RESULTS:
            self.case_updates.labels(result)
        for action in DISPOSITION_ACTIONS:
            self.dispositions.labels(action)
        for rule in (*REGISTRY.values(), *PROFILE_RULES):
            for outcome in INDICATOR_OUTCOMES:
                self.indicator_outcomes.labels(rule.id, outcome)
        for rule in (*REGISTRY.values(), *PROFILE_RULES):
            self.alert_indicators.labels(rule.id, rule.family)
            self.alert_families.labels(rule.family)

    def declare_topics(self, topics: Iterable[str]) -> None:
        """Create the input series of ``topics`` at 0 before anything is consumed. Without
        them a worker that never received a message has no input series at all, and the
        "no input" alert (an input rate of 0) could never fire for it."""
        for topic in topics:
            self.input_messages.labels(topic)
            self.input_bytes.labels(topic)

    def forget_partitions(self, partitions: Iterable[int], topics: Iterable[str]) -> None:
        """Drop the per-partition series of revoked partitions. Left behind, a worker would
        keep reporting the last lag it saw for a partition now read by another worker, and
        sums across workers would count that partition twice."""
        topics = list(topics)
        for p in partitions:
            for topic in topics:
                for gauge in (self.consumer_lag, self.committed_offset):
                    with contextlib.suppress(KeyError):  # never set on this worker
                        gauge.remove(topic, str(p))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
