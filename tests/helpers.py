"""Small helpers shared by tests: run contract rows through the real pipeline."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from engine.config import Settings
from engine.core.decode import Message
from engine.core.detector import BatchResult, Detector
from engine.core.state import PartitionState


def messages(
    rows: Iterable[Mapping[str, Any]], topic: str = "transactions", start: int = 0
) -> list[Message]:
    return [
        Message(topic, 0, start + i, str(r["customer_id"]).encode(), msgspec.json.encode(r))
        for i, r in enumerate(rows)
    ]


def run_rows(
    rows,
    profiles=(),
    detector: Detector | None = None,
    state: PartitionState | None = None,
    settings: Settings | None = None,
) -> tuple[BatchResult, PartitionState, Detector]:
    detector = detector or Detector(settings or Settings())
    state = state or detector.new_state()
    result = detector.process(state, messages(profiles, "profiles"), messages(rows))
    return result, state, detector


def comparable(alerts) -> list[dict]:
    """Alerts without processing-time fields, for equality across runs."""
    out = []
    for a in alerts:
        d = msgspec.to_builtins(a)
        d.pop("created_at")
        out.append(d)
    return sorted(out, key=lambda d: (d["window_end"], d["alert_id"]))


def wait_for(predicate, timeout=90.0, what="condition"):
    """``predicate()``'s first truthy value, polled every half second (a worker runs apart)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")
