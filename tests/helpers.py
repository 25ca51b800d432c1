"""Small helpers shared by tests: run contract rows through the real pipeline."""

from __future__ import annotations

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
