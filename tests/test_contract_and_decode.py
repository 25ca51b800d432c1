"""The executable contract: schema files in step with the structs; decoding and dead letters."""

from __future__ import annotations

import json

import jsonschema
import msgspec
import pytest

import schemas
from engine.config import Secret, Settings
from engine.core.columnar import decode_transactions
from engine.core.decode import Message
from engine.errors import ConfigError
from indicators.examples import txn

GOOD = txn(
    1, "cash_deposit", 200.0, channel="atm", city="Toronto", province="ON", location_id="ATM-1"
)


@pytest.mark.parametrize("name", list(schemas.CONTRACT_TYPES))
def test_json_schema_files_match_the_structs(name):
    on_disk = json.loads(schemas.data_path(f"{name}.schema.json").read_text())
    assert on_disk == json.loads(json.dumps(schemas.json_schema(name))), "run `python -m schemas`"


def test_contract_rows_validate_against_the_published_json_schema():
    schema = json.loads(schemas.data_path("transaction.schema.json").read_text())
    jsonschema.validate(GOOD, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(dict(GOOD, amount="12,50"), schema)


def _decode(*values, key=b"C-EXAMPLE"):
    return decode_transactions(
        [Message("transactions", 3, i, key, v) for i, v in enumerate(values)]
    )


def test_fast_and_slow_paths_agree():
    rows = [dict(GOOD, txn_id=f"T{i}") for i in range(5)]
    fast = _decode(*[msgspec.json.encode(r) for r in rows])
    slow = _decode(*[msgspec.json.encode(r) for r in rows], b"[1, 2]")
    assert fast.rows == slow.rows and fast.frame.equals(slow.frame)
    assert fast.offsets.tolist() == slow.offsets.tolist() == [0, 1, 2, 3, 4]
    assert [d.reason_class for d in slow.dead] == ["invalid_type"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"amount": "12,50"},
            "amount: expected a finite number >= 0 (JSON number or decimal string",
        ),
        ({"amount": -1}, "amount: expected a finite number >= 0"),
        ({"amount": 1e400}, "amount: expected a finite number >= 0"),
        ({"txn_type": "teleport"}, "txn_type: expected one of purchase, refund"),
        ({"ts": "2026-03-14 23:41"}, "ts: "),
        (
            {"txn_id": "has space"},
            "txn_id: expected a string matching ^[A-Za-z0-9_-]+$, got 'has space'",
        ),
        ({"currency": "cad"}, "currency: expected a string matching"),
        ({"mcc": "54a1"}, "mcc: expected a string matching"),
    ],
)
def test_dead_letter_reasons_name_field_and_value(change, reason):
    decoded = _decode(msgspec.json.encode(dict(GOOD, **change)))
    assert not decoded.rows
    (letter,) = decoded.dead
    assert reason in letter.reason, letter.reason
    assert letter.partition == 3 and letter.offset == 0 and letter.source_topic == "transactions"


def test_lengths_are_counted_in_characters_not_bytes():
    """The fast path bounds lengths by bytes (conservative); a row over a limit in bytes but
    not in characters is decided by the per-row decoder and accepted as it should be."""
    at_limit = "é" * 200  # 200 characters, 400 bytes; the limit is 200 characters
    decoded = _decode(
        msgspec.json.encode(dict(GOOD, txn_id="T1", merchant_name=at_limit)),
        msgspec.json.encode(dict(GOOD, txn_id="T2", merchant_name=at_limit + "é")),
    )
    assert [r.merchant_name for r in decoded.rows] == [at_limit]
    assert decoded.frame["merchant_name"].to_list() == [at_limit]
    (letter,) = decoded.dead
    assert letter.offset == 1 and "merchant_name" in letter.reason


def test_missing_field_non_utf8_and_key_mismatch():
    row = {k: v for k, v in GOOD.items() if k != "customer_id"}
    decoded = _decode(
        msgspec.json.encode(row), b"\xff\xfe{", msgspec.json.encode(GOOD), key=b"C-EXAMPLE"
    )
    assert [d.reason_class for d in decoded.dead] == ["missing_field", "invalid_json"]
    assert decoded.dead[1].value_encoding == "base64"
    wrong_key = _decode(msgspec.json.encode(GOOD), key=b"someone-else")
    assert (
        wrong_key.dead[0].reason_class == "key_mismatch"
        and "customer_id" in wrong_key.dead[0].reason
    )


def test_settings_sources_and_errors(tmp_path):
    config = tmp_path / "protect.toml"
    config.write_text(
        "partitions = 6\n[constellation]\nscore_threshold = 9.5\n"
        "[indicators.PP-01]\nmin_payments = 4\n"
    )
    settings = Settings.load(config, env={"PROTECT_PARTITIONS": "8"}, web_port=7001)
    assert (settings.partitions, settings.web_port, settings.constellation.score_threshold) == (
        8,
        7001,
        9.5,
    )
    assert settings.resolved_params()["PP-01"]["min_payments"] == 4
    assert "hunter2" not in repr(Settings.build({"sasl_password": "hunter2"}))
    assert repr(Secret("hunter2")) == "Secret('**********')"
    for bad, message in [
        ({"partitions": 0}, "partitions: 0 is outside"),
        ({"bootstrap": "nohost"}, "bootstrap: expected HOST:PORT"),
        ({"constellation": {"min_familes": 2}}, "unknown key"),
        ({"disabled_indicators": ["PP-99"]}, "unknown id"),
        ({"bogus": 1}, "unknown setting"),
        ({"security_protocol": "SASL_SSL"}, "needs sasl_mechanism"),
    ]:
        with pytest.raises(ConfigError, match=message):
            Settings.build(bad).check_detection()
