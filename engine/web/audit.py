"""The audit trail: who viewed, exported, decided what, and when, on the ``audit`` topic.

One JSON record per action, sent before the page is served: if the record cannot be sent,
the analyst gets an error, not the evidence (no unrecorded access). Records name the
analyst (or ``token`` for the bearer token), the action and the ``case_id``; never a
customer id, a password or the decision's free-text reason (it may quote the evidence).

    {"at": "2026-12-03T19:40:02+00:00", "analyst": "j.analyst", "via": "session",
     "action": "decide", "case_id": "CASE-…", "decision": "file", "case_version": 3,
     "outcome": "sent"}

Actions: ``login``, ``login_failed``, ``logout``, ``view_queue``, ``view_case``,
``export``, ``decide``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

Send = Callable[[bytes, bytes], Awaitable[Any]]  # (key, value)
ACTIONS = ("login", "login_failed", "logout", "view_queue", "view_case", "export", "decide")


def audit_record(action: str, analyst: str, via: str, now: datetime, **details: Any) -> dict:
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r} is not one of {ACTIONS}")
    record = {
        "at": now.isoformat(timespec="seconds"),
        "analyst": analyst,
        "via": via,
        "action": action,
    }
    return record | {k: v for k, v in details.items() if v is not None}


class Audit:
    """Sends audit records with ``send(key, value)``, keyed by case id (else analyst)."""

    def __init__(self, send: Send, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.send, self.clock = send, clock

    async def __call__(self, action: str, analyst: str, via: str, **details: Any) -> None:
        record = audit_record(action, analyst, via, self.clock(), **details)
        key = (details.get("case_id") or analyst).encode()
        await self.send(key, json.dumps(record, sort_keys=True).encode())
