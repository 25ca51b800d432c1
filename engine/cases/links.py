"""Related subjects in a case: the other alerted customers tied to this one.

A case is keyed by its primary subject, but trafficking is a ring: the victim who is
funded by a flagged individual (PP-22), the collector who passes takings to a hub
(PP-18), customers who give the same phone (PP-19). The party index
(:mod:`engine.crosscustomer.parties`) already knows every alerted customer under the keys other rows
name them by, so the case assembler asks it, whenever a case changes and on its timer:

* **own keys** of the primary subject: customer id, the accounts in its evidence, the
  e-mail and phone on its profile;
* **dealt-with keys**: the counterparties of its evidence transactions, announced as
  ``DEALT_WITH`` signals so that other cases can find this one the same way.

:func:`engine.crosscustomer.parties.related_subjects` turns the overlaps into reasons (shared
identifier, funds flow between them, same counterparty) and :func:`link` records them on
the case. A case links at most :data:`MAX_LINKED` subjects, the lowest ids first, so a
package stays a readable size.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from engine.cases.disclosure import Case
from engine.cases.disclosure.case import link
from engine.core.hashing import contact_key, stable_hash
from engine.crosscustomer.parties import (
    ALERTED,
    DEALT_WITH,
    PartyIndex,
    PartySignal,
    related_subjects,
)
from indicators.vocabulary import counterparty_key_text
from schemas import Profile

MAX_LINKED = 20


def case_keys(case: Case, profile: Profile | None = None) -> tuple[set[int], set[int]]:
    """(own keys, dealt-with keys) of the case's primary subject."""
    own = {stable_hash(case.primary)}
    dealt: set[int] = set()
    if profile is not None:
        own |= {contact_key(e) for e in profile.emails[:1]} | {
            contact_key(None, p) for p in profile.phones[:1]
        }
    for alert in case.alerts:
        for t in alert.transactions:
            if t.customer_id != case.primary:
                continue
            own.add(stable_hash(t.account_id))
            # the kernels' counterparty key without the display-name fallback: names collide
            # ("client", "rent"), and a case link must name someone in particular
            named = counterparty_key_text(
                t.counterparty_id, t.counterparty_email, t.counterparty_phone, None
            )
            dealt |= {
                stable_hash(named) if named else 0,
                contact_key(t.counterparty_email, t.counterparty_phone),
            }
    own.discard(0)
    dealt.discard(0)
    return own, dealt - own


def dealt_with_signals(case: Case, profile: Profile | None = None) -> list[PartySignal]:
    """What this case announces, so other cases can find it through shared counterparties."""
    _, dealt = case_keys(case, profile)
    since = int(datetime.fromisoformat(case.opened_at).timestamp()) if case.opened_at else 0
    return [
        PartySignal(key=k, customer_id=case.primary, signal=DEALT_WITH, since=since)
        for k in sorted(dealt)
    ]


def link_related(
    case: Case, index: PartyIndex, profile: Profile | None = None
) -> tuple[Case, bool]:
    """``case`` with every related alerted subject linked (a new version when any is new)."""
    if not len(index):
        return case, False
    own, dealt = case_keys(case, profile)
    changed = False
    linked = {s.customer_id for s in case.subjects}
    for other, reasons in related_subjects(index, case.primary, own, dealt).items():
        if other not in linked and len(linked) > MAX_LINKED:
            continue
        for reason in reasons:
            case, new = link(case, other, reason)
            changed |= new
        linked.add(other)
    return case, changed


def link_cases(cases: Mapping[str, Case], profiles: Mapping[str, Profile]) -> dict[str, Case]:
    """Offline (``protect cases``): each case linked to the others, with the index the stream
    would hold once every subject's alert and case had been announced."""
    index = PartyIndex()
    for subject, case in cases.items():
        own, _ = case_keys(case, profiles.get(subject))
        index.add_all(
            PartySignal(key=k, customer_id=subject, signal=ALERTED, since=0) for k in sorted(own)
        )
        index.add_all(dealt_with_signals(case, profiles.get(subject)))
    return {
        subject: link_related(case, index, profiles.get(subject))[0]
        for subject, case in cases.items()
    }
