"""All Prometheus metrics in one bundle, built with an injectable registry (STYLE item 10).

Labels are bounded: topic, partition, indicator, family, role, reason class. Never a
customer, account or transaction id.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest

# `*_created` series double the exposition for no operational value.
disable_created_metrics()

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
BATCH_BUCKETS = (1, 10, 100, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 50_000, 100_000)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.input_messages = Counter("protect_input_messages", "Messages consumed", ["topic"], registry=r)
        self.input_bytes = Counter("protect_input_bytes", "Message value bytes consumed", ["topic"], registry=r)
        self.transactions = Counter("protect_transactions_processed", "Valid transactions run through the kernels",
                                    registry=r)
        self.dead_letters = Counter("protect_dead_letters", "Messages sent to dead-letters", ["reason_class"],
                                    registry=r)
        self.alerts = Counter("protect_alerts", "Alerts published", ["role"], registry=r)
        self.alert_indicators = Counter("protect_alert_indicators", "Indicators carried by published alerts",
                                        ["indicator", "family"], registry=r)
        self.indicator_fires = Counter("protect_indicator_fires", "Rows on which an indicator fired",
                                       ["indicator"], registry=r)
        self.batch_size = Histogram("protect_batch_size", "Messages per processed batch", buckets=BATCH_BUCKETS,
                                    registry=r)
        self.batch_seconds = Histogram("protect_batch_seconds", "Time to decode and run one batch",
                                       buckets=LATENCY_BUCKETS, registry=r)
        self.alert_event_lag = Histogram("protect_alert_event_lag_seconds",
                                         "Alert creation time minus the triggering transaction's event time",
                                         buckets=(1, 10, 60, 600, 3600, 86_400, 7 * 86_400, 90 * 86_400),
                                         registry=r)
        self.alert_latency = Histogram("protect_alert_latency_seconds",
                                       "Alert published minus the triggering transaction's arrival on Kafka",
                                       buckets=LATENCY_BUCKETS, registry=r)
        self.processing_delay = Histogram("protect_processing_delay_seconds",
                                          "Batch processed minus the arrival of its oldest record",
                                          buckets=LATENCY_BUCKETS, registry=r)
        self.consumer_lag = Gauge("protect_consumer_lag", "Records in the partition not yet processed "
                                  "(last known high watermark minus position)", ["topic", "partition"], registry=r)
        self.state_customers = Gauge("protect_state_customers", "Customers held in state", registry=r)
        self.state_bytes = Gauge("protect_state_bytes", "Bytes of per-customer state arrays", registry=r)
        self.partitions = Gauge("protect_partitions_assigned", "Input partitions assigned to this worker",
                                registry=r)
        self.checkpoint_seconds = Histogram("protect_checkpoint_seconds", "Time to flush, save and commit",
                                            buckets=LATENCY_BUCKETS, registry=r)
        self.checkpoint_bytes = Gauge("protect_checkpoint_bytes", "Bytes of the last checkpoint written",
                                      registry=r)
        self.last_checkpoint = Gauge("protect_last_checkpoint_timestamp_seconds",
                                     "Unix time of the last completed checkpoint", registry=r)
        self.committed_offset = Gauge("protect_committed_offset", "Next offset committed to the group",
                                      ["topic", "partition"], registry=r)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
