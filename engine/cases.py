"""Case assembly and the analyst workflow: alerts → cases → ``disclosures``; ``dispositions`` → cases.

Faust agents in the worker's app, partitioned by subject ``customer_id``:

* ``alerts`` (keyed by customer id): each alert joins its subject's open case, or opens one.
  The case lives in a changelog-backed table (``protect-cases``, one :class:`CaseEntry` per
  subject), so it survives a restart; an ``alert_id`` already in the entry (in the current
  case, an earlier decided case, or held back by a snooze) changes nothing and publishes
  nothing, so replaying the same input after a restart adds no case and no evidence.
* ``profiles`` (keyed by customer id): the latest profile per customer (``protect-case-profiles``),
  read by :func:`engine.disclosure.build_package`.
* ``dispositions`` (keyed by customer id; JSON, :class:`Disposition`): an analyst's decision.
  It changes the case status, is kept with who and when, and republishes the package.
* A timer republishes every open case every ``case_republish_s`` seconds.

Every package goes to ``disclosures`` keyed by ``case_id`` (a compacted topic: the latest
version per case). The decisions logic is in pure functions over ``(entry, message)``
(:func:`apply_alert`, :func:`apply_disposition`) so it is tested without Kafka.

Decisions, and why:

* Statuses after an action: escalate → ``escalated``, file → ``filed``,
  close_false_positive → ``closed_false_positive``, needs_information →
  ``needs_information``; snooze keeps the status. ``filed`` and ``closed_false_positive``
  are final: a later decision on that case is refused, and the subject's next new alert
  opens the next case (``generation`` + 1).
* Every accepted decision raises the case ``version`` (even when the status stays), so a
  consumer of ``disclosures`` sees the new decision.
* Snooze: an analyst silences one indicator for the subject until a time. An alert whose
  every indicator is snoozed at its ``created_at`` is held back (remembered, never
  published); an alert with at least one indicator not snoozed joins as usual.
* Per-indicator outcomes (metrics): filing counts each indicator of the case as a
  ``true_positive``, closing as a false positive counts each as a ``false_positive``.
  Escalation and needs-information are not outcomes yet.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import msgspec

from engine.disclosure import (
    Case,
    CaseError,
    DisclosureError,
    add_alert,
    build_package,
    open_case,
    with_status,
)
from engine.case_links import dealt_with_signals, link_related
from engine.metrics import CASE_STATUSES, DISPOSITION_ACTIONS
from engine.parties import PartyIndex, encode_signal
from schemas import Alert, Profile

log = logging.getLogger(__name__)

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
        if text is not None and _parse(text) is None:
            raise CaseError(f"disposition: {name} {text!r} is not an ISO 8601 time with an offset")
    if d.action == "snooze" and not (d.indicator and d.until):
        raise CaseError("disposition: snooze needs an indicator and an until time")
    return d


def _parse(text: str) -> datetime | None:
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else None


def _snoozed(entry: CaseEntry, at: str) -> set[str]:
    now = _parse(at)
    if now is None:
        return set()
    return {s.indicator for s in entry.snoozes if (_parse(s.until) or now) > now}


def apply_alert(entry: CaseEntry, alert: Alert, profile: Profile | None = None) -> AlertResult:
    """Fold one alert into its subject's entry (pure)."""
    case = entry.case
    if case is not None and alert.alert_id in case.alert_ids:
        return AlertResult(entry, "duplicate")
    if alert.alert_id in entry.earlier_alert_ids or alert.alert_id in entry.snoozed_alert_ids:
        return AlertResult(entry, "duplicate")
    ids = {i.id for i in alert.indicators}
    if ids and ids <= _snoozed(entry, alert.created_at):
        held = (*entry.snoozed_alert_ids, alert.alert_id)[-MAX_REMEMBERED:]
        return AlertResult(msgspec.structs.replace(entry, snoozed_alert_ids=held), "snoozed")
    if case is None:
        return AlertResult(msgspec.structs.replace(entry, case=open_case(alert, profile)), "opened")
    if case.is_open:
        joined, _ = add_alert(case, alert)
        return AlertResult(msgspec.structs.replace(entry, case=joined), "joined")
    # the current case is decided (filed / closed): the subject's next case
    fresh = open_case(alert, profile, generation=case.generation + 1)
    return AlertResult(
        msgspec.structs.replace(
            entry,
            case=fresh,
            earlier_alert_ids=(*entry.earlier_alert_ids, *sorted(case.alert_ids))[-MAX_REMEMBERED:],
            earlier_case_ids=(*entry.earlier_case_ids, case.case_id),
        ),
        "reopened",
    )


def apply_disposition(entry: CaseEntry, d: Disposition) -> DispositionResult:
    """Fold one analyst decision into the subject's entry (pure)."""
    case = entry.case
    if case is None or case.case_id != d.case_id:
        why = (
            "an earlier case of this subject, already decided"
            if d.case_id in entry.earlier_case_ids
            else "not a case of this subject"
        )
        return DispositionResult(entry, False, refused=f"{d.case_id} is {why}")
    if any(
        x.action == d.action
        and x.analyst == d.analyst
        and x.at == d.at
        and x.reason == d.reason
        and x.case_id == d.case_id
        for x in entry.decisions
    ):
        return DispositionResult(entry, False)  # the same message again (a replay): nothing new
    if case.status in FINAL_STATUSES:
        return DispositionResult(entry, False, refused=f"{d.case_id} is already {case.status}")
    before = case.status
    snoozes = entry.snoozes
    outcomes: list[tuple[str, str]] = []
    if d.action == "snooze":
        known = {i.id for a in case.alerts for i in a.indicators}
        if d.indicator not in known:
            return DispositionResult(
                entry, False, refused=f"{d.indicator} is not an indicator of {d.case_id}"
            )
        snoozes = (
            *[s for s in snoozes if s.indicator != d.indicator],
            Snooze(
                indicator=d.indicator, until=d.until, analyst=d.analyst, reason=d.reason, at=d.at
            ),
        )
        updated = case
    else:
        updated = with_status(case, ACTION_STATUS[d.action], at=d.at)
        if d.action in OUTCOME_OF:
            outcomes = [
                (i, OUTCOME_OF[d.action])
                for i in sorted({ind.id for a in case.alerts for ind in a.indicators})
            ]
    if updated.version == case.version:  # same status again, or a snooze: still a new version
        updated = msgspec.structs.replace(
            case, version=case.version + 1, updated_at=max(case.updated_at, d.at)
        )
    decision = Decision(
        case_id=d.case_id,
        action=d.action,
        reason=d.reason,
        analyst=d.analyst,
        at=d.at,
        status_before=before,
        status_after=updated.status,
        version=updated.version,
        indicator=d.indicator,
        until=d.until,
    )
    return DispositionResult(
        msgspec.structs.replace(
            entry, case=updated, decisions=(*entry.decisions, decision), snoozes=snoozes
        ),
        True,
        outcomes=outcomes,
    )


def package_for(entry: CaseEntry, profiles: Mapping[str, Profile]) -> dict:
    """The ``disclosures`` package of the entry's case, with the analyst's decisions and snoozes."""
    if entry.case is None:
        raise CaseError("package_for: the entry holds no case")
    package = build_package(entry.case, profiles)
    package["decisions"] = [msgspec.to_builtins(d) for d in entry.case_decisions()]
    package["snoozes"] = [msgspec.to_builtins(s) for s in entry.snoozes]
    return package


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


class CaseStore:
    """The worker's view of its case tables, for the agents, the timer and the web pages."""

    def __init__(self, cases_table, profiles_table, metrics):
        self.cases = cases_table
        self.profiles = profiles_table
        self.metrics = metrics
        self.index: dict[str, CaseSummary] = {}  # customer_id → summary of the current case
        self._indexed = False

    def entry(self, customer_id: str) -> CaseEntry:
        return decode_entry(self.cases.get(customer_id))

    def profile_map(self, case: Case) -> dict[str, Profile]:
        out = {}
        for s in case.subjects:
            profile = decode_profile(self.profiles.get(s.customer_id))
            if profile is not None:
                out[s.customer_id] = profile
        return out

    def package(self, customer_id: str) -> dict | None:
        entry = self.entry(customer_id)
        return package_for(entry, self.profile_map(entry.case)) if entry.case else None

    def remember(self, customer_id: str, entry: CaseEntry) -> None:
        if entry.case is not None:
            self.index[customer_id] = CaseSummary.of(entry.case)
        self.count()

    def rebuild(self) -> None:
        self.index = {}
        for customer_id, value in list(self.cases.items()):
            entry = decode_entry(value)
            if entry.case is not None:
                self.index[customer_id] = CaseSummary.of(entry.case)
        self._indexed = True
        self.count()

    def summaries(self) -> list[CaseSummary]:
        if not self._indexed or len(self.index) < len(self.cases):
            self.rebuild()  # after recovery from the changelog
        return list(self.index.values())

    def find(self, case_id: str) -> CaseSummary | None:
        return next((s for s in self.summaries() if s.case_id == case_id), None)

    def count(self) -> None:
        counts = Counter(s.status for s in self.index.values())
        for status in CASE_STATUSES:
            self.metrics.cases.labels(status).set(counts.get(status, 0))


def relink(entry: CaseEntry, parties: PartyIndex | None, profile: Profile | None) -> CaseEntry:
    """``entry`` with related alerted subjects linked into its open case (engine.case_links)."""
    if parties is None or entry.case is None or not entry.case.is_open:
        return entry
    case, changed = link_related(entry.case, parties, profile)
    return msgspec.structs.replace(entry, case=case) if changed else entry


def install_case_assembly(app, settings, metrics, parties: PartyIndex | None = None) -> CaseStore:
    """The case agents, tables, timer and analyst web view on ``app``.

    ``parties`` is the worker's party index (the firehose's): with it, cases link related
    subjects and announce their counterparties on ``party-signals``.
    """
    from engine.analyst import install_analyst_view

    raw = {
        "key_type": bytes,
        "value_type": bytes,
        "key_serializer": "raw",
        "value_serializer": "raw",
        "partitions": settings.partitions,
    }
    alerts = app.topic(settings.alerts_topic, **raw)
    profiles = app.topic(settings.profiles_topic, **raw)
    dispositions = app.topic(settings.dispositions_topic, **raw)
    disclosures = app.topic(settings.disclosures_topic, **raw)
    party_signals = app.topic(settings.party_signals_topic, **raw)
    cases_table = app.Table(
        "protect-cases", default=str, partitions=settings.partitions, key_type=str, value_type=None
    )
    profiles_table = app.Table(
        "protect-case-profiles",
        default=str,
        partitions=settings.partitions,
        key_type=str,
        value_type=None,
    )
    store = CaseStore(cases_table, profiles_table, metrics)

    async def publish(customer_id: str, entry: CaseEntry) -> None:
        try:
            package = package_for(entry, store.profile_map(entry.case))
        except DisclosureError:
            log.exception("case %s: the package could not be built", entry.case.case_id)
            return
        await disclosures.send(key=entry.case.case_id.encode(), value=msgspec.json.encode(package))
        metrics.disclosures.inc()

    @app.agent(profiles)
    async def keep_profiles(stream):
        async for event in stream.events():
            key = event.message.key
            if not key:
                continue
            customer_id = key.decode("utf-8", "replace")
            if event.value:
                profiles_table[customer_id] = event.value.decode("utf-8", "replace")
            else:
                profiles_table.pop(customer_id, None)

    @app.agent(alerts)
    async def assemble_cases(stream):
        async for value in stream:
            try:
                alert = decode_alert(value)
            except (msgspec.DecodeError, msgspec.ValidationError):
                log.warning("alerts: a message that is not a CONTRACT §4 alert was skipped")
                continue
            entry = store.entry(alert.customer_id)
            try:
                result = apply_alert(
                    entry, alert, decode_profile(profiles_table.get(alert.customer_id))
                )
            except CaseError as exc:
                log.warning("alert %s: %s", alert.alert_id, exc)
                continue
            metrics.case_updates.labels(result.result).inc()
            updated = result.entry
            if result.publish and parties is not None:
                profile = decode_profile(profiles_table.get(alert.customer_id))
                updated = relink(updated, parties, profile)
                for signal in dealt_with_signals(updated.case, profile):
                    key, value = encode_signal(signal)
                    await party_signals.send(key=key, value=value)
            if updated is not entry:
                cases_table[alert.customer_id] = encode_entry(updated)
                store.remember(alert.customer_id, updated)
            if result.publish:
                await publish(alert.customer_id, updated)

    @app.agent(dispositions)
    async def apply_dispositions(stream):
        async for value in stream:
            try:
                disposition = decode_disposition(value)
            except CaseError as exc:
                metrics.dispositions_refused.inc()
                log.warning("%s", exc)
                continue
            result = apply_disposition(store.entry(disposition.customer_id), disposition)
            if result.refused:
                metrics.dispositions_refused.inc()
                log.warning(
                    "disposition %s by %s refused: %s",
                    disposition.action,
                    disposition.analyst,
                    result.refused,
                )
                continue
            if not result.publish:
                continue
            cases_table[disposition.customer_id] = encode_entry(result.entry)
            store.remember(disposition.customer_id, result.entry)
            metrics.dispositions.labels(disposition.action).inc()
            for indicator, outcome in result.outcomes:
                metrics.indicator_outcomes.labels(indicator, outcome).inc()
            await publish(disposition.customer_id, result.entry)

    @app.timer(interval=settings.case_republish_s)
    async def republish_open_cases():
        for summary in store.summaries():
            if summary.status in FINAL_STATUSES:
                continue
            entry = store.entry(summary.customer_id)
            if entry.case is not None and entry.case.is_open:
                # subjects alerted since the last round may be related to this case
                linked = relink(entry, parties, decode_profile(profiles_table.get(summary.customer_id)))
                if linked is not entry:
                    cases_table[summary.customer_id] = encode_entry(linked)
                    store.remember(summary.customer_id, linked)
                await publish(summary.customer_id, linked)

    install_analyst_view(app, settings, store, dispositions)
    return store


async def latest_package(settings, case_id: str, timeout: float = 60.0) -> dict | None:
    """The highest-version package of ``case_id`` on the ``disclosures`` topic (read from the
    start of every partition until caught up, or ``timeout`` seconds)."""
    import asyncio
    import time

    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=16_777_216,
        fetch_max_bytes=67_108_864,
        **settings.kafka_security(),
    )
    await consumer.start()
    best: dict | None = None
    wanted = case_id.encode()
    try:
        if settings.disclosures_topic not in await consumer.topics():  # also loads the metadata
            return None
        partitions = consumer.partitions_for_topic(settings.disclosures_topic)
        if not partitions:
            return None
        tps = [TopicPartition(settings.disclosures_topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        idle = 0
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            records = [r for rs in batch.values() for r in rs]
            for record in records:
                if record.key != wanted or not record.value:
                    continue
                package = msgspec.json.decode(record.value)
                if best is None or package.get("version", 0) >= best.get("version", 0):
                    best = package
            if records:
                idle = 0
                continue
            ends = await consumer.end_offsets(tps)
            positions = [await consumer.position(tp) for tp in tps]
            idle += 1
            if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)) and idle >= 2:
                break
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return best
