"""Case assembly and the analyst workflow: alerts → cases → ``disclosures``; ``dispositions`` → cases.

Faust agents in the worker's app, partitioned by subject ``customer_id``:

* ``alerts`` (keyed by customer id): each alert joins its subject's open case, or opens one.
  The case lives in a changelog-backed table (``protect-cases``, one :class:`CaseEntry` per
  subject), so it survives a restart; an ``alert_id`` already in the entry (in the current
  case, an earlier decided case, or held back by a snooze) changes nothing and publishes
  nothing, so replaying the same input after a restart adds no case and no evidence.
* ``profiles`` (keyed by customer id): the latest profile per customer (``protect-case-profiles``),
  read by :func:`engine.cases.disclosure.build_package`.
* ``dispositions`` (keyed by customer id; JSON, :class:`Disposition`): an analyst's decision.
  It changes the case status, is kept with who and when, and republishes the package.
* A timer republishes every open case every ``case_republish_s`` seconds.

Every package goes to ``disclosures`` keyed by ``case_id`` (a compacted topic: the latest
version per case). The decisions logic is in pure functions over ``(entry, message)``
(:mod:`engine.cases.assembly`) so it is tested without Kafka.
"""

from __future__ import annotations

import logging
from collections import Counter

import msgspec

from engine.cases.assembly import apply_alert, apply_disposition, package_for, relink
from engine.cases.disclosure import Case, CaseError, DisclosureError
from engine.cases.links import dealt_with_signals
from engine.cases.model import (
    FINAL_STATUSES,
    CaseEntry,
    CaseSummary,
    decode_alert,
    decode_disposition,
    decode_entry,
    decode_profile,
    encode_entry,
)
from engine.crosscustomer.parties import PartyIndex, encode_signal
from schemas import CASE_STATUSES, Profile

log = logging.getLogger(__name__)


class CaseStore:
    """The worker's view of its case tables, for the agents, the timer and the web pages."""

    def __init__(self, cases_table, profiles_table, metrics):
        self.cases = cases_table
        self.profiles = profiles_table
        self.metrics = metrics
        self.index: dict[str, CaseSummary] = {}  # customer_id → summary of the current case
        self._indexed = False
        self.dispositions = None  # the dispositions topic, once the agents are installed

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


def install_case_assembly(app, settings, metrics, parties: PartyIndex | None = None) -> CaseStore:
    """The case agents, tables and timer on ``app`` (the analyst view is installed on top).

    ``parties`` is the worker's party index (the firehose's): with it, cases link related
    subjects and announce their counterparties on ``party-signals``.
    """
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

    store.dispositions = dispositions  # the analyst view sends decisions here
    return store
