"""Security properties of the worker that need no broker (issue #15).

Every route the worker serves, on both of its servers, refuses a request without
credentials, except ``/health``, ``/metrics`` and the login page; Faust's own table and
router endpoints are not served at all.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html.parser
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from engine.cases.assembly import apply_alert, package_for
from engine.cases.model import CaseEntry, CaseSummary
from engine.config import Settings
from engine.stream.app import create_app
from engine.web.render import case_page, queue_page
from engine.web.routes import AUDIT, install_analyst_view
from tests.conftest import PACKAGE_KEY, alerts_and_profiles

TOKEN = "unit-test-analyst-token-0123456789"
OPEN = {"/health", "/metrics", "/login"}


@pytest.fixture(scope="module")
def pipeline(small_dataset):
    """The small data set's alerts and profiles."""
    return alerts_and_profiles(small_dataset)


PROBES = [  # besides every routed path: Faust's own endpoints, which must not exist
    ("GET", "/table/protect-cases/C000379/"),
    ("GET", "/table/"),
    ("GET", "/router/"),
    ("GET", "/"),
]


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    """Status of every route (and probe) of the worker's two servers, without credentials;
    the servers are built as `protect worker` builds them. One event loop: an aiohttp
    application is bound to the loop it first served on."""
    settings = Settings.build(
        {
            "checkpoint_dir": tmp_path_factory.mktemp("state"),
            "analyst_token": TOKEN,
            "package_key": PACKAGE_KEY,
        }
    )
    views = []
    app, _ = create_app(
        settings, extensions=[lambda a, s, st: views.append(install_analyst_view(a, s, st))]
    )
    app.web.init_server()  # applies Faust's blueprints and our pages, as the worker does
    audited = []

    async def record(key: bytes, value: bytes) -> None:  # no producer runs here
        audited.append(value)

    views[0][AUDIT].send = record

    async def ask() -> dict:
        out = {}
        for name, application in (("ops", app.web.web_app), ("analyst", views[0])):
            routes = list(_routes(application))
            async with TestClient(TestServer(application)) as client:
                for method, path, pattern in [*routes, *[(m, p, None) for m, p in PROBES]]:
                    response = await client.request(method, path, allow_redirects=False)
                    out[name, method, path] = (pattern, response.status)
                bearer = {"Authorization": f"Bearer {TOKEN}"}
                response = await client.get("/cases", headers=bearer)
                out[name, "GET", "/cases with the token"] = (None, response.status)
        return out

    return asyncio.run(ask())


def _routes(application):
    for route in application.router.routes():
        if route.method == "HEAD":
            continue
        path = re.sub(r"\{[^}]+\}", "C000379", route.resource.canonical)
        yield route.method, path, route.resource.canonical


def test_every_route_but_health_metrics_and_login_refuses_without_credentials(answers):
    routed = {key: status for key, (pattern, status) in answers.items() if pattern}
    assert len(routed) >= 7
    for (server, method, path), status in routed.items():
        if answers[server, method, path][0] not in OPEN:
            assert status in (401, 403), (server, method, path, status)
    patterns = {pattern for pattern, _ in answers.values() if pattern}
    assert {"/cases", "/cases/{case_id}", "/cases/{case_id}/export"} <= patterns
    assert not [p for p in patterns if p.startswith(("/table", "/router", "/graph", "/stats"))]


def test_faust_table_and_router_endpoints_are_not_served(answers):
    for method, path in PROBES:
        assert answers["ops", method, path][1] == 404, path
        assert answers["analyst", method, path][1] in (401, 404), path


def test_the_analyst_view_is_not_on_the_metrics_port(answers):
    assert answers["ops", "GET", "/cases with the token"][1] == 404
    assert answers["analyst", "GET", "/cases with the token"][1] == 200
    assert answers["ops", "GET", "/metrics"][1] == 200


# ------------------------------------------------------- hostile values reaching HTML
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>\u202e'


def _poison(value):
    """Every string in ``value`` replaced by markup (dict keys kept: the renderer's own)."""
    if isinstance(value, str):
        return HOSTILE + value
    if isinstance(value, list):
        return [_poison(v) for v in value]
    if isinstance(value, dict):
        return {k: _poison(v) for k, v in value.items()}
    return value


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]


def test_pages_from_packages_with_hostile_values_in_every_field_stay_inert(pipeline):
    alerts, profiles = pipeline
    entry = apply_alert(CaseEntry(), alerts[0], profiles.get(alerts[0].customer_id)).entry
    package = _poison(package_for(entry, profiles))
    package["version"] = HOSTILE  # a number in a real package; a reader may meet anything
    summary = dataclasses.replace(CaseSummary.of(entry.case), case_id=HOSTILE, name=HOSTILE)
    for text in (case_page(package, HOSTILE, origin=HOSTILE), queue_page([summary], HOSTILE)):
        parsed = _Tags()
        parsed.feed(text)
        assert "script" not in parsed.tags and "img" not in parsed.tags
        assert not [a for a in parsed.attrs if a.startswith("on")]
