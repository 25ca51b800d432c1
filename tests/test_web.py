"""The analyst web view on a real worker (embedded broker), looked at in headless Chromium.

A generated population goes through the engine; every alert must end in exactly one case;
the queue and a case page load in Chromium with the token (graph and timeline drawn as
SVG), requests without the token are refused, the exports download and validate, a
disposition from the form updates the case and the metrics, and `protect export` writes
the same validated report from the `disclosures` topic. A restart recovers the cases from
the changelog and adds none.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import msgspec
import pytest

from engine.cases.disclosure import validate_fintrac, validate_goaml
from engine.stream.broker import free_port
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
from tests.conftest import PACKAGE_KEY
from tests.test_integration import worker_env

pytestmark = pytest.mark.integration
TOKEN = "test-analyst-token-0123456789abcdef"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def get(port, path, token=TOKEN, data=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def chromium(url: str, tmp_path: Path, *, screenshot: Path | None = None) -> str:
    profile = tmp_path / f"chromium-{time.monotonic_ns()}"
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1200,1900",
    ]
    args += [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
    done = subprocess.run([*args, url], capture_output=True, timeout=120, text=True)
    shutil.rmtree(profile, ignore_errors=True)
    return done.stdout


def wait_for(predicate, timeout=90.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_analyst_works_cases_in_the_browser(topics, small_dataset, tmp_path):
    settings = dataclasses.replace(topics, case_republish_s=3600.0)
    view = free_port()  # the analyst view's own port
    env = worker_env(settings) | {
        "PROTECT_ANALYST_TOKEN": TOKEN,
        "PROTECT_PACKAGE_KEY": PACKAGE_KEY,
        "PROTECT_CASE_REPUBLISH_S": "3600",
        "PROTECT_ANALYST_PORT": str(view),
    }
    sent = sum(
        asyncio.run(
            produce_files(
                settings,
                [small_dataset / "profiles.jsonl", small_dataset / "transactions.jsonl"],
                progress=False,
            )
        ).values()
    )
    port = free_port()
    log = tmp_path / "worker.log"
    worker = start_worker(settings.bootstrap, port, tmp_path / "state", log, env)
    try:
        wait_until_consumed(port, sent, worker, timeout=300, progress=False)
        n_alerts = int(metric_sum(scrape(port), "protect_alerts"))
        assert n_alerts > 0
        alerts = [
            msgspec.json.decode(v)
            for v in asyncio.run(
                read_topic(settings.bootstrap, settings.alerts_topic, n_alerts, timeout=20)
            )
        ]
        subjects = {a["customer_id"] for a in alerts}

        def handled():
            samples = scrape(port)
            return (
                metric_sum(
                    {k: v for k, v in samples.items() if k[0] == "protect_case_updates"},
                    "protect_case_updates",
                )
                >= n_alerts
                and samples
            )

        samples = wait_for(handled, what="every alert to reach case assembly")
        # every alert ends in exactly one case: one opened per subject, the rest joined
        assert samples[("protect_case_updates", 'result="opened"')] == len(subjects)
        assert samples[("protect_case_updates", 'result="joined"')] == n_alerts - len(subjects)
        assert samples[("protect_cases", 'status="open"')] == len(subjects)

        # Faust's table endpoint is not served (it returned whole cases without a token)
        assert get(port, f"/table/protect-cases/{sorted(subjects)[0]}/", token=None)[0] == 404
        assert get(port, "/cases")[0] == 404  # the view is on its own port only
        # no token: refused, and no case data in the answer
        for path in (
            "/cases",
            "/cases/CASE-X",
            "/cases/CASE-X/export?format=goaml",
            "/login?token=wrong",
        ):
            status, _, body = get(view, path, token=None)
            assert status == 401, path
            assert b"CASE-" not in body.replace(b"CASE-X", b"")
        assert get(view, "/cases", token="not-the-token-at-all-000")[0] == 401

        status, headers, body = get(view, "/cases")
        assert status == 200 and "script-src" not in headers["Content-Security-Policy"]
        queue = body.decode()
        case_ids = re.findall(r'href="/cases/(CASE-[0-9A-F-]+)"', queue)
        assert len(case_ids) == len(set(case_ids)) == len(subjects)

        # the browser: log in through /login, land on the queue, then a case page
        dom = chromium(f"http://127.0.0.1:{view}/login?token={TOKEN}", tmp_path)
        assert 'id="queue"' in dom and len(
            set(re.findall(r"/cases/(CASE-[0-9A-F-]+)", dom))
        ) == len(subjects)
        top = case_ids[0]  # the queue is sorted by score: the first is the highest
        target = urllib.parse.quote(f"/cases/{top}", safe="")
        dom = chromium(f"http://127.0.0.1:{view}/login?token={TOKEN}&next={target}", tmp_path)
        assert top in dom and '<svg id="link-graph"' in dom and '<svg id="timeline-chart"' in dom
        assert dom.count("<circle") > 3 and 'id="transactions"' in dom and 'id="disposition"' in dom
        shot = tmp_path / "case-page.png"
        chromium(
            f"http://127.0.0.1:{view}/login?token={TOKEN}&next={target}", tmp_path, screenshot=shot
        )
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
        if os.environ.get("PROTECT_SCREENSHOT_TO"):
            shutil.copy(shot, os.environ["PROTECT_SCREENSHOT_TO"])

        # downloads validate against the official schemas
        status, headers, body = get(view, f"/cases/{top}/export?format=fintrac")
        assert status == 200 and "attachment" in headers["Content-Disposition"]
        validate_fintrac(json.loads(body))
        status, _, body = get(view, f"/cases/{top}/export?format=goaml")
        assert status == 200
        validate_goaml(body.decode())

        # a disposition through the form: the case is filed, who and when are kept
        seen = re.search(r'name="version" value="(\d+)"', get(view, f"/cases/{top}")[2].decode())
        form = urllib.parse.urlencode(
            {
                "action": "file",
                "analyst": "J. Analyst",
                "reason": "evidence <b>clear</b>",
                "version": seen[1],
            }
        )
        status, headers, _ = get(view, f"/cases/{top}", data=form.encode())
        assert status == 303 and headers["Location"].startswith(f"/cases/{top}")
        page = wait_for(
            lambda: (b := get(view, f"/cases/{top}")[2].decode()) and "J. Analyst" in b and b,
            what="the disposition to reach the case",
        )
        assert "st-filed" in page and "evidence &lt;b&gt;clear&lt;/b&gt;" in page
        samples = scrape(port)
        assert samples[("protect_dispositions", 'action="file"')] == 1
        assert (
            metric_sum(
                {k: v for k, v in samples.items() if 'outcome="true_positive"' in k[1]},
                "protect_indicator_outcomes",
            )
            >= 3
        )
        disclosures = metric_sum(samples, "protect_disclosures")
        assert disclosures == n_alerts + 1
    finally:
        assert stop_worker(worker) == 0, log.read_text()[-3000:]

    # `protect export` reads the latest package (the filed version) from the topic
    out = tmp_path / "report.xml"
    cli_env = {
        **os.environ,
        "PROTECT_DISCLOSURES_TOPIC": settings.disclosures_topic,
        "PROTECT_PACKAGE_KEY": PACKAGE_KEY,
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine.tools.cli",
            "export",
            top,
            "--format",
            "goaml",
            "--out",
            str(out),
            "--bootstrap",
            settings.bootstrap,
            "--timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "(filed)" in done.stdout
    validate_goaml(out.read_text())
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine.tools.cli",
            "export",
            "CASE-NOPE",
            "--format",
            "fintrac",
            "--out",
            str(tmp_path / "x.json"),
            "--bootstrap",
            settings.bootstrap,
            "--timeout",
            "10",
        ],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=120,
    )
    assert missing.returncode == 2 and "no package for CASE-NOPE" in missing.stderr

    # restart: the cases come back from the changelog; nothing is re-assembled or republished
    port, view = free_port(), free_port()
    env["PROTECT_ANALYST_PORT"] = str(view)
    worker = start_worker(settings.bootstrap, port, tmp_path / "state", log, env)
    try:
        wait_until_healthy(port, worker)
        status, _, body = wait_for(
            lambda: (
                (r := get(view, "/cases"))
                and r[0] == 200
                and len(set(re.findall(r"/cases/(CASE-[0-9A-F-]+)", r[2].decode())))
                == len(subjects)
                and r
            ),
            what="the cases after a restart",
        )
        time.sleep(3)
        samples = scrape(port)
        assert (
            metric_sum(samples, "protect_case_updates") == 0
            and metric_sum(samples, "protect_disclosures") == 0
        )
        assert "st-filed" in get(view, f"/cases/{top}")[2].decode()
    finally:
        assert stop_worker(worker) == 0, log.read_text()[-3000:]


def test_case_routes_are_disabled_without_a_configured_token(topics, tmp_path):
    port, view = free_port(), free_port()
    env = worker_env(topics) | {"PROTECT_ANALYST_PORT": str(view)}
    worker = start_worker(topics.bootstrap, port, tmp_path / "state", tmp_path / "w.log", env)
    try:
        wait_until_healthy(port, worker)
        # nothing listens on the analyst port, and the metrics port has no case route
        with pytest.raises(urllib.error.URLError):
            get(view, "/cases", token="anything-at-all-0000")
        for path in ("/cases", "/cases/CASE-X", "/login?token=anything-at-all-0000"):
            assert get(port, path, token="anything-at-all-0000")[0] == 404, path
    finally:
        assert stop_worker(worker) == 0
