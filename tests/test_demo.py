"""`protect demo` end to end: its own embedded broker, generator, worker process and summary."""

from __future__ import annotations

import json

import jsonschema
import pytest

import schemas
from engine.tools.cli import main

pytestmark = pytest.mark.integration


def test_demo_runs_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    assert (
        main(["demo", "--customers", "500", "--days", "20", "--seed", "3", "--out", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    lines = (out / "data" / "transactions.jsonl").read_bytes().count(b"\n")
    assert summary["transactions_processed"] == lines
    assert summary["dead_letters"] == 0
    assert summary["alerts"] > 0 and summary["ring_members_alerted"] > 0
    alerts = [json.loads(line) for line in (out / "alerts.jsonl").read_text().splitlines()]
    assert len(alerts) == summary["alerts"]
    schema = json.loads(schemas.data_path("alert.schema.json").read_text())
    for alert in alerts:
        jsonschema.validate(alert, schema)
        assert alert["ppp_code"] == "PROTECT"
        assert all(
            ind["evidence_txn_ids"] for ind in alert["indicators"] if ind["id"].startswith("PP-")
        )
    assert "ring members alerted" in printed and str(out / "alerts.jsonl") in printed
