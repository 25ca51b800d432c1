"""A real Prometheus scraping a real worker: every PromQL expression of the Grafana
dashboard and of the alerting rules returns data.

Setup: the embedded broker (session fixture), unique topics, a small generated population
(300 customers x 15 days, about 8,700 transactions with planted rings, so alerts exist)
and a few invalid messages (so dead-letter series exist). Prometheus (Debian's
``/usr/bin/prometheus``, a temporary data directory) scrapes the worker every second and
evaluates ``deploy/prometheus/alerts.yml`` every second. The input goes in two halves: the
second is produced only after Prometheus has scraped the first, so every counter rises
between two scrapes and rates and quantiles have something to show.

What is asserted, through the HTTP API (``/api/v1/query``, instant queries):

* every dashboard target (Grafana's ``$__rate_interval`` / ``$__range`` replaced by a
  window covering the whole run, the worker selector by "any worker") and the metric of
  every ``label_values`` variable returns at least one sample with a finite value;
* every recording rule's expression returns data, and so does its recorded series (so the
  rule engine evaluated it, chained rules included);
* every alert expression evaluates without error; alert conditions return nothing while
  the system is healthy, which would prove nothing, so the rules are written as
  comparisons of recorded signals with thresholds joined by ``and`` (test_deploy.py checks
  that shape) and each comparison is evaluated with the ``bool`` modifier: the same
  expression, threshold included, returning 0 or 1 for every series it sees instead of
  dropping the false ones. Non-empty means the alert sees real series and would fire if
  the comparison held; promtool's rule unit tests (deploy/prometheus/alerts_test*.yml)
  show that it does fire when it should;
* Prometheus reports the scrape target up and every rule healthy (no evaluation error).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
import uuid

import pytest
import yaml

from engine.config import Settings
from engine.stream.broker import free_port, wait_for_port
from engine.tools.demo import metric_sum, scrape, start_worker, stop_worker, wait_until_consumed
from engine.tools.produce import produce_files
from tests.promql import (
    RULES,
    dashboard_expressions,
    load_dashboard,
    load_rules,
    split_top_level,
    substitute,
    with_bool,
)

pytestmark = pytest.mark.integration

PROMETHEUS = shutil.which("prometheus")
if PROMETHEUS is None and os.environ.get("CI"):
    raise RuntimeError(
        "prometheus is missing on CI: .ci/run installs Debian's `prometheus` package"
    )
WINDOW = "5m"  # longer than the whole test: rates and increases see every event
INVALID = [
    b'{"txn_id": "T-bad-1", "re_id": "RE1", "ts": "2026-03-14T23:41:07-05:00", '
    b'"customer_id": "C-bad", "account_id": "A1", "txn_type": "cash_deposit", "channel": "atm", '
    b'"amount": "12,50", "currency": "CAD"}',
    b'{"txn_id": "T-bad-2", "customer_id": "C-bad", "amount": 5}',
    b"{not json at all",
]


def query(port: int, expr: str) -> list[dict]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 400 / 422: a bad expression
        raise AssertionError(f"{expr!r}: {exc.read().decode()}") from None
    assert body["status"] == "success", (expr, body)
    result = body["data"]["result"]
    return result if isinstance(result, list) else [{"value": result}]


def api(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/{path}", timeout=10) as response:
        return json.loads(response.read())["data"]


def finite(result: list[dict]) -> bool:
    return any(math.isfinite(float(sample["value"][1])) for sample in result)


def eventually(check, timeout: float, interval: float = 0.5):
    """Call ``check`` until it returns a truthy value or ``timeout`` passes; returns the
    last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def produce(settings: Settings, *paths) -> int:
    return sum(asyncio.run(produce_files(settings, list(paths), progress=False)).values())


@pytest.fixture(scope="module")
def prometheus(bootstrap, tmp_path_factory):
    """A worker fed with generated data and invalid messages, scraped by a real Prometheus
    that loads the rules file; yields Prometheus' port once everything is scraped."""
    if PROMETHEUS is None:
        pytest.skip("prometheus not installed (Debian package `prometheus`; .ci/run installs it)")
    from engine.synthetic import generate

    tmp = tmp_path_factory.mktemp("prometheus")
    data = tmp / "data"
    generate(data, customers=300, days=15, seed=3, progress=False)
    lines = (data / "transactions.jsonl").read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    (tmp / "transactions-1.jsonl").write_bytes(b"".join(lines[:half]))
    (tmp / "transactions-2.jsonl").write_bytes(b"".join(lines[half:]) + b"\n".join(INVALID) + b"\n")

    tag = uuid.uuid4().hex[:8]
    names = ("transactions", "profiles", "reference", "alerts", "dead-letters")
    topics = dict(
        zip(
            (
                "transactions_topic",
                "profiles_topic",
                "reference_topic",
                "alerts_topic",
                "dead_letter_topic",
            ),
            (f"{n}-{tag}" for n in names),
            strict=True,
        )
    )
    settings = Settings.build(
        {
            "bootstrap": bootstrap,
            **topics,
            "group_id": f"protect-{tag}",
            "partitions": 2,
            "session_timeout_ms": 6000,
            "checkpoint_interval_s": 1.0,
        }
    )
    env = {
        f"PROTECT_{k.upper()}": str(getattr(settings, k))
        for k in (*topics, "group_id", "partitions", "session_timeout_ms", "checkpoint_interval_s")
    }

    web_port, prom_port = free_port(), free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {
                "job_name": "protect-engine",
                "static_configs": [{"targets": [f"127.0.0.1:{web_port}"]}],
            }
        ],
    }
    (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
    first = produce(settings, data / "profiles.jsonl", tmp / "transactions-1.jsonl")
    with open(tmp / "prometheus.log", "wb") as log:
        server = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={tmp / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = None
    try:
        wait_for_port(prom_port, timeout=30)
        worker = start_worker(bootstrap, web_port, tmp / "state", tmp / "worker.log", env)
        wait_until_consumed(web_port, first, worker, timeout=180, progress=False)
        # The second half only once Prometheus has scraped the first.
        assert eventually(
            lambda: finite(query(prom_port, f"sum(protect_input_messages_total) >= {first}")), 30
        ), (tmp / "prometheus.log").read_text()[-3000:]
        total = first + produce(settings, tmp / "transactions-2.jsonl")
        samples, _ = wait_until_consumed(web_port, total, worker, timeout=120, progress=False)
        assert metric_sum(scrape(web_port), "protect_dead_letters") == len(INVALID)
        assert metric_sum(samples, "protect_alerts") > 0, "the dataset should raise alerts"
        assert eventually(
            lambda: query(prom_port, f"sum(protect_input_messages_total) >= {total}"), 30
        )
        time.sleep(3)  # a checkpoint (1 s), a few scrapes and rule evaluations after the last batch
        yield prom_port
    finally:
        if worker is not None:
            code = stop_worker(worker)
            assert code == 0, (tmp / "worker.log").read_text()[-3000:]
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=10)
        if server.poll() is None:
            server.kill()


def test_the_worker_is_scraped_and_every_rule_evaluates_cleanly(prometheus):
    (target,) = api(prometheus, "targets")["activeTargets"]
    assert target["health"] == "up" and not target["lastError"], target
    rules = [rule for group in api(prometheus, "rules")["groups"] for rule in group["rules"]]
    assert len(rules) == len(load_rules())
    for rule in rules:
        assert rule["health"] == "ok" and not rule.get("lastError"), rule


def test_every_dashboard_expression_returns_data(prometheus):
    empty = [
        (where, expr)
        for where, expr in dashboard_expressions(load_dashboard())
        if not finite(query(prometheus, substitute(expr, WINDOW)))
    ]
    assert not empty, "no finite data for:\n" + "\n".join(f"  {w}: {e}" for w, e in empty)


def test_every_recording_rule_returns_data(prometheus):
    empty = []
    for rule in load_rules():
        if "record" in rule:
            for expr in (rule["expr"], rule["record"]):
                if not finite(query(prometheus, expr)):
                    empty.append((rule["record"], expr))
    assert not empty, "no finite data for:\n" + "\n".join(f"  {w}: {e}" for w, e in empty)


def test_every_alert_condition_sees_real_series(prometheus):
    empty = []
    for rule in load_rules():
        if "alert" not in rule:
            continue
        query(prometheus, rule["expr"])  # the expression itself evaluates (empty while healthy)
        for clause in split_top_level(rule["expr"]):
            result = query(prometheus, with_bool(clause))
            if not result:
                empty.append((rule["alert"], with_bool(clause)))
            else:
                assert {s["value"][1] for s in result} <= {"0", "1"}, (clause, result)
    assert not empty, "no series for:\n" + "\n".join(f"  {w}: {e}" for w, e in empty)


def test_first_events_of_a_series_are_counted(prometheus):
    """Counter series exist at 0 before their first event (engine/metrics.py), so the first
    dead letters and the first alert of a family show up in increase() and rate()."""
    for metric in ("protect_dead_letters_total", "protect_alert_families_total"):
        expr = f"sum(increase({metric}[{WINDOW}]))"
        (sample,) = query(prometheus, expr)
        assert float(sample["value"][1]) > 0, expr
