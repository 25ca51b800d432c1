"""Against the real embedded broker: produce → alerts; bad input → dead letters; restart."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time

import msgspec
import pytest

from engine.stream.broker import free_port
from engine.tools.backtest import backtest
from engine.tools.demo import (
    metric_sum,
    read_topic,
    scrape,
    start_worker,
    stop_worker,
    wait_until_consumed,
    wait_until_healthy,
)
from engine.tools.produce import produce_files
from tests.helpers import comparable, wait_for

pytestmark = pytest.mark.integration


def worker_env(settings) -> dict[str, str]:
    keys = (
        "transactions_topic",
        "profiles_topic",
        "reference_topic",
        "alerts_topic",
        "dead_letter_topic",
        "identifiers_topic",
        "findings_topic",
        "party_signals_topic",
        "disclosures_topic",
        "dispositions_topic",
        "cross_customer",
        "group_id",
        "partitions",
        "session_timeout_ms",
        "checkpoint_interval_s",
    )
    return {f"PROTECT_{k.upper()}": str(getattr(settings, k)) for k in keys}


def produce(settings, *paths):
    return sum(asyncio.run(produce_files(settings, list(paths), progress=False)).values())


def run_worker_until(
    settings,
    tmp_path,
    expected: int,
    name: str = "worker",
    dead_letters: int = 0,
    extra_env: dict[str, str] | None = None,
):
    """Run a worker until it consumed ``expected`` input messages and counted
    ``dead_letters`` (the whole-topic feeds letter on their own schedule), then stop it."""
    port = free_port()
    env = worker_env(settings) | (extra_env or {})
    worker = start_worker(
        settings.bootstrap, port, tmp_path / "state", tmp_path / f"{name}.log", env
    )
    try:
        samples, _ = wait_until_consumed(port, expected, worker, timeout=300, progress=False)
        wait_for(
            lambda: metric_sum(scrape(port), "protect_dead_letters") >= dead_letters,
            what=f"{dead_letters} dead letters",
        )
        samples = scrape(port)
    finally:
        code = stop_worker(worker)
    assert code == 0, (tmp_path / f"{name}.log").read_text()[-3000:]
    return samples


def test_stream_alerts_equal_backtest_and_restart_resumes(topics, small_dataset, tmp_path):
    """Produce a generated population; the worker's alerts equal the backtest's. Then stop the
    worker, produce more, restart it: it resumes from its checkpoint, loses nothing and
    repeats no alert."""
    settings = topics
    txns = small_dataset / "transactions.jsonl"
    lines = txns.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    first, second = tmp_path / "transactions-a.jsonl", tmp_path / "transactions-b.jsonl"
    first.write_bytes(b"".join(lines[:half]))
    second.write_bytes(b"".join(lines[half:]))

    n1 = produce(settings, small_dataset / "profiles.jsonl", first)
    samples1 = run_worker_until(settings, tmp_path, n1, "worker-1")
    n2 = produce(settings, second)
    samples2 = run_worker_until(settings, tmp_path, n2, "worker-2")  # counters restart at 0

    assert metric_sum(samples1, "protect_transactions_processed") + metric_sum(
        samples2, "protect_transactions_processed"
    ) == len(lines)
    n_alerts = int(metric_sum(samples1, "protect_alerts") + metric_sum(samples2, "protect_alerts"))
    assert n_alerts > 0
    values = asyncio.run(
        read_topic(settings.bootstrap, settings.alerts_topic, n_alerts + 1, timeout=10)
    )
    assert len(values) == n_alerts
    streamed = [msgspec.json.decode(v) for v in values]
    ids = [a["alert_id"] for a in streamed]
    assert len(ids) == len(set(ids)), "an alert was published twice across the restart"

    expected, _ = backtest(txns, small_dataset / "profiles.jsonl", settings, chunk=997)
    assert sorted(ids) == sorted(a.alert_id for a in expected.alerts)
    by_id = {a["alert_id"]: a for a in streamed}
    for alert in comparable(expected.alerts):
        got = dict(by_id[alert["alert_id"]])
        got.pop("created_at")
        assert got == alert


def test_bad_messages_go_to_dead_letters_with_reasons(topics, tmp_path):
    settings = topics
    good = {
        "txn_id": "T1", "re_id": "RE1", "ts": "2026-03-14T23:41:07-05:00", "customer_id": "C1",
        "account_id": "A1", "txn_type": "cash_deposit", "channel": "atm", "amount": 200,
        "currency": "CAD",
    }  # fmt: skip
    bad = [
        (dict(good, txn_id="T2", amount="12,50"), "amount"),
        (
            {k: v for k, v in good.items() if k != "ts"} | {"txn_id": "T3"},
            "missing required field `ts`",
        ),
        (dict(good, txn_id="T4", txn_type="teleport"), "txn_type: expected one of"),
        (dict(good, txn_id="T5", ts="2026-03-14T23:41:07"), "timezone"),
    ]
    path = tmp_path / "transactions.jsonl"
    with open(path, "wb") as handle:
        handle.write(json.dumps(good).encode() + b"\n")
        for row, _ in bad:
            handle.write(json.dumps(row).encode() + b"\n")
        handle.write(b"{not json at all\n")
    sent = produce(settings, path)
    samples = run_worker_until(settings, tmp_path, sent)
    assert metric_sum(samples, "protect_transactions_processed") == 1
    letters = [
        json.loads(v)
        for v in asyncio.run(read_topic(settings.bootstrap, settings.dead_letter_topic, 5))
    ]
    assert len(letters) == 5
    reasons = sorted(letter["reason"] for letter in letters)
    for _, expected in bad:
        assert any(expected in r for r in reasons), (expected, reasons)
    assert any(letter["reason_class"] == "invalid_json" for letter in letters)
    for letter in letters:
        assert letter["source_topic"] == settings.transactions_topic and letter["offset"] >= 0
        assert letter["value"] and letter["value_encoding"] == "utf-8"


def test_worker_serves_health_and_metrics(topics, tmp_path):
    import urllib.request

    settings = topics
    port = free_port()
    worker = start_worker(
        settings.bootstrap, port, tmp_path / "state", tmp_path / "w.log", worker_env(settings)
    )
    try:
        health = wait_until_healthy(port, worker)
        deadline = time.monotonic() + 30
        while sorted(health["partitions"]) != [0, 1] and time.monotonic() < deadline:
            time.sleep(0.5)  # "ok" comes with the first assignment; the group may still settle
            health = wait_until_healthy(port, worker)
        assert health["status"] == "ok" and sorted(health["partitions"]) == [0, 1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
        assert "# TYPE protect_batch_seconds histogram" in text
        label_names = set(re.findall(r'[{,]([a-z_]+)="', text))
        assert label_names <= {
            "topic",
            "partition",
            "reason_class",
            "role",
            "indicator",
            "family",
            "le",
            "status",
            "result",
            "action",
            "outcome",
            "stage",
        }
    finally:
        assert stop_worker(worker) == 0
    shutil.rmtree(tmp_path / "state", ignore_errors=True)


def test_reference_list_update_applies_while_running(topics, tmp_path):
    """A list replaced on the `reference` topic is used from the next batch, and shows in
    config_hash; a bad reference message becomes a dead letter."""
    import time
    import urllib.request

    from aiokafka import AIOKafkaProducer

    from engine.stream.kafka import ensure_topics

    settings = topics
    port = free_port()
    worker = start_worker(
        settings.bootstrap, port, tmp_path / "state", tmp_path / "w.log", worker_env(settings)
    )
    try:
        before = wait_until_healthy(port, worker)["config_hash"]

        async def send(topic, items):
            await ensure_topics(settings)
            producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap)
            await producer.start()
            for key, value in items:
                await producer.send_and_wait(topic, value, key=key)
            await producer.stop()

        update = {"match": "merchant_name", "terms": ["MOONLIGHT COMPANIONS"]}
        asyncio.run(
            send(
                settings.reference_topic,
                [
                    (b"escort_ad_platforms", json.dumps(update).encode()),
                    (b"no_such_list", b'{"terms": []}'),
                ],
            )
        )
        deadline = time.monotonic() + 30
        after = before
        while after == before and time.monotonic() < deadline:
            time.sleep(0.5)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                after = json.loads(response.read())["config_hash"]
        assert after != before, "the reference update never reached the detector"

        rows = [
            {
                "txn_id": f"T{i}",
                "re_id": "RE1",
                "ts": f"2026-03-0{i + 1}T12:00:00-05:00",
                "customer_id": "C1",
                "account_id": "A1",
                "txn_type": "purchase",
                "channel": "ecom",
                "amount": 12.0 * (i + 1),
                "currency": "CAD",
                "merchant_name": "MOONLIGHT COMPANIONS",
                "mcc": "7311",
            }
            for i in range(3)
        ]
        asyncio.run(
            send(settings.transactions_topic, [(b"C1", json.dumps(r).encode()) for r in rows])
        )
        samples, _ = wait_until_consumed(port, 3, worker, timeout=60, progress=False)
        assert metric_sum(samples, "protect_indicator_fires") >= 1
        letters = [
            json.loads(v)
            for v in asyncio.run(read_topic(settings.bootstrap, settings.dead_letter_topic, 1))
        ]
        assert letters and "unknown list 'no_such_list'" in letters[0]["reason"]
    finally:
        assert stop_worker(worker) == 0


def test_shared_identifiers_are_found_across_customers(topics, tmp_path):
    """Three customers give the same phone: the second stage (a Faust agent keyed by the
    identifier) finds it and feeds PP-19 back into each holder's state, where it counts as
    a family in that customer's next alert."""
    import dataclasses

    settings = dataclasses.replace(topics, cross_customer=True)
    profiles = tmp_path / "profiles.jsonl"
    profiles.write_text(
        "".join(
            json.dumps(
                {
                    "customer_id": f"C{i}",
                    "phones": ["+1-416-555-0142"],
                    "emails": [f"p{i}@example.com"],
                }
            )
            + "\n"
            for i in range(3)
        )
    )
    ad = {
        "re_id": "RE1",
        "customer_id": "C0",
        "account_id": "A0",
        "txn_type": "purchase",
        "channel": "ecom",
        "currency": "CAD",
        "merchant_name": "LEOLIST.CC",
        "mcc": "7311",
    }
    cash = {
        "re_id": "RE1",
        "customer_id": "C0",
        "account_id": "A0",
        "txn_type": "cash_deposit",
        "channel": "atm",
        "currency": "CAD",
        "amount": 300,
        "city": "Toronto",
        "province": "ON",
    }
    rows = [
        dict(ad, txn_id=f"AD{i}", ts=f"2026-03-0{i + 1}T12:00:00-05:00", amount=12.0 * (i + 1))
        for i in range(3)
    ]
    rows += [
        dict(cash, txn_id=f"CA{i}", ts=f"2026-03-0{i + 4}T23:30:00-05:00", location_id=f"ATM{i}")
        for i in range(4)
    ]
    transactions = tmp_path / "transactions.jsonl"
    transactions.write_text("".join(json.dumps(r) + "\n" for r in rows))

    port = free_port()
    worker = start_worker(
        settings.bootstrap, port, tmp_path / "state", tmp_path / "w.log", worker_env(settings)
    )
    try:
        wait_until_healthy(port, worker)
        produce(settings, profiles)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            samples = scrape(port)
            if (
                metric_sum(
                    {k: v for k, v in samples.items() if "findings" in k[1]},
                    "protect_input_messages",
                )
                >= 3
            ):
                break
            time.sleep(0.5)
        else:
            raise AssertionError("no findings came back from the identifier index")
        produce(settings, transactions)
        samples, _ = wait_until_consumed(
            port, 3 + 3 + len(rows), worker, timeout=60, progress=False
        )
        n_alerts = int(metric_sum(samples, "protect_alerts"))
    finally:
        assert stop_worker(worker) == 0
    alerts = [
        json.loads(v)
        for v in asyncio.run(read_topic(settings.bootstrap, settings.alerts_topic, n_alerts))
    ]
    assert alerts and alerts[0]["customer_id"] == "C0"
    assert "PP-19" in {i["id"] for a in alerts for i in a["indicators"]}


def test_funding_by_a_flagged_customer_is_found_across_partitions(topics, tmp_path):
    """PP-22 end to end: the funder's escort-ad payments fire an ADV rule in the funder's
    partition; the signal goes round the party-signals topic into every worker's party index;
    the funded customer's later credits from the funder's e-mail then fire PP-22."""
    import dataclasses

    settings = dataclasses.replace(topics, cross_customer=True)
    profiles = tmp_path / "profiles.jsonl"
    profiles.write_text(
        "".join(
            json.dumps(p) + "\n"
            for p in (
                {"customer_id": "FUNDER", "emails": ["Ash@Example.com"]},
                {"customer_id": "FUNDED", "emails": ["bee@example.com"]},
            )
        )
    )
    base = {"re_id": "RE1", "currency": "CAD"}
    ads = [
        dict(
            base,
            txn_id=f"AD{i}",
            customer_id="FUNDER",
            account_id="AF",
            txn_type="purchase",
            channel="ecom",
            merchant_name="LEOLIST.CC",
            mcc="7311",
            amount=12.0 * (i + 1),
            ts=f"2026-03-0{i + 1}T12:00:00-05:00",
        )
        for i in range(3)
    ]
    credits = [
        dict(
            base,
            txn_id=f"CR{i}",
            customer_id="FUNDED",
            account_id="AV",
            txn_type="emt_in",
            channel="online",
            amount=400.0,
            counterparty_id="cp-ash",
            counterparty_email="ash@example.com",
            ts=f"2026-03-{10 + 5 * i}T12:00:00-05:00",
        )
        for i in range(3)
    ]
    first, second = tmp_path / "transactions-funder.jsonl", tmp_path / "transactions-funded.jsonl"
    first.write_text("".join(json.dumps(r) + "\n" for r in ads))
    second.write_text("".join(json.dumps(r) + "\n" for r in credits))

    port = free_port()
    worker = start_worker(
        settings.bootstrap, port, tmp_path / "state", tmp_path / "w.log", worker_env(settings)
    )
    try:
        wait_until_healthy(port, worker)
        produce(settings, profiles, first)
        # the funder is known under three keys (customer id, account, profile e-mail) once the
        # signal has gone round the topic into this worker's index
        deadline = time.monotonic() + 60
        while metric_sum(scrape(port), "protect_party_index_keys") < 3:
            assert time.monotonic() < deadline, "the funder's signal never reached the index"
            time.sleep(0.3)
        produce(settings, second)
        samples, _ = wait_until_consumed(
            port, 2 + len(ads) + len(credits), worker, timeout=60, progress=False
        )
    finally:
        assert stop_worker(worker) == 0
    pp22 = sum(
        v
        for (name, labels), v in samples.items()
        if name == "protect_indicator_fires" and 'indicator="PP-22"' in labels
    )
    assert pp22 >= 1, (tmp_path / "w.log").read_text()[-3000:]
