"""Server-side analyst sessions: a random id in the cookie, everything else here.

The cookie carries only a random session id (256 bits); who the analyst is, when the
session began and its CSRF token stay in this worker's memory. So a session ends for good
at logout, after ``idle_s`` without a request or ``max_s`` after login, and a restart
ends them all (analysts sign in again). Sessions are per worker: behind a load balancer,
keep an analyst on one worker (sticky sessions), or they sign in once per worker.

    sessions = Sessions(idle_s=1800, max_s=43200)
    s = sessions.create("j.analyst")
    sessions.get(s.id)      # the session, last_seen moved on; None once expired
    sessions.end(s.id)
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

# A bound on memory: only a successful login creates a session, so this is reached only by
# someone with a password logging in over and over; the oldest sessions go first.
MAX_SESSIONS = 10_000


@dataclass
class Session:
    id: str
    analyst: str
    csrf: str
    created: float
    last_seen: float


class Sessions:
    def __init__(self, idle_s: float, max_s: float, clock: Callable[[], float] = time.monotonic):
        self.idle_s, self.max_s, self.clock = idle_s, max_s, clock
        self._by_id: dict[str, Session] = {}

    def create(self, analyst: str) -> Session:
        now = self.clock()
        self._sweep(now)
        while len(self._by_id) >= MAX_SESSIONS:
            self._by_id.pop(next(iter(self._by_id)))
        session = Session(secrets.token_urlsafe(32), analyst, secrets.token_urlsafe(32), now, now)
        self._by_id[session.id] = session
        return session

    def get(self, session_id: str) -> Session | None:
        """The live session of ``session_id`` (its idle clock restarts), or None."""
        session = self._by_id.get(session_id) if session_id else None
        if session is None:
            return None
        now = self.clock()
        if self._expired(session, now):
            del self._by_id[session_id]
            return None
        session.last_seen = now
        return session

    def end(self, session_id: str) -> None:
        self._by_id.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._by_id)

    def _expired(self, s: Session, now: float) -> bool:
        return now - s.last_seen > self.idle_s or now - s.created > self.max_s

    def _sweep(self, now: float) -> None:
        for session_id in [k for k, s in self._by_id.items() if self._expired(s, now)]:
            del self._by_id[session_id]


def csrf_matches(session: Session, given: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), session.csrf.encode())
