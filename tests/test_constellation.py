"""The constellation trigger and the role hypothesis, through the real pipeline."""

from __future__ import annotations

import pytest

from engine.config import Settings
from engine.core.constellation import role_hypothesis
from engine.core.detector import Detector
from indicators import registry
from indicators.examples import txn
from tests.helpers import comparable, run_rows

AD = dict(merchant_name="LEOLIST.CC", mcc="7311", channel="ecom")
# The family-count trigger alone (no nexus requirement), for tests of alert mechanics.
FAMILY_RULE = Settings.build(
    {"constellation": {"min_families": 3, "family_min_weight": 0.0, "nexus": []}}
)


def victim_rows() -> list[dict]:
    """Ad payments (ADV), late-night cash at several ATMs in two cities (CASHGEO): 2 families."""
    rows = [txn(i, "purchase", 12.0 * (i + 1), days=i, **AD) for i in range(3)]
    rows += [
        txn(
            10 + i,
            "cash_deposit",
            300.0,
            days=3 + i,
            at="23:30",
            channel="atm",
            city=city,
            province="ON",
            location_id=f"ATM-{i}",
        )
        for i, city in enumerate(["Toronto", "Hamilton", "Toronto", "Niagara Falls"])
    ]
    return rows


def test_two_families_below_score_threshold_do_not_alert():
    result, _, _ = run_rows(victim_rows())
    assert result.fired["PP-01"] and result.fired["PP-12"]
    assert not result.alerts


def test_strong_profile_rule_with_any_transaction_rule_alerts():
    profile = {
        "customer_id": "C-EXAMPLE",
        "flags": [{"type": "branch_observation", "source": "teller"}],
    }
    result, _, _ = run_rows(victim_rows(), [profile])
    assert result.alerts
    alert = result.alerts[0]
    assert "PK-04" in [i.id for i in alert.indicators]
    assert alert.role_hypothesis == "possible_victim"
    assert alert.ppp_code == "PROTECT" and alert.trigger.startswith("PK-04")


def test_alert_carries_evidence_threshold_window_and_is_not_repeated():
    profile = {
        "customer_id": "C-EXAMPLE",
        "flags": [{"type": "escort_ad_match", "source": "osint"}],
    }
    rows = victim_rows()
    result, state, detector = run_rows(rows, [profile], settings=FAMILY_RULE)
    # ADV + CASHGEO (PP-13) + ID = 3 families; PP-12 joining later is new evidence: a 2nd alert
    assert [len(a.indicators) for a in result.alerts] == [3, 4]
    alert = result.alerts[-1]
    assert alert.families == ["ADV", "CASHGEO", "ID"]
    assert {i.id for i in alert.indicators} == {"PP-01", "PP-12", "PP-13", "PK-03"}
    by_id = {i.id: i for i in alert.indicators}
    assert by_id["PP-01"].evidence_txn_ids == ["EX-0002", "EX-0001", "EX-0000"]
    assert by_id["PP-01"].threshold == 3 and by_id["PP-01"].window == "30d"
    assert set(by_id["PP-12"].evidence_txn_ids) <= {r["txn_id"] for r in rows}
    assert alert.window_start <= alert.window_end
    # the same active set a day later raises no new candidate
    more = [
        txn(
            30,
            "cash_deposit",
            300.0,
            days=8,
            at="23:50",
            channel="atm",
            city="Toronto",
            province="ON",
            location_id="ATM-9",
        )
    ]
    again, _, _ = run_rows(more, detector=detector, state=state)
    assert again.fired["PP-12"] and not again.alerts


def test_alert_ids_are_deterministic():
    profile = {"customer_id": "C-EXAMPLE", "flags": [{"type": "escort_ad_match"}]}
    first, _, _ = run_rows(victim_rows(), [profile], settings=FAMILY_RULE)
    second, _, _ = run_rows(victim_rows(), [profile], settings=FAMILY_RULE)
    assert first.alerts and comparable(first.alerts) == comparable(second.alerts)


def test_thresholds_are_configurable():
    strict = Settings.build({"constellation": {"min_families": 4, "score_threshold": 50.0}})
    profile = {"customer_id": "C-EXAMPLE", "flags": [{"type": "escort_ad_match"}]}
    result, _, _ = run_rows(victim_rows(), [profile], detector=Detector(strict))
    assert not result.alerts


def test_sex_trade_signals_alone_need_a_nexus():
    """Ads, late-night cash at many places and an escort-ad match are what an independent
    adult worker shows too: no candidate without an indicator of exploitation or laundering."""
    profile = {"customer_id": "C-EXAMPLE", "flags": [{"type": "escort_ad_match"}]}
    result, _, _ = run_rows(victim_rows(), [profile])
    assert result.fired["PP-01"] and not result.alerts
    with_nexus = Settings.build(
        {"constellation": {"nexus": ["PK-03"], "min_families": 3, "score_threshold": 8.0}}
    )
    result, _, _ = run_rows(victim_rows(), [profile], settings=with_nexus)
    assert result.alerts and "nexus PK-03" in result.alerts[-1].trigger


def test_collector_pattern_counts_as_a_nexus_without_own_ad_spend():
    rows = list(registry.get("PP-18").must_fire[0].transactions)
    loose = {"score_threshold": 2.0, "nexus": ["PP-17"]}
    result, _, _ = run_rows(rows, settings=Settings.build({"constellation": loose}))
    assert result.fired["PP-18"] and result.alerts
    assert result.alerts[-1].role_hypothesis == "collector_nominee"
    assert result.alerts[-1].trigger.endswith("collector pattern")
    result, _, _ = run_rows(
        rows, settings=Settings.build({"constellation": {**loose, "collector_nexus": False}})
    )
    assert not result.alerts
    ads = [txn(100 + i, "purchase", 12.0, days=i, **AD) for i in range(3)]  # the subject's own ads
    result, _, _ = run_rows(
        sorted(rows + ads, key=lambda r: r["ts"]), settings=Settings.build({"constellation": loose})
    )
    assert result.fired["PP-01"] and not result.alerts


@pytest.mark.parametrize(
    ("signals", "role"),
    [
        ([("victim", "ADV", 3.0), ("victim", "CASHGEO", 1.5)], "possible_victim"),
        ([("trafficker", "FUNNEL", 2.5), ("trafficker", "ID", 2.0)], "suspected_trafficker"),
        ([("trafficker", "FUNNEL", 2.5), ("victim", "FUNNEL", 2.5)], "collector_nominee"),
        (
            [("trafficker", "FUNNEL", 2.5), ("victim", "FUNNEL", 2.5), ("victim", "ADV", 3.0)],
            "possible_victim",
        ),
        ([("context", "ID", 1.0)], "unknown"),
    ],
)
def test_role_hypothesis(signals, role):
    assert role_hypothesis(signals) == role


def test_alert_carries_its_evidence_transactions_in_full():
    profile = {"customer_id": "C-EXAMPLE", "flags": [{"type": "escort_ad_match"}]}
    rows = victim_rows()
    result, _, _ = run_rows(rows, [profile], settings=FAMILY_RULE)
    alert = result.alerts[-1]
    ids = {t for i in alert.indicators for t in i.evidence_txn_ids}
    assert [t.txn_id for t in alert.transactions] == sorted(
        ids, key=lambda t: next(r["ts"] for r in rows if r["txn_id"] == t)
    )
    by_id = {r["txn_id"]: r for r in rows}
    for t in alert.transactions:
        assert t.amount == by_id[t.txn_id]["amount"] and t.ts.isoformat() == by_id[t.txn_id]["ts"]


def test_every_profile_flag_type_sets_its_rule():
    """Each CONTRACT §2 flag type (and the engine's extra ``foreign_recruitment``) is read into
    the profile facts, and the profile rule that owns its bit joins an alert's indicators."""
    import msgspec

    from engine.core.state import profile_facts
    from indicators.registry import PROFILE_REGISTRY
    from schemas import FLAG_TYPES, Profile

    owners = {}
    for flag_type in FLAG_TYPES:
        profile = msgspec.convert(
            {"customer_id": "C", "flags": [{"type": flag_type, "source": "test"}]}, Profile
        )
        _, bits, _, _ = profile_facts(profile)
        rules = [r.id for r in PROFILE_REGISTRY.values() if r.flag_bit and bits & r.flag_bit]
        assert rules, f"flag type {flag_type!r} sets no rule's bit"
        owners[flag_type] = rules
    assert owners["foreign_recruitment"] == ["PK-09"]
    profile = {
        "customer_id": "C-EXAMPLE",
        "flags": [{"type": "foreign_recruitment", "source": "osint"}],
    }
    result, _, _ = run_rows(victim_rows(), [profile], Detector(FAMILY_RULE))
    assert "PK-09" in {i.id for a in result.alerts for i in a.indicators}
