"""Case assembly and the analyst workflow: alerts → cases → ``disclosures``;
``dispositions`` → cases.

Faust agents in the worker's app, partitioned by subject ``customer_id``:

* ``alerts`` (keyed by customer id): each alert joins its subject's open case, or opens one.
  The case lives in a changelog-backed table (``protect-cases``, one :class:`CaseEntry` per
  subject), so it survives a restart; an ``alert_id`` already in the entry (in the current
  case, an earlier decided case, or held back by a snooze) changes nothing and publishes
  nothing, so replaying the same input after a restart adds no case and no evidence.
* ``profiles`` (keyed by customer id): the latest profile per customer
  (``protect-case-profiles``), read by :func:`engine.cases.disclosure.build_package`; one
  whose key is not its ``customer_id`` is a dead letter, never stored.
* ``dispositions`` (keyed by customer id; JSON, :class:`Disposition`): an analyst's decision.
  It changes the case status, is kept with who and when, and republishes the package.
* A timer republishes every open case every ``case_republish_s`` seconds.

Every package goes to ``disclosures`` keyed by ``case_id`` (a compacted topic: the latest
version per case). The decisions logic is in pure functions over ``(entry, message)``
(:mod:`engine.cases.assembly`), and each agent's handling of one message is a method of
:class:`CaseHandlers`, so both are tested without Kafka. A message whose handling fails is
a dead letter with a reason (``protect_handler_errors_total{stage="case_agent"}``), never
dropped silently, and the agent goes on.
"""

from __future__ import annotations

import logging
from collections import Counter

import msgspec

from engine.cases.assembly import apply_alert, apply_disposition, package_for, relink
from engine.cases.disclosure import Case, CaseError, DisclosureError
from engine.cases.disclosure.seal import HEADER, seal
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
from engine.core.decode import Message, dead_letter, describe_error, encode_dead_letter
from engine.core.decode import decode_profile as decode_contract_profile
from engine.crosscustomer.parties import PartyIndex, encode_signal
from schemas import CASE_STATUSES, DeadLetter, Profile

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
        self.dead_letters = None  # the dead-letters topic, likewise

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


class CaseHandlers:
    """What the case agents do with one message each, over the store and the send functions
    ``send(topic_name, key, value)``: Kafka-free, so tests drive them with dicts.

    Every handler is run by :meth:`guarded`: a message whose handling raises becomes a dead
    letter and the agent goes on (a poison pill must not stop case assembly for everyone).
    """

    def __init__(self, settings, store: CaseStore, send, parties: PartyIndex | None = None):
        self.settings, self.store, self.send, self.parties = settings, store, send, parties
        self.metrics = store.metrics

    async def guarded(self, handler, message: Message) -> None:
        try:
            await handler(message)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the agent
            self.metrics.handler_errors.labels("case_agent").inc()
            # no customer data in the log: where the message is and what was raised
            log.error(
                "case agent: %s on %s[%d]@%d raised %s; dead-lettered",
                handler.__name__,
                message.topic,
                message.partition,
                message.offset,
                type(exc).__name__,
            )
            reason = f"{handler.__name__} raised {type(exc).__name__}"
            await self.dead(message, (reason, "handler_error"))

    async def dead(self, message: Message, problem: tuple[str, str]) -> None:
        """``problem`` is (a reason a person can act on, its class)."""
        letter = dead_letter(message, *problem)
        await self.send(self.settings.dead_letter_topic, message.key, encode_dead_letter(letter))
        self.metrics.dead_letters.labels(letter.reason_class).inc()

    async def on_profile(self, message: Message) -> None:
        """The latest profile per customer; a profile keyed by another customer is refused
        (stored under its key it would become another customer's profile in a case)."""
        if not message.key:
            await self.dead(message, ("a profile needs its customer_id as key", "missing_field"))
            return
        customer_id = message.key.decode("utf-8", "replace")
        profile = decode_contract_profile(message, self.settings.limits)
        table = self.store.profiles
        if profile is None:  # a tombstone, also for a customer never stored here
            if customer_id in table:
                del table[customer_id]
        elif isinstance(profile, DeadLetter):
            # Not stored. Not dead-lettered here either: the firehose reads the same message
            # with the same decoder and limits and dead-letters it, once.
            return
        else:
            table[customer_id] = message.value.decode()

    async def on_alert(self, message: Message) -> None:
        """The alert joins its subject's case or opens one; one that cannot is dead-lettered."""
        store, profiles = self.store, self.store.profiles
        try:
            alert = decode_alert(message.value or b"")
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            await self.dead(message, describe_error(exc, message.value or b""))
            return
        if message.key is not None and message.key != alert.customer_id.encode():
            await self.dead(message, ("the key is not the alert's customer_id", "key_mismatch"))
            return
        entry = store.entry(alert.customer_id)
        profile = decode_profile(profiles.get(alert.customer_id))
        try:
            result = apply_alert(entry, alert, profile)
        except CaseError as exc:
            await self.dead(message, (f"the alert cannot join a case: {exc}", "case_refused"))
            return
        self.metrics.case_updates.labels(result.result).inc()
        updated = result.entry
        if result.publish and self.parties is not None:
            updated = relink(updated, self.parties, profile)
            for signal in dealt_with_signals(updated.case, profile):
                key, value = encode_signal(signal)
                await self.send(self.settings.party_signals_topic, key, value)
        if updated is not entry:
            store.cases[alert.customer_id] = encode_entry(updated)
            store.remember(alert.customer_id, updated)
        if result.publish:
            await self.publish(updated)

    async def on_disposition(self, message: Message) -> None:
        store, metrics = self.store, self.metrics
        try:
            disposition = decode_disposition(message.value or b"")
        except CaseError as exc:
            metrics.dispositions_refused.inc()
            await self.dead(message, (f"{exc}", "case_refused"))
            return
        result = apply_disposition(store.entry(disposition.customer_id), disposition)
        if result.refused:
            metrics.dispositions_refused.inc()
            log.warning("a %s disposition was refused: %s", disposition.action, result.refused)
            return
        if not result.publish:
            return
        store.cases[disposition.customer_id] = encode_entry(result.entry)
        store.remember(disposition.customer_id, result.entry)
        metrics.dispositions.labels(disposition.action).inc()
        for indicator, outcome in result.outcomes:
            metrics.indicator_outcomes.labels(indicator, outcome).inc()
        await self.publish(result.entry)

    async def republish(self) -> None:
        """Every open case again (the timer); one case that fails does not stop the round."""
        store = self.store
        for summary in store.summaries():
            if summary.status in FINAL_STATUSES:
                continue
            try:
                entry = store.entry(summary.customer_id)
                if entry.case is None or not entry.case.is_open:
                    continue
                # subjects alerted since the last round may be related to this case
                profile = decode_profile(store.profiles.get(summary.customer_id))
                linked = relink(entry, self.parties, profile)
                if linked is not entry:
                    store.cases[summary.customer_id] = encode_entry(linked)
                    store.remember(summary.customer_id, linked)
                await self.publish(linked)
            except Exception as exc:  # noqa: BLE001 - the next case still gets its round
                self.metrics.handler_errors.labels("case_agent").inc()
                log.error("case timer: %s raised %s", summary.case_id, type(exc).__name__)

    async def publish(self, entry: CaseEntry) -> None:
        try:
            package = package_for(entry, self.store.profile_map(entry.case))
        except DisclosureError as exc:
            # The case stays in the table and is tried again at the next change or republish
            # round. Only the (keyed) case id and the error's class are logged: the message
            # of a validation error quotes package values, which are customer data.
            self.metrics.handler_errors.labels("case_package").inc()
            log.error(
                "case %s: the package could not be built (%s)",
                entry.case.case_id,
                type(exc).__name__,
            )
            return
        value = msgspec.json.encode(package)
        key = self.settings.package_key.reveal().encode()
        headers = [(HEADER, seal(key, value))] if key else None  # readers refuse it unsealed
        case_key = entry.case.case_id.encode()
        await self.send(self.settings.disclosures_topic, case_key, value, headers)
        self.metrics.disclosures.inc()


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
    names = (
        settings.alerts_topic,
        settings.profiles_topic,
        settings.dispositions_topic,
        settings.disclosures_topic,
        settings.party_signals_topic,
        settings.dead_letter_topic,
    )
    topics = {name: app.topic(name, **raw) for name in names}
    table = {"default": str, "partitions": settings.partitions, "key_type": str, "value_type": None}
    store = CaseStore(
        app.Table("protect-cases", **table), app.Table("protect-case-profiles", **table), metrics
    )

    async def send(topic: str, key: bytes | None, value: bytes, headers=None) -> None:
        await topics[topic].send(key=key, value=value, headers=headers)

    handlers = CaseHandlers(settings, store, send, parties)

    def agent(topic: str, handler):
        async def run(stream):
            async for event in stream.events():
                m = event.message
                message = Message(m.topic, m.partition, m.offset, m.key, m.value)
                await handlers.guarded(handler, message)

        run.__name__ = run.__qualname__ = handler.__name__  # Faust names the agent by it
        return app.agent(topics[topic])(run)

    agent(settings.profiles_topic, handlers.on_profile)
    agent(settings.alerts_topic, handlers.on_alert)
    agent(settings.dispositions_topic, handlers.on_disposition)
    app.timer(interval=settings.case_republish_s)(handlers.republish)
    store.dispositions = topics[settings.dispositions_topic]  # the analyst view sends here
    store.dead_letters = topics[settings.dead_letter_topic]  # and refused packages here
    return store
