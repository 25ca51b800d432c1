"""Run the streaming detector over files: the same Detector and state code as the worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from engine.config import Settings
from engine.decode import Message
from engine.pipeline import BatchResult, Detector
from engine.state import PartitionState


PRUNE_EVERY = 20  # chunks


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
    window_s = settings.constellation.window_days * 86_400
    for n, batch in enumerate(_chunks(read_messages(transactions, "transactions"), chunk), start=1):
        part = detector.process(state, [], batch)
        _merge(total, part)
        if n % PRUNE_EVERY == 0:  # keep the evidence store bounded, as checkpoints do in the worker
            newest = state.newest_event_ts()
            state.prune(newest, window_s)
    return total, state


def _merge(total: BatchResult, part: BatchResult) -> None:
    total.alerts += part.alerts
    total.dead += part.dead
    total.transactions += part.transactions
    total.profiles += part.profiles
    for key, value in part.fired.items():
        total.fired[key] = total.fired.get(key, 0) + value
