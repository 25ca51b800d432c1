"""Analyst sessions in the web view (issue #15 item 3), without a broker.

The view is the real aiohttp application over one real case; the ``dispositions`` and
``audit`` topics are lists. Login is a POST of name and password (no credential in a URL),
sessions live on the server and expire, every POST needs the session's CSRF token and a
same-site origin, and the analyst on a decision is the session's, whatever the form says.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from engine.analysts import hash_entry, parse_entry, password_problem, verify
from engine.cases.assembly import apply_alert, package_for
from engine.cases.model import CaseEntry, CaseSummary
from engine.config import Secret, Settings
from engine.errors import ConfigError
from engine.web.audit import Audit
from engine.web.routes import CaseSource, analyst_app
from engine.web.sessions import Sessions
from tests.conftest import PACKAGE_KEY, alerts_and_profiles

PASSWORD = "a long analyst passphrase 42"
TOKEN = "unit-test-analyst-token-0123456789abcdef"
ENTRY = hash_entry("j.analyst", PASSWORD)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Topic:
    """A Faust topic's ``send`` into a list."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, dict]] = []

    async def send(self, key: bytes, value: bytes) -> None:
        self.sent.append((key, json.loads(value)))


class OneCase:
    """The store of one worker holding one case (what CaseSource reads)."""

    def __init__(self, summary: CaseSummary, package: dict) -> None:
        self.summary, self._package = summary, package

    def find(self, case_id):
        return self.summary if case_id == self.summary.case_id else None

    def package(self, customer_id):
        return self._package if customer_id == self.summary.customer_id else None

    def summaries(self):
        return [self.summary]


@pytest.fixture(scope="module")
def case(small_dataset):
    alerts, profiles = alerts_and_profiles(small_dataset)
    entry = apply_alert(CaseEntry(), alerts[0], profiles.get(alerts[0].customer_id)).entry
    return CaseSummary.of(entry.case), package_for(entry, profiles)


class View:
    """The view under test, its topics, clock, and a client without a cookie jar (every
    cookie is sent by hand, so a test says exactly what the browser would hold)."""

    def __init__(self, case, secure: bool = False, **settings) -> None:
        summary, package = case
        self.settings = Settings.build(
            {
                "analysts": [ENTRY],
                "analyst_token": TOKEN,
                "package_key": PACKAGE_KEY,
                "cookie_secure": secure,
                "session_idle_s": 600,
                "session_max_s": 3600,
                **settings,
            }
        )
        self.case_id, self.customer_id = summary.case_id, summary.customer_id
        self.dispositions, self.audit, self.clock = Topic(), Topic(), Clock()
        sessions = Sessions(self.settings.session_idle_s, self.settings.session_max_s, self.clock)
        self.app = analyst_app(
            self.settings,
            CaseSource(OneCase(summary, package), None),
            self.dispositions,
            Audit(self.audit.send),
            sessions,
        )
        prefix = "__Host-" if secure else ""
        self.cookie, self.login_cookie = f"{prefix}protect_session", f"{prefix}protect_login"

    async def __aenter__(self) -> View:
        self.client = TestClient(TestServer(self.app), cookie_jar=aiohttp.DummyCookieJar())
        await self.client.start_server()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.close()

    async def login(self, name="j.analyst", password=PASSWORD, **headers):
        form = await self.client.get("/login")
        one_off = form.cookies[self.login_cookie].value
        return await self.client.post(
            "/login",
            data={"username": name, "password": password, "csrf": csrf_of(await form.text())},
            headers={"Cookie": f"{self.login_cookie}={one_off}", **headers},
            allow_redirects=False,
        )

    async def session(self) -> str:
        response = await self.login()
        assert response.status == 303
        return response.cookies[self.cookie].value

    def with_session(self, sid: str, **headers) -> dict:
        return {"Cookie": f"{self.cookie}={sid}", **headers}

    async def page(self, sid: str) -> tuple[int, str]:
        response = await self.client.get(f"/cases/{self.case_id}", headers=self.with_session(sid))
        return response.status, await response.text()

    async def decide(self, sid: str, csrf: str | None, headers=None, **fields):
        form = {"action": "escalate", "reason": "seen it", "version": "1", **fields}
        if csrf is not None:
            form["csrf"] = csrf
        return await self.client.post(
            f"/cases/{self.case_id}",
            data=form,
            headers=self.with_session(sid, **(headers or {})),
            allow_redirects=False,
        )


def csrf_of(text: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', text)[1]


def run(test):
    asyncio.run(test())


# ------------------------------------------------------------------ login
def test_login_by_post_starts_a_session_with_strict_cookies(case):
    async def test():
        async with View(case, secure=True) as view:
            response = await view.login()
            assert response.status == 303 and response.headers["Location"] == "/cases"
            raw = [v for v in response.headers.getall("Set-Cookie") if "protect_session" in v]
            assert len(raw) == 1
            flags = {f.strip().lower() for f in raw[0].split(";")}
            assert {"httponly", "secure", "samesite=strict", "path=/"} <= flags
            assert raw[0].startswith("__Host-protect_session=")
            sid = response.cookies[view.cookie].value
            assert len(sid) >= 40 and PASSWORD not in raw[0] and TOKEN not in raw[0]
            status, text = await view.page(sid)
            assert status == 200 and "j.analyst" in text and 'id="logout"' in text

    run(test)


def test_a_wrong_password_or_unknown_analyst_gets_no_session(case):
    async def test():
        async with View(case) as view:
            for name, password in (("j.analyst", "not the password!!"), ("nobody", PASSWORD)):
                response = await view.login(name, password)
                assert response.status == 401, name
                assert view.cookie not in response.cookies
            failed = [r for _, r in view.audit.sent if r["action"] == "login_failed"]
            assert [r["analyst"] for r in failed] == ["j.analyst", "?"]
            assert all("password" not in json.dumps(r) for r in failed)

    run(test)


def test_no_credential_in_a_url_is_accepted(case):
    async def test():
        async with View(case) as view:
            for path in (
                f"/login?token={TOKEN}",
                f"/login?username=j.analyst&password={PASSWORD}",
                f"/cases?token={TOKEN}",
            ):
                response = await view.client.get(path, allow_redirects=False)
                assert view.cookie not in response.cookies, path
                assert response.status in (200, 401), path
            assert (await view.client.get(f"/cases?token={TOKEN}")).status == 401
            # the login form posts its fields; a GET with them in the query does not log in
            response = await view.client.get("/login?token=x")
            assert 'method="post"' in await response.text()

    run(test)


def test_the_bearer_token_reads_but_never_decides(case):
    async def test():
        async with View(case) as view:
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            response = await view.client.get(f"/cases/{view.case_id}", headers=bearer)
            assert response.status == 200
            response = await view.client.post(
                f"/cases/{view.case_id}",
                data={"action": "file", "reason": "x", "version": "1"},
                headers=bearer,
            )
            assert response.status == 403 and not view.dispositions.sent

    run(test)


# ------------------------------------------------------------------ expiry and logout
def test_sessions_expire_when_idle_and_after_their_maximum_age(case):
    async def test():
        async with View(case) as view:
            sid = await view.session()
            view.clock.now += 599  # within the idle limit: still in, and the clock restarts
            assert (await view.page(sid))[0] == 200
            view.clock.now += 601  # idle for longer than session_idle_s
            assert (await view.page(sid))[0] == 401
            assert (await view.page(sid))[0] == 401  # gone for good
            sid = await view.session()
            for _ in range(7):  # busy, never idle, but older than session_max_s
                view.clock.now += 550
                status = (await view.page(sid))[0]
            assert status == 401

    run(test)


def test_logout_ends_the_session_on_the_server(case):
    async def test():
        async with View(case) as view:
            sid = await view.session()
            _, text = await view.page(sid)
            response = await view.client.post(
                "/logout",
                data={"csrf": csrf_of(text)},
                headers=view.with_session(sid),
                allow_redirects=False,
            )
            assert response.status == 303 and response.headers["Location"] == "/login"
            assert (await view.page(sid))[0] == 401  # the old cookie is worth nothing
            assert [r["action"] for _, r in view.audit.sent][-1] == "logout"

    run(test)


# ------------------------------------------------------------------ CSRF and origin
def test_a_post_without_the_right_csrf_token_is_refused(case):
    async def test():
        async with View(case) as view:
            sid = await view.session()
            other = await view.session()  # another session's token is no good either
            _, text = await view.page(other)
            for token in (None, "", "forged-token", csrf_of(text)):
                response = await view.decide(sid, token)
                assert response.status == 403, token
            response = await view.client.post(
                "/logout", data={}, headers=view.with_session(sid), allow_redirects=False
            )
            assert response.status == 403 and (await view.page(sid))[0] == 200
            # the login form's own token: a login without it is refused before any check
            response = await view.client.post(
                "/login", data={"username": "j.analyst", "password": PASSWORD, "csrf": "x"}
            )
            assert response.status == 403
            assert not view.dispositions.sent

    run(test)


def test_a_cross_site_post_is_refused_even_with_the_token(case):
    async def test():
        async with View(case) as view:
            sid = await view.session()
            _, text = await view.page(sid)
            csrf = csrf_of(text)
            for headers in (
                {"Origin": "https://evil.example"},
                {"Origin": "null"},
                {"Sec-Fetch-Site": "cross-site"},
                {"Sec-Fetch-Site": "same-site"},  # a sibling host of the domain
            ):
                response = await view.decide(sid, csrf, headers)
                assert response.status == 403, headers
            assert (await view.login(Origin="https://evil.example")).status == 403
            assert not view.dispositions.sent
            host = f"{view.client.host}:{view.client.port}"
            same = {"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"}
            assert (await view.decide(sid, csrf, same)).status == 303
            # What Chromium sends for the view's own form under Referrer-Policy:
            # no-referrer: Origin "null", and Sec-Fetch-Site (unforgeable) decides.
            own_form = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
            assert (await view.decide(sid, csrf, own_form)).status == 303
            assert len(view.dispositions.sent) == 2

    run(test)


# ------------------------------------------------------------------ identity and audit
def test_the_analyst_on_a_decision_is_the_session_s_never_the_form_s(case):
    async def test():
        async with View(case) as view:
            sid = await view.session()
            _, text = await view.page(sid)
            assert 'name="analyst"' not in text
            response = await view.decide(sid, csrf_of(text), analyst="Mallory")
            assert response.status == 303
            [(key, message)] = view.dispositions.sent
            assert key == view.customer_id.encode() and message["analyst"] == "j.analyst"
            assert message["case_version"] == 1

    run(test)


def test_every_view_export_and_decision_is_audited_without_customer_ids(case):
    async def test():
        async with View(case) as view:
            sid = await view.session()
            _, text = await view.page(sid)
            await view.client.get("/cases", headers=view.with_session(sid))
            await view.client.get(
                f"/cases/{view.case_id}/export?format=fintrac", headers=view.with_session(sid)
            )
            await view.decide(sid, csrf_of(text), action="file", reason=view.customer_id)
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            await view.client.get(f"/cases/{view.case_id}", headers=bearer)
            records = [r for _, r in view.audit.sent]
            actions = [r["action"] for r in records]
            assert actions == ["login", "view_case", "view_queue", "export", "decide", "view_case"]
            decide = records[4]
            assert decide["analyst"] == "j.analyst" and decide["via"] == "session"
            assert decide["case_id"] == view.case_id and decide["decision"] == "file"
            assert records[3]["format"] == "fintrac" and records[-1]["via"] == "token"
            assert all(r["at"].endswith("+00:00") for r in records)
            # the decision's free text (here the customer id) is not copied into the trail
            assert view.customer_id not in json.dumps(records)
            assert {k for k, _ in view.audit.sent if k != b"j.analyst"} == {view.case_id.encode()}

    run(test)


# ------------------------------------------------------------------ credentials, settings
def test_credentials_are_scrypt_hashes_and_weak_passwords_are_refused():
    name, credential = parse_entry(ENTRY)
    assert name == "j.analyst" and ENTRY.startswith("j.analyst:scrypt$16384$8$1$")
    assert PASSWORD not in ENTRY
    assert verify(credential, PASSWORD) and not verify(credential, PASSWORD + "x")
    assert hash_entry("j.analyst", PASSWORD) != ENTRY  # a fresh salt each time
    for weak in ("short", "aaaaaaaaaaaaaaaa", "j.analyst-and-more"):
        assert password_problem(weak, "j.analyst"), weak
        with pytest.raises(ConfigError):
            hash_entry("j.analyst", weak)


def test_settings_refuse_a_short_token_and_a_malformed_entry_and_hide_hashes():
    base = {"package_key": PACKAGE_KEY}
    with pytest.raises(ConfigError, match="analyst_token: use at least 32"):
        Settings.build({**base, "analyst_token": "only-twenty-chars-00"})
    for bad in ("j.analyst:plain$secret", "j.analyst:scrypt$1024$8$1$00$00", "nocolon"):
        with pytest.raises(ConfigError, match="analysts") as raised:
            Settings.build({**base, "analysts": [bad]})
        assert "secret" not in str(raised.value)
    with pytest.raises(ConfigError, match="given twice"):
        Settings.build({**base, "analysts": [ENTRY, ENTRY]})
    with pytest.raises(ConfigError, match="package_key: required with analysts"):
        Settings.build({"analysts": [ENTRY]})
    other = hash_entry("b.analyst", PASSWORD)
    settings = Settings.load(env={"PROTECT_ANALYSTS": f"{ENTRY},{other}", **_env(base)})
    assert settings.analyst_view_on and len(settings.analysts) == 2
    assert all(isinstance(a, Secret) for a in settings.analysts)
    assert ENTRY.split("$")[-1] not in repr(settings)
    assert settings.cookie_secure  # Secure unless turned off for plain-http localhost


def _env(values: dict) -> dict:
    return {f"PROTECT_{k.upper()}": v for k, v in values.items()}


def test_protect_analyst_hash_prints_an_entry_and_refuses_a_weak_password():
    def hashed(password: str):
        return subprocess.run(
            [sys.executable, "-m", "engine.tools.cli", "analyst-hash", "r.remote"],
            input=password + "\n",
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = hashed(PASSWORD)
    assert done.returncode == 0, done.stderr
    name, credential = parse_entry(done.stdout.strip())
    assert name == "r.remote" and verify(credential, PASSWORD)
    weak = hashed("too-short")
    assert weak.returncode == 2 and "at least 12" in weak.stderr and not weak.stdout
