"""Kafka clients configured once: admin (topic creation), producer and batch consumer.

:func:`client_security` is the one place a Kafka client's security comes from: every
aiokafka client in the engine passes ``**client_security(settings)`` (a test walks the
source for any that does not), and the Faust app's broker list and credentials come from
:func:`faust_broker` and :func:`faust_credentials` over the same settings and TLS context.
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from engine.config import Settings
from engine.errors import BrokerError

log = logging.getLogger(__name__)


def client_security(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client: protocol, SASL (PLAIN / SCRAM) and the
    TLS context (CA bundle, client certificate, hostname check) from ``settings``."""
    options: dict[str, Any] = {"security_protocol": settings.security_protocol}
    if settings.security_protocol.startswith("SASL"):
        options.update(
            sasl_mechanism=settings.sasl_mechanism,
            sasl_plain_username=settings.sasl_username,
            sasl_plain_password=settings.sasl_password.reveal(),
        )
    context = settings.kafka_ssl_context()
    if context is not None:
        options["ssl_context"] = context
    return options


def faust_broker(settings: Settings) -> str:
    """Every bootstrap host in Faust's form, ``kafka://h1:9092;h2:9092``, so the app can
    reach the cluster when the first host is down."""
    hosts = [h.strip() for h in settings.bootstrap.split(",") if h.strip()]
    return "kafka://" + ";".join(hosts)


def faust_credentials(settings: Settings) -> Any:
    """Faust's ``broker_credentials`` for the same security as :func:`client_security`
    (None for PLAINTEXT)."""
    import faust

    context = settings.kafka_ssl_context()
    if settings.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password.reveal(),
            mechanism=settings.sasl_mechanism,
            ssl_context=context,  # SASL_SSL when set, SASL_PLAINTEXT when None
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def topic_plan(settings: Settings) -> dict[str, dict[str, str]]:
    """Every topic the engine reads or writes, with its configuration."""
    compact = {"cleanup.policy": "compact"}
    return {
        settings.transactions_topic: {},
        settings.profiles_topic: compact,
        settings.reference_topic: compact,
        settings.alerts_topic: {},
        settings.dead_letter_topic: {},
        settings.identifiers_topic: {},
        settings.findings_topic: {},
        settings.party_signals_topic: compact,  # one message per (party key, customer, signal)
        settings.disclosures_topic: compact,  # the latest package per case_id
        settings.dispositions_topic: {},
        settings.audit_topic: {},  # the analyst view's audit trail (engine/web/audit.py)
    }


async def ensure_topics(settings: Settings) -> None:
    """Create missing topics (co-partitioned inputs: same partition count everywhere)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, **client_security(settings))
    try:
        await admin.start()
    except KafkaConnectionError as exc:
        raise BrokerError(f"cannot reach Kafka at {settings.bootstrap}: {exc}") from exc
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, settings.partitions, settings.replication_factor, topic_configs=configs)
            for name, configs in topic_plan(settings).items()
            if name not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
                log.info("created topics %s", [t.name for t in wanted])
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


def make_producer(settings: Settings, **overrides) -> AIOKafkaProducer:
    options = dict(
        bootstrap_servers=settings.bootstrap,
        acks="all",
        linger_ms=10,
        max_batch_size=1_048_576,
        max_request_size=8_388_608,
    )
    options.update(overrides)
    # security apart, so an override cannot drop it (a duplicate keyword raises instead)
    return AIOKafkaProducer(**options, **client_security(settings))


def make_consumer(settings: Settings) -> AIOKafkaConsumer:
    # Range assignment keeps partition p of `transactions` and of `profiles` on the same
    # worker, so a customer's profile and transactions meet in one partition state.
    return AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        group_id=settings.group_id,
        group_instance_id=settings.group_instance_id or None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        partition_assignment_strategy=(RangePartitionAssignor,),
        max_partition_fetch_bytes=8_388_608,
        fetch_max_bytes=67_108_864,
        fetch_max_wait_ms=100,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=max(300, settings.session_timeout_ms // 4),
        rebalance_timeout_ms=max(settings.session_timeout_ms, 10_000),
        **client_security(settings),
    )
