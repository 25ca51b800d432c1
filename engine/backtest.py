"""Run the streaming detector over files: the same Detector and state code as the worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from engine.config import Settings
from engine.decode import Message
from engine.pipeline import BatchResult, Detector
from engine.state import PartitionState


def read_messages(path: Path, topic: str) -> Iterator[Message]:
    """Lines of a JSONL file as messages; the line number is the offset (the event ref)."""
    with open(path, "rb") as handle:
        for offset, line in enumerate(handle):
            line = line.strip()
            if line:
                yield Message(topic, 0, offset, None, line)


def _chunks(messages: Iterator[Message], size: int) -> Iterator[list[Message]]:
    chunk: list[Message] = []
    for message in messages:
        chunk.append(message)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def backtest(transactions: Path, profiles: Path | None, settings: Settings, chunk: int = 50_000,
             detector: Detector | None = None) -> tuple[BatchResult, PartitionState]:
    """Apply all profiles, then stream the transactions through in chunks; returns totals."""
    detector = detector or Detector(settings)
    state = detector.new_state()
    total = BatchResult()
    if profiles is not None:
        _merge(total, detector.process(state, list(read_messages(profiles, "profiles")), []))
    for batch in _chunks(read_messages(transactions, "transactions"), chunk):
        _merge(total, detector.process(state, [], batch))
    return total, state


def _merge(total: BatchResult, part: BatchResult) -> None:
    total.alerts += part.alerts
    total.dead += part.dead
    total.transactions += part.transactions
    total.profiles += part.profiles
    for key, value in part.fired.items():
        total.fired[key] = total.fired.get(key, 0) + value
