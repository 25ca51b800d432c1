"""The analyst web view: an aiohttp server of its own, apart from /metrics and /health.

Routes (the server listens only when ``analysts`` or ``analyst_token`` is configured):

* ``GET /login`` shows the sign-in form; ``POST /login`` (name + password, checked against
  the scrypt entries of ``analysts``) starts a server-side session and goes to the queue;
  ``POST /logout`` ends it. No credential is ever read from a URL. Tools send
  ``Authorization: Bearer <analyst_token>`` instead: read only (:mod:`engine.web.auth`).
* ``/cases``: the queue of every case of the cluster, highest score first; filters
  ``status``, ``role``, ``family``.
* ``/cases/{case_id}``: summary, subjects, indicators with evidence, timeline chart, link
  graph (inline SVG drawn here: no scripts, no CDN), places, transactions, narrative,
  decisions, the disposition form (POST → ``dispositions`` topic) and the export buttons.
* ``/cases/{case_id}/export?format=fintrac|goaml``: the validated report as a download.

Every POST passes the cross-site check and carries the session's CSRF token; the analyst
on a decision is the session's. Each login, view, export and decision is recorded on the
``audit`` topic before the answer goes out (:mod:`engine.web.audit`).

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

import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import mode
from aiohttp import web

from engine.analysts import parse_analysts, verify
from engine.cases.disclosure import FORMATS, DisclosureError, ExportValidationError, export
from engine.cases.index import merge
from engine.cases.model import CaseSummary
from engine.core.decode import Message, dead_letter, encode_dead_letter
from engine.stream.case_reader import DisclosuresReader
from engine.web.audit import Audit
from engine.web.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    bearer_of,
    cookie_name,
    cross_site,
    is_authorized,
    safe_next,
    sign_in_page,
)
from engine.web.render import SECURITY_HEADERS, case_page, e, page, queue_page, quote
from engine.web.sessions import Session, Sessions, csrf_matches
from schemas import DISPOSITION_ACTIONS

log = logging.getLogger(__name__)

SESSIONS = web.AppKey("sessions", Sessions)
AUDIT = web.AppKey("audit", Audit)
LOCAL_ORIGIN = "Read from this worker's case table (the freshest copy)."
TOPIC_ORIGIN = (
    "Read from the disclosures topic: another worker holds this case and applies the "
    "decisions recorded here."
)


def disposition_message(
    form, case_id: str, customer_id: str, now: datetime, analyst: str
) -> tuple[dict, str]:
    """The ``dispositions`` message a posted form asks for, and what is wrong with it ("" if
    nothing). ``analyst`` is the session's: a form field named "analyst" is ignored."""
    action = form.get("action", "")
    reason = form.get("reason", "").strip()
    problem = ""
    version = form.get("version", "")
    if action not in DISPOSITION_ACTIONS:
        problem = "choose an action"
    elif not version.isdigit():
        problem = "the form names no case version; reload the case"
    elif not reason:
        problem = "a reason is required"
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


@dataclass(frozen=True)
class Who:
    """Who is asking: an analyst's session, or the bearer token (``session`` None)."""

    analyst: str
    via: str
    session: Session | None = None

    @property
    def csrf(self) -> str:
        return self.session.csrf if self.session else ""


WHO = web.RequestKey("who", Who)


def analyst_app(
    settings,
    cases: CaseSource,
    dispositions,
    audit: Audit,
    sessions: Sessions | None = None,
) -> web.Application:
    """The analyst view as an aiohttp application (tested without a worker): ``settings``
    give the token, the analysts and the session and cookie policy."""
    token = settings.analyst_token.reveal() if settings.analyst_token else ""
    analysts = parse_analysts(settings.analysts)
    if sessions is None:  # (an empty Sessions is falsy: it has a length)
        sessions = Sessions(settings.session_idle_s, settings.session_max_s)
    secure = settings.cookie_secure
    session_cookie = cookie_name(SESSION_COOKIE, secure)
    login_cookie = cookie_name(LOGIN_COOKIE, secure)

    def refuse(status: int, title: str, text: str) -> web.Response:
        return html(page(title, f"<h1>{e(title)}</h1><p>{e(text)}</p>"), status=status)

    def identify(request) -> Who | None:
        session = sessions.get(request.cookies.get(session_cookie, ""))
        if session is not None:
            return Who(session.analyst, "session", session)
        if is_authorized(bearer_of(request), token):
            return Who("token", "token")
        return None

    @web.middleware
    async def guard(request, handler):
        # Before anything is read: a POST from another site is refused outright (CSRF).
        if request.method == "POST" and (why := cross_site(request)):
            return refuse(403, "Refused", f"a cross-site request ({why}).")
        if request.path == "/login":
            return await handler(request)
        who = identify(request)
        if who is None:
            return html(
                sign_in_page(), status=401, headers={"WWW-Authenticate": 'Bearer realm="protect"'}
            )
        if request.method == "POST":
            if who.session is None:
                return refuse(403, "Refused", "decisions need an analyst sign-in, not a token.")
            form = await request.post()  # aiohttp keeps it for the handler
            if not csrf_matches(who.session, form.get("csrf", "")):
                return refuse(403, "Refused", "the form's CSRF token is missing or wrong.")
        request[WHO] = who
        return await handler(request)

    def login_form(next_path: str, problem: str = "", status: int = 200) -> web.Response:
        one_off = secrets.token_urlsafe(32)  # double-submit: the form and the cookie agree
        response = html(sign_in_page(one_off, next_path, problem), status=status)
        response.set_cookie(login_cookie, one_off, **_flags(secure, max_age=900))
        return response

    async def login_page(request):
        # A token or password in the URL is never read: it would land in history and logs.
        return login_form(request.query.get("next", "/cases"))

    async def login(request):
        form = await request.post()
        given = form.get("csrf", "")
        if not given or not hmac.compare_digest(
            given.encode(), request.cookies.get(login_cookie, "").encode()
        ):
            return refuse(403, "Refused", "the sign-in form expired; open /login again.")
        name, password = form.get("username", "").strip(), form.get("password", "")
        credential = analysts.get(name)
        if not verify(credential, password[:1024]):
            await audit("login_failed", name[:64] if credential else "?", "form")
            return login_form(form.get("next", ""), "Wrong name or password.", status=401)
        session = sessions.create(name)
        await audit("login", name, "session")
        log.info("analyst view: a sign-in (%d sessions)", len(sessions))
        response = html("", status=303, headers={"Location": safe_next(form.get("next", ""))})
        response.set_cookie(
            session_cookie, session.id, **_flags(secure, max_age=int(settings.session_max_s))
        )
        response.del_cookie(login_cookie, path="/")
        return response

    async def logout(request):
        who = request[WHO]
        sessions.end(who.session.id)
        await audit("logout", who.analyst, who.via)
        response = html("", status=303, headers={"Location": "/login"})
        response.del_cookie(session_cookie, path="/")
        return response

    async def queue(request):
        q, who = request.query, request[WHO]
        summaries, local = cases.summaries()
        complete = cases.reader.caught_up if cases.reader else True
        await audit("view_queue", who.analyst, who.via)
        return html(
            queue_page(
                summaries,
                q.get("status", ""),
                q.get("role", ""),
                q.get("family", ""),
                local=local,
                complete=complete,
                analyst=who.analyst if who.session else "",
                csrf=who.csrf,
            )
        )

    async def case(request):
        case_id, who = request.match_info["case_id"], request[WHO]
        found = cases.locate(case_id)
        package = await cases.package(case_id, *found) if found else None
        if package is None:
            return not_found(case_id)
        await audit("view_case", who.analyst, who.via, case_id=case_id)
        origin = LOCAL_ORIGIN if found[1] else TOPIC_ORIGIN
        text = case_page(
            package,
            request.query.get("message", ""),
            origin=origin,
            analyst=who.analyst if who.session else "",
            csrf=who.csrf,
        )
        return html(text)

    async def decide(request):
        case_id, who = request.match_info["case_id"], request[WHO]
        found = cases.locate(case_id)
        if found is None:
            return not_found(case_id)
        # keyed by the subject: the worker that holds the subject applies it, whichever
        # worker served this form
        summary = found[0]
        form = await request.post()
        message, problem = disposition_message(
            form, case_id, summary.customer_id, datetime.now(UTC), who.analyst
        )
        if problem:
            note = f"Not recorded: {problem}."
        else:
            await audit(
                "decide",
                who.analyst,
                who.via,
                case_id=case_id,
                decision=message["action"],
                case_version=message["case_version"],
            )
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
        case_id, who = request.match_info["case_id"], request[WHO]
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
        await audit(
            "export",
            who.analyst,
            who.via,
            case_id=case_id,
            format=fmt,
            case_version=package["version"],
        )
        name = f"{case_id}-v{package['version']}.{'json' if fmt == 'fintrac' else 'xml'}"
        kind = "application/json" if fmt == "fintrac" else "application/xml"
        return web.Response(
            body=data,
            content_type=kind,
            headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
        )

    application = web.Application(middlewares=[guard], client_max_size=65_536)
    application[SESSIONS] = sessions  # for tests and tools
    application[AUDIT] = audit
    application.router.add_get("/login", login_page)
    application.router.add_post("/login", login)
    application.router.add_post("/logout", logout)
    application.router.add_get("/cases", queue)
    application.router.add_get("/cases/{case_id}", case)
    application.router.add_post("/cases/{case_id}", decide)
    application.router.add_get("/cases/{case_id}/export", download)
    return application


def _flags(secure: bool, max_age: int) -> dict:
    """aiohttp ``set_cookie`` keywords: never readable by scripts, never sent cross-site."""
    return {
        "path": "/",
        "max_age": max_age,
        "httponly": True,
        "samesite": "Strict",
        "secure": secure,
    }


def install_analyst_view(app, settings, store) -> web.Application | None:
    """The analyst server on ``app`` over the case ``store``: only with a token configured
    (otherwise nothing listens), on ``analyst_host:analyst_port``."""
    if not settings.analyst_view_on:
        log.info("analyst view off: neither analysts nor analyst_token configured")
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
    raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw"}
    audit_topic = app.topic(settings.audit_topic, value_serializer="raw", **raw)

    async def send_audit(key: bytes, value: bytes) -> None:
        await audit_topic.send(key=key, value=value)

    application = analyst_app(
        settings, CaseSource(store, reader), store.dispositions, Audit(send_audit)
    )

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
