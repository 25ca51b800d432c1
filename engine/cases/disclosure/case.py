"""The case: one subject's alerts gathered for an analyst, as an immutable value.

Pure functions return a new :class:`Case` and say whether anything changed, so the Faust
case assembler can keep cases in a changelog-backed table (``encode_case`` /
``decode_case``) and republish to ``disclosures`` only when ``changed`` is true::

    case = open_case(alert, profile)            # version 1
    case, changed = add_alert(case, alert)      # same alert_id again: (case, False)
    case, changed = add_alert(case, newer)      # new evidence: version 2
    case, changed = link(case, "C000458", "shared counterparty cp_0de9...")

Decisions, and why:

* ``case_id`` is derived from the primary subject's ``customer_id`` (and a ``generation``
  counter for a subject's later cases after one is filed or closed), so a restarted
  assembler computes the same id and never opens a second case for the same subject.
  The id is a digest, not the customer id itself, because it travels in report
  references whose allowed characters are narrower than a customer id's.
* ``score`` is the **maximum** alert score. Each alert's score is already the
  constellation score over the whole active window (30 d), so later alerts include the
  earlier evidence; adding them up would count the same indicators again.
* A subject's ``role_hypothesis`` is the one of its latest alert (by ``window_end``): the
  constellation at that point has seen the most evidence. Every earlier hypothesis is
  kept in ``role_history``, so a package can say when a subject once looked like a
  possible victim (victims are sometimes made to collect or recruit).
* Alerts of linked subjects may join the case too (a ring case); alerts of subjects that
  are not in the case are refused rather than silently attached.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from engine import pseudonyms
from engine.cases.disclosure.errors import CaseError
from schemas import CASE_STATUSES, ROLE_HYPOTHESES, Alert, Profile

STATUSES = CASE_STATUSES
OPEN_STATUSES = ("open", "escalated", "needs_information")  # a new alert may still join

CaseStatus = Literal[STATUSES]  # type: ignore[valid-type]


class Subject(msgspec.Struct, frozen=True, kw_only=True):
    """A person or entity in a case, with what the engine thinks their role is."""

    customer_id: str
    relation: Literal["primary", "linked"]
    role_hypothesis: str = "unknown"
    role_history: tuple[str, ...] = ()  # hypotheses of this subject's alerts, oldest first
    name: str | None = None  # snapshot for case queues; the package reads the full profile
    link_reasons: tuple[str, ...] = ()


class Case(msgspec.Struct, frozen=True, kw_only=True):
    """One case per primary subject; a new ``version`` whenever evidence or links change."""

    case_id: str
    version: int
    status: CaseStatus
    primary: str
    subjects: tuple[Subject, ...]
    alerts: tuple[Alert, ...]  # deduplicated by alert_id, ordered by (window_end, alert_id)
    score: float
    opened_at: str  # created_at of the first alert (processing time)
    updated_at: str  # latest created_at among the alerts, or of the last change
    generation: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def subject(self, customer_id: str) -> Subject | None:
        return next((s for s in self.subjects if s.customer_id == customer_id), None)

    @property
    def alert_ids(self) -> frozenset[str]:
        return frozenset(a.alert_id for a in self.alerts)


def case_id_for(customer_id: str, generation: int = 0) -> str:
    """Deterministic case id of ``customer_id``'s ``generation``-th case: a keyed pseudonym
    (engine/pseudonyms.py), so the id does not name the customer to whoever lacks the key.

    >>> case_id_for("C000394") == case_id_for("C000394") != case_id_for("C000395")
    True
    >>> case_id_for("C000394", 2).endswith("-2")
    True
    """
    digest = pseudonyms.keyed_hex("case", customer_id, 8).upper()
    return f"CASE-{digest}" + (f"-{generation}" if generation else "")


def open_case(alert: Alert, profile: Profile | None = None, *, generation: int = 0) -> Case:
    """A new case (version 1, status ``open``) whose primary subject is the alert's customer."""
    if profile is not None and profile.customer_id != alert.customer_id:
        raise CaseError(
            f"open_case: profile {profile.customer_id!r} is not the subject "
            f"of alert {alert.alert_id} ({alert.customer_id!r})"
        )
    _check_role(alert)
    subject = Subject(
        customer_id=alert.customer_id,
        relation="primary",
        role_hypothesis=alert.role_hypothesis,
        role_history=(alert.role_hypothesis,),
        name=profile.name if profile is not None else None,
    )
    return Case(
        case_id=case_id_for(alert.customer_id, generation),
        version=1,
        status="open",
        primary=alert.customer_id,
        subjects=(subject,),
        alerts=(alert,),
        score=float(alert.score),
        opened_at=alert.created_at,
        updated_at=alert.created_at,
        generation=generation,
    )


def add_alert(case: Case, alert: Alert) -> tuple[Case, bool]:
    """``case`` with ``alert`` joined: ``(case, False)`` for a known ``alert_id``.

    Raises :class:`CaseError` when the case is filed or closed (open a new generation) or
    when the alert's subject is neither the primary nor a linked subject.
    """
    if alert.alert_id in case.alert_ids:
        return case, False
    if not case.is_open:
        raise CaseError(
            f"{case.case_id} is {case.status!r}: alert {alert.alert_id} cannot join; "
            f"open a new case with generation={case.generation + 1} "
            f"(open statuses: {OPEN_STATUSES})"
        )
    member = case.subject(alert.customer_id)
    if member is None:
        raise CaseError(
            f"alert {alert.alert_id} is about {alert.customer_id!r}, which is not a subject of "
            f"{case.case_id} (subjects: {[s.customer_id for s in case.subjects]}); link it first"
        )
    _check_role(alert)
    alerts = tuple(sorted((*case.alerts, alert), key=lambda a: (a.window_end, a.alert_id)))
    own = [a for a in alerts if a.customer_id == alert.customer_id]
    updated = msgspec.structs.replace(
        member,
        role_hypothesis=own[-1].role_hypothesis,
        role_history=tuple(a.role_hypothesis for a in own),
    )
    return msgspec.structs.replace(
        case,
        version=case.version + 1,
        alerts=alerts,
        subjects=_replace_subject(case.subjects, updated),
        score=max(case.score, float(alert.score)),
        updated_at=max(case.updated_at, alert.created_at),
    ), True


def link(
    case: Case,
    other_subject: str,
    reason: str,
    *,
    role_hypothesis: str = "unknown",
    name: str | None = None,
) -> tuple[Case, bool]:
    """``case`` with ``other_subject`` linked for ``reason`` (shared counterparty, ring, ...).

    Linking a known subject again adds the reason if it is new. The primary subject is
    never linked to itself. ``role_hypothesis`` is what is known about the linked subject
    (e.g. from its own case); it is replaced by its own alerts if they join this case.
    """
    if role_hypothesis not in ROLE_HYPOTHESES:
        raise CaseError(
            f"link: role_hypothesis {role_hypothesis!r} is not one of {ROLE_HYPOTHESES}"
        )
    if not reason.strip():
        raise CaseError(f"link: a reason is required to link {other_subject!r} to {case.case_id}")
    if other_subject == case.primary:
        return case, False
    known = case.subject(other_subject)
    if known is not None:
        if reason in known.link_reasons:
            return case, False
        subjects = _replace_subject(
            case.subjects,
            msgspec.structs.replace(known, link_reasons=(*known.link_reasons, reason)),
        )
    else:
        subjects = (
            *case.subjects,
            Subject(
                customer_id=other_subject,
                relation="linked",
                role_hypothesis=role_hypothesis,
                name=name,
                link_reasons=(reason,),
            ),
        )
    return msgspec.structs.replace(case, version=case.version + 1, subjects=subjects), True


def with_status(case: Case, status: str, *, at: str | None = None) -> Case:
    """``case`` in ``status`` (a new version when it changes); ``at`` is the decision time."""
    if status not in STATUSES:
        raise CaseError(f"status {status!r} is not one of {STATUSES}")
    if status == case.status:
        return case
    return msgspec.structs.replace(
        case,
        status=status,
        version=case.version + 1,
        updated_at=max(case.updated_at, at or case.updated_at),
    )


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Case)


def encode_case(case: Case) -> bytes:
    """JSON bytes for a changelog-backed table or topic."""
    return _ENCODER.encode(case)


def decode_case(data: bytes) -> Case:
    return _DECODER.decode(data)


def _replace_subject(subjects: tuple[Subject, ...], new: Subject) -> tuple[Subject, ...]:
    return tuple(new if s.customer_id == new.customer_id else s for s in subjects)


def _check_role(alert: Alert) -> None:
    if alert.role_hypothesis not in ROLE_HYPOTHESES:
        raise CaseError(
            f"alert {alert.alert_id}: role_hypothesis {alert.role_hypothesis!r} "
            f"not in {ROLE_HYPOTHESES}"
        )
