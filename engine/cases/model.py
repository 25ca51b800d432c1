"""The case model: what a subject's case entry holds, the analyst's decisions, the queue row.

Messages and table values as msgspec structs, with their codecs. The rules that fold alerts
and decisions into an entry are in :mod:`engine.cases.assembly`; the Faust agents that run
them in :mod:`engine.stream.case_agents`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import msgspec

from engine.cases.disclosure import Case, CaseError
from schemas import DISPOSITION_ACTIONS, Alert, Profile

ACTION_STATUS = {
    "escalate": "escalated",
    "file": "filed",
    "close_false_positive": "closed_false_positive",
    "needs_information": "needs_information",
}
FINAL_STATUSES = ("filed", "closed_false_positive")
OUTCOME_OF = {"file": "true_positive", "close_false_positive": "false_positive"}
MAX_REMEMBERED = 500  # alert ids of earlier cases / snoozed alerts kept per subject

Action = Literal[DISPOSITION_ACTIONS]  # type: ignore[valid-type]


class Disposition(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A message on the ``dispositions`` topic (key: the subject's ``customer_id``)."""

    case_id: str
    customer_id: str
    action: Action
    reason: str
    analyst: str
    at: str  # ISO 8601 with offset: when the analyst decided
    # the case version the analyst saw: a decision on a version since changed is refused
    # (new evidence may have arrived that the analyst did not see)
    case_version: int
    indicator: str | None = None  # snooze: the indicator id
    until: str | None = None  # snooze: ISO 8601 end of the snooze


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    case_id: str
    action: str
    reason: str
    analyst: str
    at: str
    status_before: str
    status_after: str
    version: int  # the case version this decision produced
    indicator: str | None = None
    until: str | None = None


class Snooze(msgspec.Struct, frozen=True, kw_only=True):
    indicator: str
    until: str
    analyst: str
    reason: str
    at: str


class CaseEntry(msgspec.Struct, frozen=True, kw_only=True):
    """The table value per subject: the current case and what the subject's history needs."""

    case: Case | None = None
    decisions: tuple[Decision, ...] = ()  # of every case of this subject, oldest first
    snoozes: tuple[Snooze, ...] = ()
    earlier_alert_ids: tuple[str, ...] = ()  # alerts of this subject's decided cases
    earlier_case_ids: tuple[str, ...] = ()
    snoozed_alert_ids: tuple[str, ...] = ()  # alerts held back by a snooze

    def case_decisions(self) -> list[Decision]:
        return [d for d in self.decisions if self.case and d.case_id == self.case.case_id]


@dataclass
class AlertResult:
    entry: CaseEntry
    result: Literal["opened", "joined", "duplicate", "snoozed", "reopened"]

    @property
    def publish(self) -> bool:
        return self.result in ("opened", "joined", "reopened")


@dataclass
class DispositionResult:
    entry: CaseEntry
    publish: bool
    refused: str | None = None  # why the disposition changed nothing (None: applied or a repeat)
    outcomes: list[tuple[str, str]] = field(default_factory=list)  # (indicator id, outcome)


_ENTRY_ENC = msgspec.json.Encoder()
_ENTRY_DEC = msgspec.json.Decoder(CaseEntry)
_ALERT_DEC = msgspec.json.Decoder(Alert)
_DISPOSITION_DEC = msgspec.json.Decoder(Disposition)
_PROFILE_DEC = msgspec.json.Decoder(Profile)


def encode_entry(entry: CaseEntry) -> str:
    return _ENTRY_ENC.encode(entry).decode("utf-8")


def decode_entry(value: str | bytes | None) -> CaseEntry:
    return _ENTRY_DEC.decode(value) if value else CaseEntry()


def decode_alert(value: bytes) -> Alert:
    return _ALERT_DEC.decode(value)


def decode_profile(value: bytes | str | None) -> Profile | None:
    try:
        return _PROFILE_DEC.decode(value) if value else None
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def decode_disposition(value: bytes) -> Disposition:
    """The disposition in ``value``; raises :class:`CaseError` with a reason a person can act on."""
    try:
        d = _DISPOSITION_DEC.decode(value)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CaseError(f"disposition: {exc}") from None
    if not d.reason.strip():
        raise CaseError("disposition: a reason is required")
    if not d.analyst.strip():
        raise CaseError("disposition: the analyst is required")
    for name in ("at", "until"):
        text = getattr(d, name)
        if text is not None and parse_time(text) is None:
            raise CaseError(f"disposition: {name} {text!r} is not an ISO 8601 time with an offset")
    if d.action == "snooze" and not (d.indicator and d.until):
        raise CaseError("disposition: snooze needs an indicator and an until time")
    return d


def parse_time(text: str) -> datetime | None:
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else None


@dataclass(frozen=True)
class CaseSummary:
    """One row of the analyst's queue (kept in memory, rebuilt from the table)."""

    case_id: str
    customer_id: str
    name: str | None
    status: str
    score: float
    role: str
    families: tuple[str, ...]
    alerts: int
    version: int
    opened_at: str
    updated_at: str
    window_end: str

    @classmethod
    def of(cls, case: Case) -> CaseSummary:
        primary = case.subject(case.primary)
        families = sorted({f for a in case.alerts for f in a.families})
        return cls(
            case_id=case.case_id,
            customer_id=case.primary,
            name=primary.name if primary else None,
            status=case.status,
            score=case.score,
            role=primary.role_hypothesis if primary else "unknown",
            families=tuple(families),
            alerts=len(case.alerts),
            version=case.version,
            opened_at=case.opened_at,
            updated_at=case.updated_at,
            window_end=max(a.window_end for a in case.alerts),
        )


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
