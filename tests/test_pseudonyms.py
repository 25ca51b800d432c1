"""Keyed pseudonyms (issue #15 item 6): case ids and identifier digests are HMAC-SHA256
under ``pseudonym_key``, so an unkeyed dictionary of customer ids or phone numbers does not
name a case's subject or confirm a guessed identifier."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import pytest

from engine import pseudonyms
from engine.cases.disclosure import case_id_for
from engine.config import ConfigError, Settings
from engine.crosscustomer.identifiers import profile_observations
from engine.tools.cli import main
from schemas import Profile

KEY = "0123456789abcdef0123456789abcdef-pseudonyms"


def oracle_case_id(key: str, customer_id: str) -> str:
    """The case id as the docs define it, computed apart from the engine's code."""
    mac = hmac.new(key.encode(), b"case\0" + customer_id.encode(), hashlib.sha256)
    return "CASE-" + mac.hexdigest()[:16].upper()


@pytest.fixture(autouse=True)
def key_restored(monkeypatch):
    # the key is process-wide: whatever a test configures is undone after it
    monkeypatch.setattr(pseudonyms, "_key", pseudonyms.DEMO_KEY)


def profile(**fields) -> Profile:
    base = {"customer_id": "C000394", "phones": ["+1 416 555 0100"], "emails": ["a@b.example"]}
    return Profile(**(base | fields))  # type: ignore[arg-type]


def test_a_case_id_is_the_hmac_of_the_customer_under_the_key():
    pseudonyms.configure(KEY)
    assert case_id_for("C000394") == oracle_case_id(KEY, "C000394")
    assert case_id_for("C000394", 3) == oracle_case_id(KEY, "C000394") + "-3"
    # the unkeyed hash the engine used before does not name the case any more
    unkeyed = hashlib.blake2b(b"C000394", digest_size=8).hexdigest().upper()
    assert case_id_for("C000394") != f"CASE-{unkeyed}"


def test_another_key_gives_other_ids_and_digests_and_the_same_key_the_same():
    pseudonyms.configure(KEY)
    ids, digests = case_id_for("C000394"), profile_observations(profile())
    pseudonyms.configure(KEY.upper())
    assert case_id_for("C000394") != ids
    assert {k for k, _ in profile_observations(profile())}.isdisjoint(k for k, _ in digests)
    pseudonyms.configure(KEY)
    assert case_id_for("C000394") == ids and profile_observations(profile()) == digests


def test_identifier_digests_are_keyed_and_carry_no_identifier():
    pseudonyms.configure(KEY)
    observations = profile_observations(profile())
    assert {json.loads(v)["kind"] for _, v in observations} >= {"phone", "email"}
    for key, value in observations:
        text = key.decode() + value.decode()
        assert "555" not in text and "a@b.example" not in text
        kind, digest = key.decode().split(":")
        assert len(digest) == 24 and kind in ("phone", "email", "address")
    # a case id and a phone digest of the same string never coincide (purpose in the MAC)
    assert pseudonyms.keyed_hex("case", "4165550100", 8) != pseudonyms.keyed_hex(
        "phone", "4165550100", 8
    )


def test_without_a_key_the_public_demo_key_is_used_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="engine.pseudonyms"):
        pseudonyms.configure("")
    assert pseudonyms.uses_demo_key()
    assert "PUBLIC demo key" in caplog.text and "PROTECT_PSEUDONYM_KEY" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="engine.pseudonyms"):
        pseudonyms.configure(KEY)
    assert not pseudonyms.uses_demo_key() and not caplog.text


def test_a_short_key_is_refused_and_never_printed():
    with pytest.raises(ConfigError, match="pseudonym_key: use at least 32") as error:
        Settings.load(env={"PROTECT_PSEUDONYM_KEY": "short-secret"})
    assert "short-secret" not in str(error.value)
    settings = Settings.load(env={"PROTECT_PSEUDONYM_KEY": KEY})
    assert KEY not in repr(settings) and settings.pseudonym_key.reveal() == KEY


def test_protect_cases_keys_case_ids_and_writes_owner_only_files(
    tmp_path, monkeypatch, small_dataset
):
    """The offline tool keys case ids like the workers do: from PROTECT_PSEUDONYM_KEY."""
    alerts = tmp_path / "alerts.jsonl"
    assert main(
        ["backtest", "--transactions", str(small_dataset / "transactions.jsonl"), "--profiles",
         str(small_dataset / "profiles.jsonl"), "--out", str(alerts), "--quiet"]
    ) == 0  # fmt: skip
    customers = {json.loads(line)["customer_id"] for line in alerts.read_text().splitlines()}
    monkeypatch.setenv("PROTECT_PSEUDONYM_KEY", KEY)
    out = tmp_path / "cases"
    assert main(
        ["cases", "--alerts", str(alerts), "--profiles", str(small_dataset / "profiles.jsonl"),
         "--out", str(out), "--quiet"]
    ) == 0  # fmt: skip
    # alerts, packages and reports name customers: the owner's only, whatever the umask
    for path in (alerts, *out.iterdir()):
        assert path.stat().st_mode & 0o777 == 0o600, path.name
    written = {p.name.split(".")[0] for p in out.glob("*.package.json")}
    assert written and written <= {oracle_case_id(KEY, c) for c in customers} | {
        f"{oracle_case_id(KEY, c)}-{g}" for c in customers for g in range(1, 5)
    }
