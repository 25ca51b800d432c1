"""The analyst web view: an aiohttp server of its own, apart from /metrics and /health.

Routes (all behind the operator's ``analyst_token``; with no token set the server does not
listen at all):

* ``/login?token=...[&next=/cases/...]`` sets an HttpOnly, SameSite=Strict cookie and goes
  to the queue; scripts and tools send ``Authorization: Bearer <token>`` instead.
* ``/cases``: the queue of every case of the cluster, highest score first; filters
  ``status``, ``role``, ``family``.
* ``/cases/{case_id}``: summary, subjects, indicators with evidence, timeline chart, link
  graph (inline SVG drawn here: no scripts, no CDN), places, transactions, narrative,
  decisions, the disposition form (POST → ``dispositions`` topic) and the export buttons.
* ``/cases/{case_id}/export?format=fintrac|goaml``: the validated report as a download.

Why a server of its own: Faust's web server serves Faust's own blueprints too (``/table``
reads any table key), and the port that probes and Prometheus reach must not carry case
data; here nothing is served that this module does not route.

Every value from a case goes through :func:`html.escape`; the pages carry a
Content-Security-Policy that allows no script at all.

Every worker serves the whole queue, whichever worker holds a case: a case of this
worker's partitions is read from its own table (the freshest copy); any other case from
the ``disclosures`` topic, which each worker follows (:mod:`engine.cases.index`; per case
the higher version of the two wins). A decision on any case goes to ``dispositions`` keyed
by the subject's customer id, so the worker that holds the subject applies it, wherever
the form was sent from; the page shows it once the new package is published.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import mode
from aiohttp import web

from engine.cases.disclosure import FORMATS, DisclosureError, ExportValidationError, export
from engine.cases.index import merge
from engine.cases.model import CaseSummary
from engine.core.decode import Message, dead_letter, encode_dead_letter
from engine.stream.case_reader import DisclosuresReader
from engine.web.auth import is_authorized, sign_in_page, token_of
from engine.web.render import SECURITY_HEADERS, case_page, e, page, queue_page, quote
from schemas import DISPOSITION_ACTIONS

log = logging.getLogger(__name__)

LOCAL_ORIGIN = "Read from this worker's case table (the freshest copy)."
TOPIC_ORIGIN = (
    "Read from the disclosures topic: another worker holds this case and applies the "
    "decisions recorded here."
)


def disposition_message(form, case_id: str, customer_id: str, now: datetime) -> tuple[dict, str]:
    """The ``dispositions`` message a posted form asks for, and what is wrong with it ("" if
    nothing)."""
    action = form.get("action", "")
    reason, analyst = form.get("reason", "").strip(), form.get("analyst", "").strip()
    problem = ""
    version = form.get("version", "")
    if action not in DISPOSITION_ACTIONS:
        problem = "choose an action"
    elif not version.isdigit():
        problem = "the form names no case version; reload the case"
    elif not reason or not analyst:
        problem = "the analyst and a reason are required"
    message = {
        "case_id": case_id,
        "customer_id": customer_id,
        "action": action,
        "reason": reason[:2000],
        "analyst": analyst[:80],
        "at": now.isoformat(timespec="seconds"),
        "case_version": int(version) if version.isdigit() else 0,
    }
    if action == "snooze" and not problem:
        indicator = form.get("indicator", "")
        try:
            days = int(form.get("snooze_days", "30"))
        except ValueError:
            days = 0
        if not indicator or not 1 <= days <= 365:
            problem = "a snooze needs an indicator and 1 to 365 days"
        message |= {
            "indicator": indicator,
            "until": (now + timedelta(days=days)).isoformat(timespec="seconds"),
        }
    return message, problem


def html(text: str, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def not_found(case_id: str) -> web.Response:
    return html(page("Not found", f"<h1>No case {e(case_id)} in the cluster</h1>"), status=404)


class CaseSource:
    """Where a case is read from: this worker's tables, or the ``disclosures`` reader."""

    def __init__(self, store, reader: DisclosuresReader | None):
        self.store, self.reader = store, reader

    def locate(self, case_id: str) -> tuple[CaseSummary, bool] | None:
        """The case's queue row and whether it is read from this worker's table."""
        own = self.store.find(case_id)
        other = self.reader.index.entry(case_id) if self.reader else None
        if own is not None and (other is None or own.version >= other.summary.version):
            return own, True
        return (other.summary, False) if other is not None else None

    async def package(self, case_id: str, summary: CaseSummary, is_local: bool) -> dict | None:
        if is_local:
            package = self.store.package(summary.customer_id)
            if package is not None and package["case_id"] == case_id:
                return package
        return await self.reader.package(case_id) if self.reader else None

    def summaries(self) -> tuple[list[CaseSummary], set[str]]:
        return merge(self.store.summaries(), self.reader.index.summaries() if self.reader else [])


def analyst_app(token: str, cases: CaseSource, dispositions) -> web.Application:
    """The analyst view as an aiohttp application (tested without a worker)."""

    @web.middleware
    async def require_token(request, handler):
        # Every route but /login refuses before it reads anything.
        if request.path != "/login" and not is_authorized(token_of(request), token):
            return html(
                sign_in_page(), status=401, headers={"WWW-Authenticate": 'Bearer realm="protect"'}
            )
        return await handler(request)

    async def login(request):
        given = request.query.get("token", "")
        if not is_authorized(given, token):
            return html(sign_in_page(), status=401)
        cookie = f"token={given}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"
        target = request.query.get("next", "/cases")
        if not target.startswith("/cases") or "//" in target or "\\" in target:
            target = "/cases"  # never an open redirect
        return html("", status=303, headers={"Location": target, "Set-Cookie": cookie})

    async def queue(request):
        q = request.query
        summaries, local = cases.summaries()
        complete = cases.reader.caught_up if cases.reader else True
        return html(
            queue_page(
                summaries,
                q.get("status", ""),
                q.get("role", ""),
                q.get("family", ""),
                local=local,
                complete=complete,
            )
        )

    async def case(request):
        case_id = request.match_info["case_id"]
        found = cases.locate(case_id)
        package = await cases.package(case_id, *found) if found else None
        if package is None:
            return not_found(case_id)
        origin = LOCAL_ORIGIN if found[1] else TOPIC_ORIGIN
        return html(case_page(package, request.query.get("message", ""), origin=origin))

    async def decide(request):
        case_id = request.match_info["case_id"]
        found = cases.locate(case_id)
        if found is None:
            return not_found(case_id)
        # keyed by the subject: the worker that holds the subject applies it, whichever
        # worker served this form
        summary = found[0]
        form = await request.post()
        message, problem = disposition_message(
            form, case_id, summary.customer_id, datetime.now(UTC)
        )
        if problem:
            note = f"Not recorded: {problem}."
        else:
            await dispositions.send(
                key=summary.customer_id.encode(), value=json.dumps(message).encode()
            )
            note = (
                f"Recorded: {message['action']} by {message['analyst']}. "
                "The case updates in a moment; reload."
            )
        location = f"/cases/{quote(case_id)}?message={quote(note)}"
        return html("", status=303, headers={"Location": location})

    async def download(request):
        case_id = request.match_info["case_id"]
        fmt = request.query.get("format", "")
        found = cases.locate(case_id) if fmt in FORMATS else None
        package = await cases.package(case_id, *found) if found else None
        if package is None:
            return html(page("Not found", "<h1>No such case or format</h1>"), status=404)
        try:
            data = export(package, fmt)
        except ExportValidationError as exc:
            body = f"<h1>The {e(fmt)} export does not validate</h1><pre>{e(str(exc))}</pre>"
            return html(page("Export invalid", body), status=409)
        except DisclosureError as exc:
            return html(page("Export failed", f"<pre>{e(str(exc))}</pre>"), status=409)
        name = f"{case_id}-v{package['version']}.{'json' if fmt == 'fintrac' else 'xml'}"
        kind = "application/json" if fmt == "fintrac" else "application/xml"
        return web.Response(
            body=data,
            content_type=kind,
            headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
        )

    application = web.Application(middlewares=[require_token], client_max_size=65_536)
    application.router.add_get("/login", login)
    application.router.add_get("/cases", queue)
    application.router.add_get("/cases/{case_id}", case)
    application.router.add_post("/cases/{case_id}", decide)
    application.router.add_get("/cases/{case_id}/export", download)
    return application


def install_analyst_view(app, settings, store) -> web.Application | None:
    """The analyst server on ``app`` over the case ``store``: only with a token configured
    (otherwise nothing listens), on ``analyst_host:analyst_port``."""
    token = settings.analyst_token.reveal() if settings.analyst_token else ""
    if not token:
        log.info("analyst view off: no analyst_token configured")
        return None

    async def refuse(record) -> None:
        # a package the engine did not seal: never shown, kept for whoever investigates
        message = Message(record.topic, record.partition, record.offset, record.key, record.value)
        reason = "a package not sealed with package_key (forged, or another engine's key)"
        letter = dead_letter(message, reason, "unverified_package")
        store.metrics.dead_letters.labels(letter.reason_class).inc()
        log.warning("disclosures[%d]@%d: unsealed package refused", record.partition, record.offset)
        await store.dead_letters.send(key=record.key, value=encode_dead_letter(letter))

    # The cases of the other workers, from `disclosures` (engine/cases/index.py).
    reader = DisclosuresReader(settings, on_refused=refuse)
    application = analyst_app(token, CaseSource(store, reader), store.dispositions)

    @app.service
    class AnalystService(mode.Service):
        """Follows `disclosures` and serves the analyst view inside the worker's lifecycle."""

        runner: web.AppRunner | None = None

        async def on_start(self) -> None:
            self.runner = web.AppRunner(application, access_log=None)
            await self.runner.setup()
            site = web.TCPSite(self.runner, settings.analyst_host, settings.analyst_port)
            await site.start()

        @mode.Service.task
        async def _follow(self) -> None:
            await reader.run()

        async def on_stop(self) -> None:
            await reader.stop()
            if self.runner is not None:
                await self.runner.cleanup()

    return application
