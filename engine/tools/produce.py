"""Send JSONL files to their topics, keyed by ``customer_id``, with a batching producer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import msgspec
from tqdm import tqdm

from engine.config import Settings
from engine.stream.kafka import ensure_topics, make_producer


class _Keyed(msgspec.Struct):
    customer_id: str


_KEY = msgspec.json.Decoder(_Keyed)


def topic_for(path: Path, settings: Settings) -> str:
    """``transactions*.jsonl`` → transactions topic, ``profiles*.jsonl`` → profiles topic."""
    name = path.name.lower()
    for prefix, topic in (
        ("transactions", settings.transactions_topic),
        ("profiles", settings.profiles_topic),
    ):
        if name.startswith(prefix):
            return topic
    raise ValueError(f"{path}: cannot tell the topic from the file name; use --topic")


def key_of(line: bytes) -> bytes | None:
    """The Kafka key: the message's ``customer_id``. Unparseable lines are still sent (the
    engine dead-letters them with a reason), just without a key."""
    try:
        return _KEY.decode(line).customer_id.encode()
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


async def produce_files(
    settings: Settings, paths: list[Path], topic: str | None = None, progress: bool = True
) -> dict[str, int]:
    """Send every line of every file; returns messages sent per topic."""
    await ensure_topics(settings)
    producer = make_producer(settings, linger_ms=20, acks=1)
    await producer.start()
    sent: dict[str, int] = {}
    try:
        for path in paths:
            target = topic or topic_for(path, settings)
            total = _count_lines(path)
            started = time.perf_counter()
            with (
                open(path, "rb") as handle,
                tqdm(
                    total=total,
                    desc=f"produce {path.name} → {target}",
                    unit="msg",
                    disable=not progress,
                    unit_scale=True,
                ) as bar,
            ):
                pending = 0
                for line in handle:
                    line = line.rstrip(b"\r\n")
                    if not line.strip():
                        continue
                    await producer.send(target, line, key=key_of(line))
                    sent[target] = sent.get(target, 0) + 1
                    pending += 1
                    if pending >= 5_000:
                        bar.update(pending)
                        pending = 0
                bar.update(pending)
                await producer.flush()
            rate = sent.get(target, 0) / max(time.perf_counter() - started, 1e-9)
            if progress:
                tqdm.write(f"  {sent.get(target, 0):,} messages to {target} ({rate:,.0f}/s)")
    finally:
        await producer.stop()
    return sent


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(buf.count(b"\n") for buf in iter(lambda: handle.read(1 << 20), b""))


def produce(
    settings: Settings, paths: list[Path], topic: str | None = None, progress: bool = True
) -> dict[str, int]:
    return asyncio.run(produce_files(settings, paths, topic, progress))
