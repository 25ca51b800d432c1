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

import msgspec
import pytest

from engine.analysts import hash_entry
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
from tests.browser import CHROMIUM, Browser
from tests.conftest import PACKAGE_KEY
from tests.helpers import wait_for
from tests.test_integration import worker_env

pytestmark = pytest.mark.integration
TOKEN = "test-analyst-token-0123456789abcdef"  # a tool's read-only bearer token
ANALYST, PASSWORD = "j.analyst", "a long analyst passphrase 42"
ANALYSTS = hash_entry(ANALYST, PASSWORD)  # what `protect analyst-hash j.analyst` prints


def get(port, path, token=TOKEN, data=None):
    """A tool's request with the bearer token (read only) or none."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    status, headers, body = _open(request)
    return status, dict(headers), body


def _open(request):
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Analyst:
    """A script signed in as an analyst: the login form's one-off cookie and CSRF token,
    then the session cookie, all by hand (the view's cookies are ``Secure``, which
    urllib's cookie jar keeps to HTTPS)."""

    def __init__(self, port: int, name: str = ANALYST, password: str = PASSWORD) -> None:
        self.port, self.cookies = port, {}
        self.csrf = self._csrf(self.request("/login")[2])
        status, _, _ = self.request(
            "/login", {"csrf": self.csrf, "username": name, "password": password}
        )
        assert status == 303, "the sign-in was refused"

    def request(self, path: str, form: dict | None = None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data)
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        status, headers, body = _open(request)
        for line in headers.get_all("Set-Cookie") or ():
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in line.lower():
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return status, headers, body

    def decide(self, case_id: str, **fields: str):
        """POST the case's disposition form with the session's CSRF token."""
        path = f"/cases/{urllib.parse.quote(case_id)}"
        page = self.request(path)[2]
        version = re.search(rb'name="version" value="(\d+)"', page)[1].decode()
        return self.request(path, {"version": version, "csrf": self._csrf(page), **fields})

    @staticmethod
    def _csrf(page: bytes) -> str:
        return re.search(rb'name="csrf" value="([^"]+)"', page)[1].decode()


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_analyst_works_cases_in_the_browser(topics, small_dataset, tmp_path):
    settings = dataclasses.replace(topics, case_republish_s=3600.0)
    view = free_port()  # the analyst view's own port
    env = worker_env(settings) | {
        "PROTECT_ANALYST_TOKEN": TOKEN,
        "PROTECT_ANALYSTS": ANALYSTS,
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
        # no credential: refused, and no case data in the answer; /login only shows the form
        # (a token in its URL is never read)
        for path in ("/cases", "/cases/CASE-X", "/cases/CASE-X/export?format=goaml"):
            status, _, body = get(view, path, token=None)
            assert status == 401, path
            assert b"CASE-" not in body.replace(b"CASE-X", b"")
        status, _, body = get(view, f"/login?token={TOKEN}", token=None)
        assert status == 200 and b'id="login"' in body and b"CASE-" not in body
        assert get(view, f"/cases?token={TOKEN}", token=None)[0] == 401
        assert get(view, "/cases", token="not-the-token-at-all-000")[0] == 401

        status, headers, body = get(view, "/cases")
        assert status == 200 and "script-src" not in headers["Content-Security-Policy"]
        queue = body.decode()
        case_ids = re.findall(r'href="/cases/(CASE-[0-9A-F-]+)"', queue)
        assert len(case_ids) == len(set(case_ids)) == len(subjects)
        top = case_ids[0]  # the queue is sorted by score: the first is the highest
        # the bearer token reads but cannot decide
        form = urllib.parse.urlencode({"action": "file", "reason": "x", "version": "0"})
        assert get(view, f"/cases/{top}", data=form.encode())[0] == 403

        # downloads validate against the official schemas
        status, headers, body = get(view, f"/cases/{top}/export?format=fintrac")
        assert status == 200 and "attachment" in headers["Content-Disposition"]
        validate_fintrac(json.loads(body))
        status, _, body = get(view, f"/cases/{top}/export?format=goaml")
        assert status == 200
        validate_goaml(body.decode())

        # the browser: a case link asks for a sign-in, the form signs in and leads back to
        # the case (graph and timeline drawn), the disposition form files it
        with Browser(tmp_path / "chromium") as browser:
            dom = browser.goto(f"http://127.0.0.1:{view}/login?next=/cases/{top}")
            assert 'id="login"' in dom and "CASE-" not in dom.replace(f"/cases/{top}", "")
            dom = browser.submit("login", username=ANALYST, password="not the password 1")
            assert "Wrong name or password" in dom and 'id="login"' in dom
            dom = browser.submit("login", username=ANALYST, password=PASSWORD)
            assert browser.url().endswith(f"/cases/{top}") and ANALYST in dom
            session = [c for c in browser.cookies() if "protect_session" in c["name"]]
            assert session and session[0]["httpOnly"] and session[0]["secure"]
            assert '<svg id="link-graph"' in dom and '<svg id="timeline-chart"' in dom
            assert dom.count("<circle") > 3 and 'id="transactions"' in dom
            assert 'id="disposition"' in dom
            shot = browser.screenshot(tmp_path / "case-page.png")
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
            if os.environ.get("PROTECT_SCREENSHOT_TO"):
                shutil.copy(shot, os.environ["PROTECT_SCREENSHOT_TO"])
            dom = browser.goto(f"http://127.0.0.1:{view}/cases")
            assert 'id="queue"' in dom and len(
                set(re.findall(r"/cases/(CASE-[0-9A-F-]+)", dom))
            ) == len(subjects)

            # a disposition through the form: the case is filed, who and when are kept
            browser.goto(f"http://127.0.0.1:{view}/cases/{top}")
            browser.submit("disposition", action="file", reason="evidence <b>clear</b>")
            assert f"/cases/{top}" in browser.url()
            page = wait_for(
                lambda: (b := browser.goto(f"http://127.0.0.1:{view}/cases/{top}"))
                and 'badge st-filed">filed<' in b
                and b,
                what="the disposition to reach the case",
            )
            # recorded as the session's analyst (the form has no field for who decides)
            assert f"<td>{ANALYST}</td><td>file" in page
            assert "evidence &lt;b&gt;clear&lt;/b&gt;" in page
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
        assert 'badge st-filed">filed<' in get(view, f"/cases/{top}")[2].decode()
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
