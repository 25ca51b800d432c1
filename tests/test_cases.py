"""Case assembly and dispositions as pure functions over (table entry, message), and the
analyst pages rendered from real packages (no Kafka: tests/test_web.py runs the worker)."""

from __future__ import annotations

import html.parser

import msgspec
import pytest

from engine.cases.assembly import apply_alert, apply_disposition, package_for
from engine.cases.disclosure import CaseError, export, validate_fintrac, validate_goaml
from engine.cases.model import (
    CaseEntry,
    CaseSummary,
    Disposition,
    decode_disposition,
    decode_entry,
    encode_entry,
)
from engine.config import Settings
from engine.tools.backtest import backtest
from engine.web.auth import is_authorized
from engine.web.charts import graph_svg, timeline_svg
from engine.web.render import case_page, queue_page
from schemas import Profile


@pytest.fixture(scope="module")
def pipeline(small_dataset):
    result, _ = backtest(
        small_dataset / "transactions.jsonl", small_dataset / "profiles.jsonl", Settings()
    )
    decoder = msgspec.json.Decoder(Profile)
    with open(small_dataset / "profiles.jsonl", "rb") as f:
        profiles = {p.customer_id: p for p in (decoder.decode(line) for line in f if line.strip())}
    assert result.alerts
    return result.alerts, profiles


def assemble(alerts, profiles, entries=None, through_table=True):
    """What the agent does, message by message; entries go through the table encoding."""
    entries = dict(entries or {})
    results = []
    for alert in alerts:
        stored = entries.get(alert.customer_id)
        entry = stored if isinstance(stored, CaseEntry) else decode_entry(stored)
        result = apply_alert(entry, alert, profiles.get(alert.customer_id))
        results.append(result)
        entries[alert.customer_id] = encode_entry(result.entry) if through_table else result.entry
    return entries, results


def disposition(entry, action, **extra):
    case = entry.case
    fields = {
        "case_id": case.case_id,
        "customer_id": case.primary,
        "action": action,
        "reason": "reviewed",
        "analyst": "a.analyst",
        "at": "2026-03-01T10:00:00+00:00",
        "case_version": case.version,
    } | extra
    return decode_disposition(msgspec.json.encode(fields))


def test_every_alert_ends_in_exactly_one_case(pipeline):
    alerts, profiles = pipeline
    entries, results = assemble(alerts, profiles)
    cases = [decode_entry(v).case for v in entries.values()]
    assert len(cases) == len({a.customer_id for a in alerts})
    owner = {}
    for case in cases:
        for alert_id in case.alert_ids:
            assert alert_id not in owner, "an alert is in two cases"
            owner[alert_id] = case.case_id
    assert sorted(owner) == sorted(a.alert_id for a in alerts)
    assert [r.result for r in results].count("opened") == len(cases)
    assert all(r.publish for r in results)
    for case in cases:  # version 1 when opened, + 1 per joining alert
        assert case.version == len(case.alerts) and case.status == "open"


def test_a_replay_after_a_restart_adds_nothing(pipeline):
    alerts, profiles = pipeline
    entries, _ = assemble(alerts, profiles)
    again, results = assemble(alerts, profiles, entries)
    assert again == entries
    assert {r.result for r in results} == {"duplicate"} and not any(r.publish for r in results)


def test_a_decided_case_keeps_its_alerts_and_the_next_alert_opens_the_next_case(pipeline):
    alerts, profiles = pipeline
    subject = max(
        {a.customer_id for a in alerts}, key=lambda c: sum(a.customer_id == c for a in alerts)
    )
    own = [a for a in alerts if a.customer_id == subject]
    assert len(own) >= 2
    entries, _ = assemble(own[:1], profiles, through_table=False)
    entry = entries[subject]
    result = apply_disposition(entry, disposition(entry, "file"))
    assert result.publish and result.entry.case.status == "filed"
    assert {o for _, o in result.outcomes} == {"true_positive"}
    assert sorted(i for i, _ in result.outcomes) == sorted({i.id for i in own[0].indicators})
    filed = result.entry
    # the same (filed) alert again: nothing; a new alert: the next case, generation 1
    assert apply_alert(filed, own[0]).result == "duplicate"
    nxt = apply_alert(filed, own[1], profiles.get(subject))
    assert nxt.result == "reopened" and nxt.entry.case.generation == 1
    assert nxt.entry.case.case_id != filed.case.case_id and nxt.entry.case.alert_ids == {
        own[1].alert_id
    }
    assert apply_alert(nxt.entry, own[0]).result == "duplicate"  # still known after the new case
    # a decision on the earlier case is refused
    late = apply_disposition(nxt.entry, disposition(filed, "escalate"))
    assert late.refused and "earlier case" in late.refused and not late.publish


def test_dispositions_update_status_keep_who_and_when_and_are_idempotent(pipeline):
    alerts, profiles = pipeline
    entries, _ = assemble(alerts[:1], profiles, through_table=False)
    entry = next(iter(entries.values()))
    version = entry.case.version
    escalate = disposition(entry, "escalate")
    r1 = apply_disposition(entry, escalate)
    assert (
        r1.entry.case.status == "escalated"
        and r1.entry.case.version == version + 1
        and not r1.outcomes
    )
    (d,) = r1.entry.case_decisions()
    assert (d.analyst, d.at, d.status_before, d.status_after) == (
        "a.analyst",
        escalate.at,
        "open",
        "escalated",
    )
    again = apply_disposition(r1.entry, escalate)
    assert not again.publish and again.refused is None and again.entry is r1.entry
    # a decision made on the version before the escalation is refused: it is stale
    stale = apply_disposition(r1.entry, disposition(entry, "file", at="2026-03-02T08:00:00Z"))
    assert not stale.publish and "version" in stale.refused
    info = apply_disposition(
        r1.entry, disposition(r1.entry, "needs_information", at="2026-03-02T09:00:00+00:00")
    )
    assert info.entry.case.status == "needs_information" and len(info.entry.case_decisions()) == 2
    closed = apply_disposition(
        info.entry,
        disposition(info.entry, "close_false_positive", at="2026-03-03T09:00:00+00:00"),
    )
    assert closed.entry.case.status == "closed_false_positive"
    assert closed.outcomes and {o for _, o in closed.outcomes} == {"false_positive"}
    refused = apply_disposition(
        closed.entry, disposition(closed.entry, "file", at="2026-03-04T09:00:00+00:00")
    )
    assert refused.refused and "already closed_false_positive" in refused.refused
    wrong = apply_disposition(entry, disposition(entry, "escalate", case_id="CASE-NOPE"))
    assert wrong.refused and not wrong.publish
    # decisions round-trip through the table encoding and reach the package
    stored = decode_entry(encode_entry(closed.entry))
    assert stored == closed.entry
    package = package_for(stored, profiles)
    assert [d["action"] for d in package["decisions"]] == [
        "escalate",
        "needs_information",
        "close_false_positive",
    ]
    assert package["status"] == "closed_false_positive"


def test_a_snoozed_indicator_holds_back_alerts_made_only_of_it(pipeline):
    alerts, profiles = pipeline
    subject = max(
        {a.customer_id for a in alerts}, key=lambda c: sum(a.customer_id == c for a in alerts)
    )
    own = [a for a in alerts if a.customer_id == subject]
    entry = apply_alert(CaseEntry(), own[0], profiles.get(subject)).entry
    indicator = own[0].indicators[0].id
    snooze = disposition(entry, "snooze", indicator=indicator, until="2999-01-01T00:00:00+00:00")
    r = apply_disposition(entry, snooze)
    assert r.publish and r.entry.case.status == "open" and r.entry.snoozes[0].indicator == indicator
    only = msgspec.structs.replace(
        own[1],
        indicators=[i for i in own[1].indicators if i.id == indicator] or own[0].indicators[:1],
    )
    held = apply_alert(r.entry, only)
    assert (
        held.result == "snoozed"
        and not held.publish
        and only.alert_id not in held.entry.case.alert_ids
    )
    assert apply_alert(held.entry, only).result == "duplicate"
    unknown = apply_disposition(
        entry, disposition(entry, "snooze", indicator="PP-99", until="2999-01-01T00:00:00Z")
    )
    assert unknown.refused


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"action": "teleport"}, "action"),
        ({"reason": "  "}, "reason is required"),
        ({"at": "yesterday"}, "ISO 8601"),
        ({"action": "snooze"}, "snooze needs"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_dispositions_are_refused_with_a_reason(fields, message):
    base = {
        "case_id": "CASE-1",
        "customer_id": "C1",
        "action": "file",
        "reason": "r",
        "analyst": "a",
        "at": "2026-03-01T10:00:00+00:00",
        "case_version": 1,
    }
    with pytest.raises(CaseError, match=message):
        decode_disposition(msgspec.json.encode(base | fields))
    assert isinstance(decode_disposition(msgspec.json.encode(base)), Disposition)


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_pages_escape_everything_and_draw_both_charts(pipeline):
    alerts, profiles = pipeline
    entries, _ = assemble(alerts, profiles, through_table=False)
    entry = max(entries.values(), key=lambda e: len(e.case.alerts))
    evil = "<script>alert(1)</script>"
    bad_profiles = dict(profiles)
    bad_profiles[entry.case.primary] = msgspec.structs.replace(
        profiles[entry.case.primary], name=evil, occupation=evil
    )
    package = package_for(entry, bad_profiles)
    text = case_page(package, message=evil)
    assert "<script" not in text and "&lt;script&gt;" in text
    parser = _Text()
    parser.feed(text)
    assert parser.tags.count("svg") == 2 and "script" not in parser.tags
    assert 'id="link-graph"' in text and 'id="timeline-chart"' in text
    assert text.count("<circle") >= len(package["graph"]["nodes"])
    summaries = [CaseSummary.of(e.case) for e in entries.values()]
    queue = queue_page(summaries)
    scores = [s.score for s in sorted(summaries, key=lambda s: -s.score)]
    assert queue.index(f">{scores[0]:g}<") < queue.index(f">{scores[-1]:g}<")
    only_victims = queue_page(summaries, role="possible_victim")
    assert only_victims.count("<tr>") - 1 == sum(s.role == "possible_victim" for s in summaries)
    assert "<svg" in timeline_svg([]) and "<svg" in graph_svg({"nodes": [], "edges": []})
    for fmt, check in (
        ("fintrac", lambda b: validate_fintrac(__import__("json").loads(b))),
        ("goaml", lambda b: validate_goaml(b.decode())),
    ):
        check(export(package, fmt))


def test_the_token_check():
    assert is_authorized("s3cret-token-0123456789", "s3cret-token-0123456789")
    assert not is_authorized("", "s3cret-token-0123456789")
    assert not is_authorized("wrong", "s3cret-token-0123456789")
    assert not is_authorized("", "")  # no token configured: nobody is let in
