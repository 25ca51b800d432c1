"""Folding alerts and analyst decisions into a subject's case entry: pure functions.

The worker's agents (:mod:`engine.stream.case_agents`), ``protect cases`` and the tests all
call these, so what a case holds never depends on Kafka.

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

from collections.abc import Mapping

import msgspec

from engine.cases.disclosure import CaseError, add_alert, build_package, open_case, with_status
from engine.cases.links import link_related
from engine.cases.model import (
    ACTION_STATUS,
    FINAL_STATUSES,
    MAX_REMEMBERED,
    OUTCOME_OF,
    AlertResult,
    CaseEntry,
    Decision,
    Disposition,
    DispositionResult,
    Snooze,
    parse_time,
)
from engine.crosscustomer.parties import PartyIndex
from schemas import Alert, Profile


def _snoozed(entry: CaseEntry, at: str) -> set[str]:
    now = parse_time(at)
    if now is None:
        return set()
    return {s.indicator for s in entry.snoozes if (parse_time(s.until) or now) > now}


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
    if d.case_version != case.version:
        return DispositionResult(
            entry,
            False,
            refused=f"{d.case_id} was decided at version {d.case_version}, it is now at "
            f"version {case.version}: reload the case and decide again",
        )
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


def relink(entry: CaseEntry, parties: PartyIndex | None, profile: Profile | None) -> CaseEntry:
    """``entry`` with related alerted subjects linked into its open case (engine.cases.links)."""
    if parties is None or entry.case is None or not entry.case.is_open:
        return entry
    case, changed = link_related(entry.case, parties, profile)
    return msgspec.structs.replace(entry, case=case) if changed else entry
