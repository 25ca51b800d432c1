"""The party index (engine/crosscustomer/parties.py) and related-subject links in cases
(engine/cases/links.py)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from engine.cases.disclosure import add_alert, build_package, export, open_case
from engine.cases.links import MAX_LINKED, case_keys, dealt_with_signals, link_related
from engine.config import Settings
from engine.core.hashing import contact_key, stable_hash
from engine.crosscustomer.parties import (
    DEALT_WITH,
    MAX_SHARED_COUNTERPARTY,
    PartyIndex,
    PartySignal,
    decode_signal,
    encode_signal,
    related_subjects,
)
from engine.tools.backtest import backtest
from schemas import Profile
from tests.bits import (
    CP_ADV_LODGE,
    CP_ALERTED,
    CP_ESCORT_EMT,
    SIGNAL_ADV_LODGE,
    SIGNAL_ALERTED,
    SIGNAL_ESCORT_EMT,
)


def signal(key: int, customer: str, bit: int, since: int = 0) -> PartySignal:
    return PartySignal(key=key, customer_id=customer, signal=bit, since=since)


def columns(counterparty: list[int], contact: list[int], ts: list[int]) -> dict[str, np.ndarray]:
    return {
        "counterparty": np.array(counterparty, dtype=np.int64),
        "cp_contact": np.array(contact, dtype=np.int64),
        "ts": np.array(ts, dtype=np.int64),
    }


def test_the_earliest_announcement_wins_and_repeats_change_nothing():
    index = PartyIndex()
    assert index.add(signal(7, "A", SIGNAL_ADV_LODGE, since=500))
    assert index.add(signal(7, "A", SIGNAL_ADV_LODGE, since=100))
    assert not index.add(signal(7, "A", SIGNAL_ADV_LODGE, since=900))
    assert index.entries[7] == {("A", SIGNAL_ADV_LODGE): 100}
    assert decode_signal(encode_signal(signal(7, "A", SIGNAL_ADV_LODGE))[1]) == signal(
        7, "A", SIGNAL_ADV_LODGE
    )
    assert decode_signal(b"not json") is None


def test_rows_see_other_customers_signals_from_their_time_on():
    ash = contact_key("Ash@Example.com")
    index = PartyIndex()
    index.add_all(
        [
            signal(ash, "FUNDER", SIGNAL_ADV_LODGE, since=100),
            signal(ash, "FUNDER", SIGNAL_ESCORT_EMT, since=300),
            signal(stable_hash("C-HUB"), "HUB", SIGNAL_ALERTED, since=0),
        ]
    )
    flags = index.counterparty_flags(
        ["V", "V", "FUNDER", "V", "V"],
        columns([0, 0, 0, stable_hash("C-HUB"), 99], [ash, ash, ash, 0, 0], [50, 200, 200, 10, 10]),
        {
            SIGNAL_ADV_LODGE: CP_ADV_LODGE,
            SIGNAL_ESCORT_EMT: CP_ESCORT_EMT,
            SIGNAL_ALERTED: CP_ALERTED,
        },
    )
    # before the signal; after the first signal only; the funder's own row; by customer id; unknown
    assert flags.tolist() == [0, CP_ADV_LODGE, 0, CP_ALERTED, 0]
    assert contact_key("ash@example.com ") == ash and contact_key(
        None, "+1 (416) 555-0142"
    ) == contact_key(None, "416-555-0142")


def test_related_subjects_name_the_reason():
    index = PartyIndex()
    phone, hub, client, other_client, biller = 11, 22, 33, 34, 44
    index.add_all(
        [
            signal(phone, "B", SIGNAL_ALERTED),  # B gave the same phone as A
            signal(hub, "C", SIGNAL_ALERTED),  # A sent money to C
            signal(client, "D", DEALT_WITH),
            signal(other_client, "D", DEALT_WITH),  # two counterparties in common
            signal(client, "F", DEALT_WITH),  # one in common: not enough
            *[
                signal(biller, f"E{i}", DEALT_WITH) for i in range(MAX_SHARED_COUNTERPARTY + 1)
            ],  # too common
            *[signal(other_client, f"E{i}", DEALT_WITH) for i in range(2)],
        ]
    )
    related = related_subjects(
        index, "A", own={phone}, dealt_with={hub, client, other_client, biller}
    )
    assert related == {
        "B": ["shares an identifier (account, e-mail or phone)"],
        "C": ["funds flow between the subjects"],
        "D": ["both transacted with the same counterparties"],
    }
    assert related_subjects(index, "B", own={phone}, dealt_with=set()) == {}  # never itself


@pytest.fixture(scope="module")
def ring_alerts(small_dataset):
    """Alerts and the party index of a backtest with the cross-customer stage on."""
    from engine.core.detector import Detector

    detector = Detector(Settings())
    total, _ = backtest(
        small_dataset / "transactions.jsonl",
        small_dataset / "profiles.jsonl",
        Settings(),
        detector=detector,
    )
    with open(small_dataset / "profiles.jsonl") as lines:
        profiles = {p["customer_id"]: Profile(**p) for p in map(json.loads, lines)}
    return total.alerts, detector.parties, profiles


def _cases(alerts, profiles):
    cases = {}
    for alert in alerts:
        case = cases.get(alert.customer_id)
        cases[alert.customer_id] = (
            open_case(alert, profiles.get(alert.customer_id))
            if case is None
            else add_alert(case, alert)[0]
        )
    return cases


def test_ring_members_are_linked_into_each_others_cases(ring_alerts, small_dataset):
    alerts, index, profiles = ring_alerts
    assert len(index) and alerts
    cases = _cases(alerts, profiles)
    for subject, case in cases.items():  # what each case assembler announces
        index.add_all(dealt_with_signals(case, profiles.get(subject)))
    alerted = set(cases)
    linked = {}
    for subject, case in cases.items():
        new, changed = link_related(case, index, profiles.get(subject))
        others = [s for s in new.subjects if s.relation == "linked"]
        assert changed == bool(others) and (new.version > case.version) == changed
        assert (
            all(s.customer_id in alerted and s.link_reasons for s in others)
            and len(others) <= MAX_LINKED + 1
        )
        linked[subject] = new
    with_links = [c for c in linked.values() if len(c.subjects) > 1]
    assert with_links, "no case linked any related subject"
    with open(small_dataset / "labels.csv") as handle:  # ground truth: who belongs to which ring
        ring_of = {r["customer_id"]: r["ring_id"] for r in csv.DictReader(handle)}
    pairs = [
        (ring_of.get(c.primary), ring_of.get(s.customer_id))
        for c in with_links
        for s in c.subjects[1:]
    ]
    assert sum(a == b != "" for a, b in pairs) >= 0.8 * len(pairs), pairs
    case = max(with_links, key=lambda c: len(c.subjects))
    package = build_package(case, profiles)
    assert {s["customer_id"] for s in package["subjects"]} == {s.customer_id for s in case.subjects}
    assert export(package, "fintrac") and export(
        package, "goaml"
    )  # both validate with linked subjects


def test_case_keys_use_the_subjects_accounts_profile_and_counterparties(ring_alerts):
    alerts, _, profiles = ring_alerts
    case = open_case(alerts[0], profiles.get(alerts[0].customer_id))
    own, dealt = case_keys(case, profiles.get(case.primary))
    assert stable_hash(case.primary) in own and not own & dealt
    profile = profiles.get(case.primary)
    if profile is not None and profile.emails:
        assert contact_key(profile.emails[0]) in own
