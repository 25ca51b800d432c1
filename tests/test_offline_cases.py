"""Cases assembled offline from a backtest's alerts.

(``engine.tools.offline_cases``, ``protect cases``.)

The alerts come from ``protect backtest`` over the shared generated population and go
through the files, as in the 20,000-customer quality run: every alert must end in
exactly one case, and both exports of every case must validate against the official
FINTRAC and goAML schemas. A broken export must be reported, not written.
"""

from __future__ import annotations

import json

import msgspec
import pytest

from engine.cases.disclosure import validate_fintrac, validate_goaml
from engine.tools import offline_cases
from engine.tools.cli import main
from engine.tools.offline_cases import (
    assemble,
    assemble_cases,
    read_alerts,
    read_profiles,
    validate_all,
)


@pytest.fixture(scope="module")
def files(small_dataset, tmp_path_factory):
    alerts = tmp_path_factory.mktemp("offline") / "alerts.jsonl"
    args = [
        "--transactions",
        str(small_dataset / "transactions.jsonl"),
        "--profiles",
        str(small_dataset / "profiles.jsonl"),
        "--out",
        str(alerts),
        "--quiet",
    ]
    assert main(["backtest", *args]) == 0
    return alerts, small_dataset / "profiles.jsonl"


@pytest.fixture(scope="module")
def inputs(files):
    alerts_path, profiles_path = files
    alerts = list(read_alerts(alerts_path))
    assert len({a.customer_id for a in alerts}) > 3, "too few alerted subjects to test cases"
    return alerts, read_profiles(profiles_path)


@pytest.fixture(scope="module")
def packages(inputs):
    return assemble_cases(*inputs)


def _cases_args(files, out, *extra):
    alerts, profiles = files
    return [
        "cases",
        "--alerts",
        str(alerts),
        "--profiles",
        str(profiles),
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


def test_every_alert_is_in_exactly_one_case(inputs, packages):
    alerts, _ = inputs
    owner: dict[str, str] = {}
    for package in packages:
        for header in package["alerts"]:
            assert header["alert_id"] not in owner, "an alert is in two cases"
            owner[header["alert_id"]] = package["case_id"]
    assert sorted(owner) == sorted({a.alert_id for a in alerts})
    assert len(packages) == len({a.customer_id for a in alerts})  # one case per subject
    links = [
        sum(len(s["link_reasons"]) for s in p["subjects"] if s["relation"] == "linked")
        for p in packages
    ]
    assert all(
        p["version"] == len(p["alerts"]) + n and p["status"] == "open"
        for p, n in zip(packages, links, strict=False)
    )
    assert any(links), "ring members' cases link each other"


def test_a_replayed_alert_adds_nothing(inputs, packages):
    alerts, profiles = inputs
    assembly = assemble([*alerts, *alerts], profiles)
    assert assembly.outcomes["duplicate"] == len(alerts)
    assert assembly.outcomes["opened"] == len(packages)
    again = list(offline_cases.packages(assembly, profiles))
    assert msgspec.json.encode(again) == msgspec.json.encode(packages)


def test_every_case_exports_validate_against_the_official_schemas(packages):
    report = validate_all(packages)
    assert report.ok, [f"{f.case_id} {f.format}: {f.message}" for f in report.failures]
    assert report.cases == len(packages)
    assert report.valid == {"fintrac": len(packages), "goaml": len(packages)}


def test_validation_lists_every_failure_and_goes_on(packages):
    first, second = (json.loads(msgspec.json.encode(p)) for p in packages[:2])
    txn = first["exports"]["fintrac_str"]["transactions"][0]
    txn["startingActions"][0]["details"]["amount"] = "12,5"
    second["exports"]["goaml_xml"] = second["exports"]["goaml_xml"].replace(
        "<report_code>STR</report_code>", "<report_code>XYZ</report_code>"
    )
    report = validate_all([first, second, *packages[2:]])
    assert not report.ok
    assert [(f.case_id, f.format) for f in report.failures] == [
        (first["case_id"], "fintrac"),
        (second["case_id"], "goaml"),
    ]
    assert "transactions/0/startingActions/0/details/amount" in report.failures[0].message
    assert "report_code" in report.failures[1].message
    n = len(packages)
    assert report.valid == {"fintrac": n - 1, "goaml": n - 1}
    assert (report.invalid("fintrac"), report.invalid("goaml")) == (1, 1)


def test_cli_writes_every_case_and_its_validated_exports(files, packages, tmp_path, capsys):
    out = tmp_path / "cases"
    assert main(_cases_args(files, out, "--validate")) == 0
    printed = capsys.readouterr().out
    assert f"→ {len(packages):,} cases for {len(packages):,} subjects" in printed
    assert f"{len(packages):>7,} valid, 0 invalid" in printed
    for package in packages:
        case_id = package["case_id"]
        written = msgspec.json.decode((out / f"{case_id}.package.json").read_bytes())
        assert written["case_id"] == case_id and written["version"] == package["version"]
        validate_fintrac(json.loads((out / f"{case_id}.fintrac.json").read_bytes()))
        validate_goaml((out / f"{case_id}.goaml.xml").read_bytes())
    summary = json.loads((out / "validation.json").read_text())
    assert summary["cases"] == len(packages) and summary["failures"] == []


def test_cli_reports_an_invalid_export_and_exits_non_zero(files, tmp_path, capsys, monkeypatch):
    real = offline_cases.package_for
    broken: list[str] = []

    def package_with_a_bad_goaml_report(entry, profiles):
        package = real(entry, profiles)
        if not broken:  # only the first case: the others must still be checked and written
            broken.append(package["case_id"])
            xml = package["exports"]["goaml_xml"]
            package["exports"]["goaml_xml"] = xml.replace("<rentity_id>", "<rentity_id>x", 1)
        return package

    monkeypatch.setattr(offline_cases, "package_for", package_with_a_bad_goaml_report)
    out = tmp_path / "cases"
    assert main(_cases_args(files, out, "--validate")) == 1
    case_id = broken[0]
    captured = capsys.readouterr()
    assert f"{case_id} goaml: goAML export fails its official schema" in captured.out + captured.err
    assert "goAML 5.0.1 exports" in captured.out and "1 invalid" in captured.out
    summary = json.loads((out / "validation.json").read_text())
    assert [(f["case_id"], f["format"]) for f in summary["failures"]] == [(case_id, "goaml")]
    assert summary["exports"]["goaml"]["invalid"] == 1
    assert (out / f"{case_id}.fintrac.json").exists()
    assert not (out / f"{case_id}.goaml.xml").exists()  # an invalid report is never written


def test_cli_without_validate_writes_the_carried_exports(files, packages, tmp_path, capsys):
    out = tmp_path / "cases"
    assert main(_cases_args(files, out)) == 0
    assert "not validated" in capsys.readouterr().out
    case_id = packages[0]["case_id"]
    fintrac = json.loads((out / f"{case_id}.fintrac.json").read_bytes())
    assert fintrac == packages[0]["exports"]["fintrac_str"]
    assert (out / f"{case_id}.goaml.xml").read_text() == packages[0]["exports"]["goaml_xml"]
    assert not (out / "validation.json").exists()
