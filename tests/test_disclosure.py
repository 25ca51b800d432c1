"""Disclosure packages and regulatory exports on cases built from the real pipeline's alerts.

The alerts come from the backtest (the same Detector as the stream) over the shared
generated population; every case built from them must give a complete CONTRACT §5
package whose narrative agrees with its tables and whose exports validate against the
official FINTRAC and goAML schemas.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from decimal import Decimal

import msgspec
import pytest

from engine.cases.disclosure import (
    PACKAGE_FIELDS,
    CaseError,
    CodeTableError,
    DisclosureError,
    ExportValidationError,
    FintracCodes,
    GoamlSettings,
    add_alert,
    build_package,
    decode_case,
    encode_case,
    export,
    link,
    open_case,
    to_fintrac_str,
    to_goaml_xml,
    validate_fintrac,
    validate_goaml,
    with_status,
)
from engine.cases.disclosure.common import INFLOW_TYPES, OUTFLOW_TYPES, ROLE_LABELS
from engine.config import Settings
from engine.tools.backtest import backtest
from schemas import Profile, Transaction

AMOUNT = r"([\d,]+\.\d\d)"


def _cad(row: dict) -> Decimal:
    if row.get("amount_cad") is not None:
        return Decimal(str(row["amount_cad"]))
    return Decimal(str(row["amount"])) if row["currency"] == "CAD" else Decimal(0)


def _money(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.fixture(scope="module")
def pipeline(small_dataset):
    result, _ = backtest(
        small_dataset / "transactions.jsonl", small_dataset / "profiles.jsonl", Settings()
    )
    decoder = msgspec.json.Decoder(Profile)
    with open(small_dataset / "profiles.jsonl", "rb") as f:
        profiles = {p.customer_id: p for p in (decoder.decode(line) for line in f if line.strip())}
    return result.alerts, profiles


@pytest.fixture(scope="module")
def cases(pipeline):
    """One case per alerting subject, as the assembler builds them, plus links and a ring case."""
    alerts, profiles = pipeline
    by_subject = {}
    for alert in alerts:
        case = by_subject.get(alert.customer_id)
        by_subject[alert.customer_id] = (
            open_case(alert, profiles.get(alert.customer_id))
            if case is None
            else add_alert(case, alert)[0]
        )
    # link subjects that share a counterparty, the way the assembler will
    holders = defaultdict(set)
    for alert in alerts:
        for t in alert.transactions:
            if t.counterparty_id:
                holders[t.counterparty_id].add(alert.customer_id)
    linked = dict(by_subject)
    for cp, who in sorted(holders.items()):
        for a in sorted(who):
            for b in sorted(who - {a}):
                role = by_subject[b].subject(b).role_hypothesis
                linked[a] = link(
                    linked[a],
                    b,
                    f"shared counterparty {cp}",
                    role_hypothesis=role,
                    name=profiles[b].name,
                )[0]
    # a ring case: preferably a possible victim's case with a linked non-victim's alerts joined
    with_links = [c for c in linked.values() if len(c.subjects) > 1]
    assert with_links, "no two alerting subjects share a counterparty; the ring tests need one"
    victim = next(
        (
            c
            for c in with_links
            if c.subjects[0].role_hypothesis == "possible_victim"
            and any(s.role_hypothesis != "possible_victim" for s in c.subjects[1:])
        ),
        with_links[0],
    )
    others = [s.customer_id for s in victim.subjects[1:] if s.role_hypothesis != "possible_victim"]
    other = (others or [victim.subjects[1].customer_id])[0]
    ring = victim
    for alert in alerts:
        if alert.customer_id == other:
            ring = add_alert(ring, alert)[0]
    return {**{c.case_id: c for c in linked.values()}, "ring": ring}


@pytest.fixture(scope="module")
def packages(cases, pipeline):
    _, profiles = pipeline
    return {key: build_package(case, profiles) for key, case in cases.items()}


# ---------------------------------------------------------------------- cases
def test_the_pipeline_gives_victim_and_trafficker_cases(cases):
    roles = {c.subjects[0].role_hypothesis for c in cases.values()}
    assert "possible_victim" in roles and roles & {"suspected_trafficker", "collector_nominee"}
    assert (
        len(cases) >= 5
    )  # 600 customers hold 2 rings (about 8 members): enough to exercise every path


def test_duplicate_alert_id_adds_nothing_and_a_replay_changes_no_case(cases, pipeline):
    alerts, _ = pipeline
    for case in cases.values():
        for alert in case.alerts:
            again, changed = add_alert(case, alert)
            assert again is case and not changed
    for alert in alerts:  # a restart replays every alert into its subject's case
        for case in cases.values():
            if case.primary == alert.customer_id:
                assert add_alert(case, alert) == (case, False)


def test_a_new_alert_raises_the_version_and_keeps_the_max_score(pipeline):
    alerts, profiles = pipeline
    first, second = [a for a in alerts if a.customer_id == alerts[-1].customer_id][:2]
    case = open_case(first, profiles[first.customer_id])
    assert (case.version, case.status, case.score) == (1, "open", first.score)
    grown, changed = add_alert(case, second)
    assert changed and grown.version == 2 and grown.score == max(first.score, second.score)
    assert [a.alert_id for a in grown.alerts] == [first.alert_id, second.alert_id]
    assert (
        grown.case_id == case.case_id == open_case(second).case_id
    )  # deterministic from the subject
    assert build_package(grown, profiles)["version"] == 2


def test_links_foreign_alerts_and_closed_cases(pipeline):
    alerts, profiles = pipeline
    a = alerts[0]
    other = next(x for x in alerts if x.customer_id != a.customer_id)
    case = open_case(a, profiles[a.customer_id])
    with pytest.raises(CaseError, match="not a subject"):
        add_alert(case, other)
    linked, changed = link(case, other.customer_id, "shared phone")
    assert (
        changed and linked.version == 2 and linked.subject(other.customer_id).relation == "linked"
    )
    assert link(linked, other.customer_id, "shared phone") == (linked, False)
    assert link(linked, a.customer_id, "self") == (linked, False)
    assert (
        add_alert(linked, other)[0].subject(other.customer_id).role_hypothesis
        == other.role_hypothesis
    )
    closed = with_status(linked, "closed_false_positive")
    assert closed.version == 3 and not closed.is_open
    with pytest.raises(CaseError, match="generation=1"):
        add_alert(closed, other)
    assert open_case(a, generation=1).case_id == f"{case.case_id}-1"


def test_case_round_trips_through_a_table_and_packages_are_deterministic(cases, packages, pipeline):
    _, profiles = pipeline
    ring = cases["ring"]
    assert decode_case(encode_case(ring)) == ring
    assert build_package(decode_case(encode_case(ring)), profiles) == packages["ring"]


# ---------------------------------------------------------------------- packages
def test_every_package_has_the_contract_fields(packages, cases):
    for key, pkg in packages.items():
        assert set(PACKAGE_FIELDS) <= pkg.keys(), key
        assert pkg["ppp_code"] == "PROTECT" and pkg["version"] == cases[key].version
        assert pkg["status"] == "open" and pkg["score"] == max(a.score for a in cases[key].alerts)
        assert pkg["subjects"] and all(s["role_hypothesis"] in ROLE_LABELS for s in pkg["subjects"])
        assert pkg["graph"]["nodes"] and pkg["graph"]["edges"] and pkg["timeline"]
        assert set(pkg["exports"]) >= {"fintrac_str", "goaml_xml"}
        json.dumps(pkg)  # a plain JSON document for the disclosures topic


def test_transactions_are_all_the_evidence_in_full_once_and_in_order(packages, cases):
    for key, pkg in packages.items():
        evidence = {t.txn_id: t for a in cases[key].alerts for t in a.transactions}
        rows = pkg["transactions"]
        assert [r["txn_id"] for r in rows] == sorted(evidence, key=lambda i: (evidence[i].ts, i))
        for row in rows:
            assert msgspec.convert(row, Transaction, strict=False) == evidence[row["txn_id"]]
        known = set(evidence)
        for ind in pkg["indicators"]:
            assert set(ind["evidence_txn_ids"]) <= known and ind["evidence_count"] == len(
                ind["evidence_txn_ids"]
            )
            assert ind["fintrac_items"] and set(ind["fintrac_items"]) <= set(ind["sources"])
        alert_ids = {i.id for a in cases[key].alerts for i in a.indicators}
        assert {i["id"] for i in pkg["indicators"]} == alert_ids


def test_graph_timeline_and_places_account_for_every_transaction(packages):
    for key, pkg in packages.items():
        n = len(pkg["transactions"])
        funds = [e for e in pkg["graph"]["edges"] if e["kind"] == "funds"]
        assert sum(e["count"] for e in funds) == n, key
        kinds = {node["kind"] for node in pkg["graph"]["nodes"]}
        assert {"subject", "account"} <= kinds
        days = [e for e in pkg["timeline"] if e["kind"] == "transactions"]
        assert sum(d["count"] for d in days) == n and days == sorted(days, key=lambda d: d["date"])
        assert sum(1 for e in pkg["timeline"] if e["kind"] == "alert") == len(pkg["alerts"])
        assert sum(p["count"] for p in pkg["places"]) + pkg["summary"]["unlocated"] == n
        if len(pkg["subjects"]) > 1:
            assert any(e["kind"] == "linked" for e in pkg["graph"]["edges"])


def test_the_ring_case_shows_both_subjects_and_their_shared_counterparties(packages, cases):
    ring = packages["ring"]
    roles = {s.customer_id: s.role_hypothesis for s in cases["ring"].subjects}
    assert {s["customer_id"]: s["role_hypothesis"] for s in ring["subjects"]} == roles
    holders = {s["customer_id"] for s in ring["subjects"] if s["accounts"]}
    assert len(holders) == 2
    shared = [
        n
        for n in ring["graph"]["nodes"]
        if n["kind"] == "counterparty" and len(n.get("subjects", [])) > 1
    ]
    assert shared


def test_summary_figures_are_recomputed_from_the_transactions(packages):
    for key, pkg in packages.items():
        rows, s = pkg["transactions"], pkg["summary"]
        assert s["transactions"] == len(rows)
        assert s["total_cad"] == pytest.approx(float(sum(_cad(r) for r in rows)), abs=0.005), key
        for flow, types in (("inflow", INFLOW_TYPES), ("outflow", OUTFLOW_TYPES)):
            chosen = [r for r in rows if r["txn_type"] in types]
            assert s[flow]["count"] == len(chosen)
            assert s[flow]["cad"] == pytest.approx(float(sum(_cad(r) for r in chosen)), abs=0.005)
        local_days = sorted({r["ts"][:10] for r in rows})
        assert (s["first_date"], s["last_date"], s["active_days"]) == (
            local_days[0],
            local_days[-1],
            len(local_days),
        )
        late = sum(1 for r in rows if int(r["ts"][11:13]) >= 22 or int(r["ts"][11:13]) < 6)
        assert s["late_night"] == late
        assert s["cities"] == len(
            {(r["city"].casefold(), r.get("province")) for r in rows if r.get("city")}
        )


# ---------------------------------------------------------------------- narrative
def test_narrative_answers_the_questions_and_states_each_role(packages):
    for key, pkg in packages.items():
        text = pkg["narrative"]
        assert text.startswith("#Project PROTECT\n"), key
        for section in ("SUMMARY", "WHO", "WHAT", "WHEN", "WHERE", "WHY", "HOW"):
            assert f"\n{section}\n" in text
        who = text.split("\nWHO\n")[1].split("\nWHAT\n")[0]
        sentences = re.split(r"(?<=[.;:])\s+|\n", text)
        for subject in pkg["subjects"]:
            line = next(x for x in who.splitlines() if f"customer {subject['customer_id']}" in x)
            if subject["role_hypothesis"] == "collector_nominee":
                assert "possible collector or nominee" in line
            else:
                assert ROLE_LABELS[subject["role_hypothesis"]].split()[0] in line
            if subject["role_hypothesis"] == "possible_victim":
                assert "possible victim" in line
                names = [subject["customer_id"]] + ([subject["name"]] if subject["name"] else [])
                for sentence in sentences:
                    if any(n in sentence for n in names):
                        assert "suspect" not in sentence.lower(), (key, sentence)
            if subject["role_hypothesis"] == "suspected_trafficker":
                assert "suspected trafficker" in line


def test_narrative_numbers_come_from_the_package(packages):
    for key, pkg in packages.items():
        text, s = pkg["narrative"], pkg["summary"]
        m = re.search(
            rf"reports (\d+) transactions? with a total value of CAD {AMOUNT} \(CAD {AMOUNT} in, "
            rf"CAD {AMOUNT} out\) between (\S+) and (\S+), on (\d+) accounts?",
            text,
        )
        assert m, key
        assert int(m[1]) == s["transactions"] == len(pkg["transactions"])
        assert (_money(m[2]), _money(m[3]), _money(m[4])) == (
            s["total_cad"],
            s["inflow"]["cad"],
            s["outflow"]["cad"],
        )
        assert (m[5], m[6], int(m[7])) == (s["first_date"], s["last_date"], s["accounts"])
        m = re.search(
            r"matches (\d+) Project Protect money-laundering indicators? in (\d+) famil", text
        )
        assert (int(m[1]), int(m[2])) == (len(pkg["indicators"]), len(pkg["families"]))
        assert float(re.search(r"engine score of (\d+(?:\.\d+)?)", text)[1]) == pkg["score"]
        counts = {
            i["id"]: i["evidence_count"] for i in pkg["indicators"] if i["kind"] == "transaction"
        }
        quoted = dict(
            re.findall(r"^- (P[PK]-\d+) .*: (\d+) supporting transactions?\.$", text, re.M)
        )
        assert {k: int(v) for k, v in quoted.items()} == counts
        m = re.search(
            r"run from (\S+) to (\S+), on (\d+) days?; the busiest day was (\S+) with (\d+) "
            r"transactions?\. (\d+) transactions? took place between 22:00",
            text,
        )
        assert (m[1], m[2], int(m[3]), m[4], int(m[5]), int(m[6])) == (
            s["first_date"],
            s["last_date"],
            s["active_days"],
            s["busiest_day"]["date"],
            s["busiest_day"]["count"],
            s["late_night"],
        )
        assert int(re.search(r"raised (\d+) alerts?", text)[1]) == len(pkg["alerts"])
        if pkg["places"]:
            assert int(re.search(r"took place in (\d+) cit", text)[1]) == len(pkg["places"])
            for place in pkg["places"][:6]:
                assert f"{place['city']}" in text and f"({place['count']} transaction" in text
        for flow in ("in", "out"):
            m = re.search(rf"Money {flow}: .*?; CAD {AMOUNT} in all\.", text)
            assert bool(m) == bool(s[f"{flow}flow"]["count"]), key
            if m:
                assert _money(m[1]) == s[f"{flow}flow"]["cad"]


# ---------------------------------------------------------------------- exports
def test_both_exports_validate_against_the_official_schemas(packages):
    for key, pkg in packages.items():
        report = pkg["exports"]["fintrac_str"]
        validate_fintrac(report)
        validate_goaml(pkg["exports"]["goaml_xml"])
        assert report["detailsOfSuspicion"]["descriptionOfSuspiciousActivity"] == pkg["narrative"]
        assert report["detailsOfSuspicion"]["publicPrivatePartnershipProjectNameCodes"] == [
            FintracCodes.load().ppp_projects["PROTECT"]
        ]
        refs = [
            t["suspiciousTransactionDetails"]["reportingEntityTransactionReference"]
            for t in report["transactions"]
        ]
        assert refs == [t["txn_id"] for t in pkg["transactions"]], key
        defined = {d["refId"] for d in report["definitions"]}
        for t in report["transactions"]:
            for action in t["startingActions"]:
                assert {c["refId"] for c in action["conductors"]} <= defined
            for action in t["completingActions"]:
                assert {b["refId"] for b in action["beneficiaries"]} <= defined
        xml = pkg["exports"]["goaml_xml"]
        assert xml.count("<transaction>") == len(pkg["transactions"])
        assert "<reason>#Project PROTECT" in xml


def test_goaml_never_marks_a_possible_victim_as_suspected(packages):
    for pkg in packages.values():
        if all(s["role_hypothesis"] == "possible_victim" for s in pkg["subjects"]):
            assert "_is_suspected>true<" not in pkg["exports"]["goaml_xml"]
            assert "_is_suspected>false<" in pkg["exports"]["goaml_xml"]


def test_export_gives_validated_bytes(packages):
    pkg = packages["ring"]
    assert json.loads(export(pkg, "fintrac")) == pkg["exports"]["fintrac_str"]
    assert export(pkg, "goaml").startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<report>')
    with pytest.raises(DisclosureError, match="not one of"):
        export(pkg, "pdf")
    broken = {
        **pkg,
        "exports": {
            **pkg["exports"],
            "goaml_xml": pkg["exports"]["goaml_xml"].replace(
                "<report_code>STR</report_code>", "<report_code>XYZ</report_code>"
            ),
        },
    }
    with pytest.raises(ExportValidationError, match="report_code"):
        export(broken, "goaml")


def test_validation_errors_list_the_failing_paths(packages):
    report = json.loads(json.dumps(packages["ring"]["exports"]["fintrac_str"]))
    report["transactions"][0]["startingActions"][0]["details"]["amount"] = "12,5"
    del report["reportDetails"]["reportingEntityContactId"]
    with pytest.raises(ExportValidationError) as err:
        validate_fintrac(report)
    text = str(err.value)
    assert (
        "transactions/0/startingActions/0/details/amount" in text
        and "reportingEntityContactId" in text
    )
    with pytest.raises(ExportValidationError, match="document"):
        validate_goaml("<report>")


def test_code_tables_are_configurable_and_checked(packages):
    data = json.loads(json.dumps({k: v for k, v in vars(FintracCodes.load()).items()}))
    assert data["placeholder"] is True
    data["ppp_projects"] = {"PROTECT": 42}
    report = to_fintrac_str(packages["ring"], FintracCodes.from_mapping(data))
    assert report["detailsOfSuspicion"]["publicPrivatePartnershipProjectNameCodes"] == [42]
    validate_fintrac(report)
    del data["method_by_channel"]["atm"]
    with pytest.raises(CodeTableError, match="method_by_channel lacks"):
        FintracCodes.from_mapping(data)
    goaml = json.loads(json.dumps(vars(GoamlSettings.load())))
    goaml["report_indicators"] = {"PROTECT": "-", "PP-01": "-"}
    xml = to_goaml_xml(packages["ring"], GoamlSettings.from_mapping(goaml), pretty=True)
    validate_goaml(xml)
    assert xml.count("<indicator>-</indicator>") == 1  # mapped codes are deduplicated
    del goaml["transmode_by_channel"]["atm"]
    with pytest.raises(CodeTableError, match="transmode_by_channel lacks"):
        GoamlSettings.from_mapping(goaml)


def test_a_case_whose_evidence_was_pruned_still_builds_and_its_export_fails_clearly(pipeline):
    alerts, profiles = pipeline
    bare = msgspec.structs.replace(alerts[0], transactions=[])
    pkg = build_package(open_case(bare, profiles[bare.customer_id]), profiles)
    assert pkg["narrative"].startswith("#Project PROTECT\n") and pkg["transactions"] == []
    assert "holds no supporting transaction" in pkg["narrative"]
    with pytest.raises(ExportValidationError, match="transactions"):
        export(pkg, "fintrac")
