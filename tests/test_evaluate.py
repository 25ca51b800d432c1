"""Detection-quality metrics on a small hand-made labels / alerts set with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.tools.cli import main
from engine.tools.evaluate import (
    AlertIndicatorLite,
    AlertLite,
    evaluate,
    implied_precision,
    read_alerts,
    read_labels,
)

LABELS = """customer_id,role,business_model,ring_id,first_activity,lookalike_type
C01,victim,short_stay_hotel,R001,2026-01-10,
C02,trafficker,short_stay_hotel,R001,2026-01-08,
C03,collector,short_stay_hotel,R001,2026-01-09,
C04,victim,private_residence,R002,2026-01-05,
C05,trafficker,private_residence,R002,2026-01-05,
C06,lookalike,,,,landlord
C07,lookalike,,,,landlord
C08,lookalike,,,,student
C09,background,,,,
C10,background,,,,
"""
FAMILY = {
    "PP-01": "ADV",
    "PP-04": "LODGE",
    "PP-12": "CASHGEO",
    "PP-13": "CASHGEO",
    "PP-16": "FUNNEL",
    "PP-17": "FUNNEL",
    "PP-30": "PROP",
}


def alert(customer: str, role: str, score: float, end: str, *ids: str) -> AlertLite:
    return AlertLite(
        customer,
        role,
        score,
        end,
        [AlertIndicatorLite(i, FAMILY[i]) for i in ids],
        sorted({FAMILY[i] for i in ids}),
    )


ALERTS = [
    alert("C01", "collector_nominee", 9.0, "2026-01-14T00:00:00Z", "PP-01", "PP-17"),
    alert(
        "C01", "possible_victim", 10.0, "2026-01-20T00:00:00Z", "PP-01", "PP-04"
    ),  # latest: right
    alert("C02", "suspected_trafficker", 8.0, "2026-01-18T00:00:00Z", "PP-16"),
    alert("C04", "collector_nominee", 12.0, "2026-01-07T12:00:00Z", "PP-17", "PP-13"),  # wrong role
    alert("C06", "suspected_trafficker", 7.0, "2026-01-20T00:00:00Z", "PP-16", "PP-30"),
    alert("C09", "possible_victim", 6.0, "2026-01-21T00:00:00Z", "PP-12", "PP-16"),
]


@pytest.fixture
def labels(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(LABELS)
    return read_labels(path)


@pytest.fixture
def report(labels):
    return evaluate(labels, ALERTS, days=30)


def test_customer_and_alert_level(report):
    assert report["population"] == {
        "customers": 10,
        "ring_members": 5,
        "outside_rings": 5,
        "rings": 2,
        "days": 30,
        "alerts": 6,
        "alerts_for_unlabelled_customers": 0,
    }
    c = report["customers"]
    assert (c["alerted"], c["ring_members_alerted"], c["falsely_alerted"]) == (5, 3, 2)
    assert c["recall"] == 0.6 and c["precision"] == 0.6 and c["false_positive_rate"] == 0.4
    a = report["alerts"]
    assert (a["total"], a["on_ring_members"], a["outside_rings"]) == (6, 4, 2)
    assert a["precision"] == round(4 / 6, 4)
    assert a["per_10k_customers"] == 6000.0
    assert a["falsely_alerted_customers_per_10k_outside"] == 4000.0
    assert a["false_alerts_per_10k_outside"] == 4000.0
    assert a["per_10k_customers_per_30_days"] == 6000.0


def test_rings_roles_and_models(report):
    rings = report["rings"]
    assert (rings["total"], rings["caught"], rings["recall"]) == (2, 2, 1.0)
    assert rings["mean_fraction_of_members_alerted"] == round((2 / 3 + 1 / 2) / 2, 4)
    assert rings["case_precision"] == 0.5  # 2 rings / (2 rings + 2 falsely alerted customers)
    assert {r["ring_id"]: r["alerted"] for r in rings["by_ring"]} == {"R001": 2, "R002": 1}
    by_role = report["recall_by_role"]
    assert {k: v["recall"] for k, v in by_role.items()} == {
        "victim": 1.0,
        "trafficker": 0.5,
        "collector": 0.0,
    }
    by_model = report["recall_by_business_model"]
    assert by_model["short_stay_hotel"]["recall"] == round(2 / 3, 4)
    assert by_model["private_residence"]["recall"] == 0.5


def test_false_positives_by_lookalike_type(report):
    fp = report["false_positives_by_lookalike_type"]
    assert list(fp) == ["landlord", "student", "ordinary"]
    assert fp["landlord"] == {"customers": 2, "falsely_alerted": 1, "rate": 0.5, "per_10k": 5000.0}
    assert fp["student"]["falsely_alerted"] == 0 and fp["student"]["rate"] == 0.0
    assert fp["ordinary"]["falsely_alerted"] == 1


def test_detection_delay_uses_the_first_alert(report):
    delay = report["detection_delay_days"]
    # C01: 14th - 10th = 4 days; C02: 18th - 8th = 10; C04: 7th 12:00 - 5th = 2.5
    assert delay["n"] == 3 and delay["median"] == 4.0
    assert delay["by_role"]["victim"]["median"] == 3.2  # (4 + 2.5) / 2, one decimal
    assert delay["by_role"]["trafficker"]["median"] == 10.0


def test_indicator_hits_and_precision(report):
    rows = {r["id"]: r for r in report["indicators"]}
    assert rows["PP-16"] == {
        "id": "PP-16",
        "family": "FUNNEL",
        "alerts": 3,
        "customers": 3,
        "ring_members": 1,
        "others": 2,
        "precision": round(1 / 3, 4),
    }
    assert (rows["PP-01"]["alerts"], rows["PP-01"]["customers"], rows["PP-01"]["precision"]) == (
        2,
        1,
        1.0,
    )
    assert (rows["PP-17"]["customers"], rows["PP-17"]["precision"]) == (2, 1.0)
    assert rows["PP-30"]["precision"] == 0.0


def test_role_accuracy_uses_each_members_latest_alert(report):
    roles = report["roles"]
    assert (roles["members_found"], roles["right"], roles["accuracy"]) == (3, 2, round(2 / 3, 4))
    assert roles["confusion"]["victim"] == {"possible_victim": 1, "collector_nominee": 1}
    assert roles["by_role"]["trafficker"]["accuracy"] == 1.0
    assert roles["outside_rings"] == {"suspected_trafficker": 1, "possible_victim": 1}


def test_precision_at_a_realistic_prevalence(report):
    pi = 1 / 2000
    expected = 0.6 * pi / (0.6 * pi + 0.4 * (1 - pi))
    assert report["prevalence"]["precision_implied"] == round(expected, 4)
    assert implied_precision(1.0, 0.0) == 1.0
    assert implied_precision(None, 0.1) is None
    assert report["prevalence"]["in_this_data"] == 0.5


def test_threshold_curve_rescoring(report):
    curve = {p["threshold"]: p for p in report["threshold_curve"]}
    assert sorted(curve) == [6.0, 7.0, 8.0, 10.0, 12.0]
    assert (curve[6.0]["alerted"], curve[6.0]["recall"], curve[6.0]["precision"]) == (5, 0.6, 0.6)
    assert (curve[8.0]["alerted"], curve[8.0]["others"], curve[8.0]["precision"]) == (3, 0, 1.0)
    assert curve[10.0]["recall"] == 0.4 and curve[12.0]["recall"] == 0.2


def test_quality_bars(report):
    bars = report["quality_bars"]
    assert bars["recall"]["met"] is False and bars["falsely_alerted_per_10k"]["met"] is False
    assert bars["role_accuracy"]["measured"] == round(2 / 3, 4)


def test_cli_reads_contract_alerts_and_writes_json_and_html(tmp_path, labels, capsys):
    (tmp_path / "labels.csv").write_text(LABELS)
    lines = []
    for a in ALERTS:  # full CONTRACT §4 shape: evaluation reads what it needs, skips the rest
        lines.append(
            json.dumps(
                {
                    "alert_id": f"ALR-{len(lines)}",
                    "customer_id": a.customer_id,
                    "role_hypothesis": a.role_hypothesis,
                    "score": a.score,
                    "families": a.families,
                    "indicators": [
                        {
                            "id": i.id,
                            "title": "t",
                            "family": i.family,
                            "sources": ["FINTRAC-2016-OA003 P1"],
                            "observed": 1.0,
                            "threshold": 1.0,
                            "window": "30d",
                            "evidence_txn_ids": ["T1"],
                        }
                        for i in a.indicators
                    ],
                    "window_start": a.window_end,
                    "window_end": a.window_end,
                    "created_at": "2026-02-01T00:00:00Z",
                    "ppp_code": "PROTECT",
                    "engine_version": "0.1.0",
                    "config_hash": "x",
                    "trigger_txn_id": "T1",
                    "trigger": "3 families",
                    "transactions": [],
                }
            )
        )
    (tmp_path / "alerts.jsonl").write_text("\n".join(lines) + "\n")
    assert len(read_alerts(tmp_path / "alerts.jsonl")) == 6
    out = tmp_path / "report"
    assert (
        main(
            [
                "evaluate",
                "--labels",
                str(tmp_path / "labels.csv"),
                "--alerts",
                str(tmp_path / "alerts.jsonl"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "customer recall" in text and "60.0%" in text and "landlord" in text
    saved = json.loads((out / "evaluation.json").read_text())
    assert saved["customers"]["recall"] == 0.6
    page = (out / "evaluation.html").read_text()
    assert (
        page.count("<svg") >= 4
        and "<script" not in page
        and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    )


def test_bad_alert_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "alerts.jsonl"
    path.write_text('{"customer_id": "C1"}\n')
    with pytest.raises(Exception, match=r"alerts.jsonl:1"):
        read_alerts(path)


def test_labels_need_customer_and_role(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("id,kind\nC1,victim\n")
    with pytest.raises(Exception, match="customer_id"):
        read_labels(Path(path))
