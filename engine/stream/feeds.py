"""Reference-list updates from the compacted ``reference`` topic, applied while running.

Every worker reads the whole topic (no consumer group: lists are global, not partitioned
by customer). Key = list name, value = ``{"match": ..., "terms": [...]}``; a tombstone
restores the shipped default for that list. An update takes effect from the next batch
and changes the alerts' ``config_hash``; an unusable message becomes a dead letter.
"""

from __future__ import annotations

import json
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from engine.config import Settings
from engine.core.decode import DEFAULT_LIMITS, Message, dead_letter, frame_problem
from engine.core.reference import ReferenceLists
from engine.errors import ReferenceListError
from engine.stream.kafka import client_security
from schemas import DeadLetter
from schemas.limits import InputLimits

log = logging.getLogger(__name__)


def apply_reference_messages(
    lists: ReferenceLists, messages: list[Message], limits: InputLimits = DEFAULT_LIMITS
) -> tuple[ReferenceLists, list[DeadLetter], int]:
    """Apply messages in order; returns the new lists, dead letters and how many applied."""
    defaults = ReferenceLists.load()
    dead: list[DeadLetter] = []
    applied = 0
    for message in messages:
        name = (message.key or b"").decode("utf-8", "replace")
        try:
            if not name:
                raise ReferenceListError("reference messages need the list name as key")
            if message.value is None:
                if name not in defaults.lists:
                    raise ReferenceListError(
                        f"unknown list {name!r}; known lists: {sorted(defaults.lists)}"
                    )
                document = {
                    "match": "|".join(defaults.lists[name].fields),
                    "terms": list(defaults.lists[name].terms),
                }
            else:
                problem = frame_problem(message, limits.max_other_bytes, limits)
                if problem is not None:
                    dead.append(
                        dead_letter(message, f"reference list {name!r}: {problem[0]}", problem[1])
                    )
                    continue
                document = json.loads(message.value)
            lists = lists.replace(name, document)
            applied += 1
        except (ReferenceListError, ValueError) as exc:
            dead.append(
                dead_letter(message, f"reference list {name!r}: {exc}", "invalid_reference")
            )
        except Exception as exc:  # noqa: BLE001 - no message may stop the worker
            dead.append(
                dead_letter(
                    message,
                    f"reference list {name!r}: handling it raised " f"{type(exc).__name__}",
                    "handler_error",
                )
            )
    return lists, dead, applied


class WholeTopicFeed:
    """Reads every partition of one topic from the beginning, without a group; non-blocking
    polls. For topics every worker needs whole: reference lists, party signals."""

    def __init__(self, settings: Settings, topic: str):
        self.settings = settings
        self.topic = topic
        self.consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        s = self.settings
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=s.bootstrap,
            enable_auto_commit=False,
            group_id=None,
            **client_security(s),
        )
        await self.consumer.start()
        partitions = self.consumer.partitions_for_topic(self.topic) or set()
        if not partitions:
            await self.consumer._client.force_metadata_update()  # noqa: SLF001 - topic just created
            partitions = self.consumer.partitions_for_topic(self.topic) or {0}
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self.consumer.assign(tps)
        for tp in tps:
            self.consumer.seek(tp, 0)

    async def poll(self) -> list[Message]:
        if self.consumer is None:
            return []
        records = await self.consumer.getmany(timeout_ms=0)
        messages = [
            Message(tp.topic, tp.partition, r.offset, r.key, r.value, r.timestamp)
            for tp, batch in sorted(records.items(), key=lambda item: item[0].partition)
            for r in batch
        ]
        return messages

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None
