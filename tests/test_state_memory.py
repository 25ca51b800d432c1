"""Ids the partition has never seen cost no customer arrays (issue #12 item 4): a tombstone
for an unknown customer forgets nothing and makes no slot; a finding about one waits in a
small table until the customer's profile or first transaction gives it a slot."""

from __future__ import annotations

from engine.config import Settings
from engine.core.decode import Message
from engine.core.detector import Detector
from engine.core.state import PartitionState
from indicators.registry import LAYOUT
from tests.helpers import messages

PROFILE = {
    "customer_id": "C1",
    "party_type": "person",
    "home_city": "Toronto",
    "home_province": "ON",
}


def tombstones(n: int) -> list[Message]:
    return [Message("profiles", 0, i, f"GHOST-{i}".encode(), None) for i in range(n)]


def test_tombstones_for_unknown_customers_allocate_nothing():
    detector = Detector(Settings())
    state = detector.new_state()
    before = (state.capacity, state.nbytes())
    result = detector.process(state, tombstones(50_000), [])
    assert result.profiles == 50_000 and not result.dead
    assert state.customer_ids == [] and (state.capacity, state.nbytes()) == before
    assert state.offsets["profiles"] == 50_000


def test_a_tombstone_still_forgets_a_known_customer_s_profile():
    detector = Detector(Settings())
    state = detector.new_state()
    assert not detector.process(state, messages([PROFILE], "profiles"), []).dead
    slot = state.slots["C1"]
    assert state.profile["home_city"][slot] != 0
    detector.process(state, [Message("profiles", 0, 1, b"C1", None)], [])
    assert state.customer_ids == ["C1"] and state.profile["home_city"][slot] == 0


def test_a_finding_about_an_unknown_customer_waits_without_a_slot(tmp_path):
    detector = Detector(Settings())
    state = detector.new_state()
    state.apply_finding("C1", "shared_identifier")
    assert state.customer_ids == [] and "C1" in state.pending_findings
    # through a checkpoint, then the profile arrives: the fact is the customer's
    state.save(tmp_path / "p0.npz", "hash")
    state = PartitionState.load(tmp_path / "p0.npz", detector.specs)
    assert not detector.process(state, messages([PROFILE], "profiles"), []).dead
    flags = int(state.profile["profile_flags"][state.slots["C1"]])
    assert flags & LAYOUT.bit("profile", "shared_identifier")
    assert state.pending_findings == {}
