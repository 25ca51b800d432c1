"""The analyst web view, served by the worker's Faust web server beside /metrics and /health.

Routes (all behind the operator's ``analyst_token``; with no token set they are disabled):

* ``/login?token=...[&next=/cases/...]`` sets an HttpOnly, SameSite=Strict cookie and goes to the queue;
  scripts and tools send ``Authorization: Bearer <token>`` instead.
* ``/cases``: the queue of every case of the cluster, highest score first; filters
  ``status``, ``role``, ``family``.
* ``/cases/{case_id}``: summary, subjects, indicators with evidence, timeline chart, link
  graph (inline SVG drawn here: no scripts, no CDN), places, transactions, narrative,
  decisions, the disposition form (POST → ``dispositions`` topic) and the export buttons.
* ``/cases/{case_id}/export?format=fintrac|goaml``: the validated report as a download.

Every value from a case goes through :func:`html.escape`; the pages carry a
Content-Security-Policy that allows no script at all.

Every worker serves the whole queue, whichever worker holds a case: a case of this
worker's partitions is read from its own table (the freshest copy); any other case from
the ``disclosures`` topic, which each worker follows (:mod:`engine.cases.index`; per case
the higher version of the two wins). A decision on any case goes to ``dispositions`` keyed
by the subject's customer id, so the worker that holds the subject applies it, wherever
the form was sent from; the page shows it once the new package is published. The reader
runs only when the view is on (a token is set).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import faust
import mode

from engine.cases.disclosure import FORMATS, DisclosureError, ExportValidationError, export
from engine.cases.index import merge
from engine.cases.model import CaseSummary
from engine.stream.case_reader import DisclosuresReader
from engine.web.auth import disabled_page, is_authorized, sign_in_page, token_of
from engine.web.render import SECURITY_HEADERS, case_page, e, page, queue_page, quote
from schemas import DISPOSITION_ACTIONS

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
    if action not in DISPOSITION_ACTIONS:
        problem = "choose an action"
    elif not reason or not analyst:
        problem = "the analyst and a reason are required"
    message = {
        "case_id": case_id,
        "customer_id": customer_id,
        "action": action,
        "reason": reason[:2000],
        "analyst": analyst[:80],
        "at": now.isoformat(timespec="seconds"),
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


def install_analyst_view(app, settings, store) -> None:
    """The analyst pages on ``app``, over the case ``store`` of the worker's case agents."""
    dispositions_topic = store.dispositions
    token = settings.analyst_token.reveal() if settings.analyst_token else ""
    # The cases of the other workers, from `disclosures` (engine/cases/index.py); only with
    # the view on: a worker whose view is off reads nothing more.
    reader = DisclosuresReader(settings) if token else None
    if reader is not None:

        @app.service
        class CaseQueueService(mode.Service):
            """Follows `disclosures` for the analyst view inside the worker's lifecycle."""

            @mode.Service.task
            async def _follow(self) -> None:
                await reader.run()

            async def on_stop(self) -> None:
                await reader.stop()

    def locate(case_id: str) -> tuple[CaseSummary, bool] | None:
        """The case's queue row and whether it is read from this worker's table."""
        own = store.find(case_id)
        other = reader.index.entry(case_id) if reader else None
        if own is not None and (other is None or own.version >= other.summary.version):
            return own, True
        return (other.summary, False) if other is not None else None

    async def package_of(case_id: str, summary: CaseSummary, is_local: bool) -> dict | None:
        if is_local:
            package = store.package(summary.customer_id)
            if package is not None and package["case_id"] == case_id:
                return package
        return await reader.package(case_id) if reader else None

    def not_found(case_id: str):
        return page("Not found", f"<h1>No case {e(case_id)} in the cluster</h1>")

    class Guarded(faust.web.View):
        def respond(self, text: str, status: int = 200, headers: dict | None = None):
            return self.html(text, status=status, headers={**SECURITY_HEADERS, **(headers or {})})

        def refuse(self, request):
            if not token:
                return self.respond(disabled_page(), status=403)
            if not is_authorized(token_of(request), token):
                return self.respond(
                    sign_in_page(),
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="protect"'},
                )
            return None

    @app.page("/login")
    class Login(Guarded):
        async def get(self, request):
            if not token:
                return self.refuse(request)
            given = request.query.get("token", "")
            if not is_authorized(given, token):
                return self.refuse(request)
            cookie = f"token={given}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"
            target = request.query.get("next", "/cases")
            if not target.startswith("/cases") or "//" in target or "\\" in target:
                target = "/cases"  # never an open redirect
            return self.respond("", status=303, headers={"Location": target, "Set-Cookie": cookie})

    @app.page("/cases")
    class Queue(Guarded):
        async def get(self, request):
            refused = self.refuse(request)
            if refused:
                return refused
            q = request.query
            summaries, local = merge(store.summaries(), reader.index.summaries() if reader else [])
            return self.respond(
                queue_page(
                    summaries,
                    q.get("status", ""),
                    q.get("role", ""),
                    q.get("family", ""),
                    local=local,
                    complete=reader.caught_up if reader else True,
                )
            )

    @app.page("/cases/{case_id}")
    class CasePage(Guarded):
        async def get(self, request, case_id):
            refused = self.refuse(request)
            if refused:
                return refused
            found = locate(case_id)
            package = await package_of(case_id, *found) if found else None
            if package is None:
                return self.respond(not_found(case_id), status=404)
            return self.respond(
                case_page(
                    package,
                    request.query.get("message", ""),
                    origin=LOCAL_ORIGIN if found[1] else TOPIC_ORIGIN,
                )
            )

        async def post(self, request, case_id):
            refused = self.refuse(request)
            if refused:
                return refused
            found = locate(case_id)
            if found is None:
                return self.respond(not_found(case_id), status=404)
            # keyed by the subject: the worker that holds the subject applies it, whichever
            # worker served this form
            summary = found[0]
            form = await request.post()
            message, problem = disposition_message(
                form, case_id, summary.customer_id, datetime.now(UTC)
            )
            action, analyst = message["action"], message["analyst"]
            if problem:
                note = f"Not recorded: {problem}."
            else:
                await dispositions_topic.send(
                    key=summary.customer_id.encode(), value=json.dumps(message).encode()
                )
                note = (
                    f"Recorded: {action} by {analyst[:80]}. The case updates in a moment; reload."
                )
            location = f"/cases/{quote(case_id)}?message={quote(note)}"
            return self.respond("", status=303, headers={"Location": location})

    @app.page("/cases/{case_id}/export")
    class Export(Guarded):
        async def get(self, request, case_id):
            refused = self.refuse(request)
            if refused:
                return refused
            fmt = request.query.get("format", "")
            found = locate(case_id) if fmt in FORMATS else None
            package = await package_of(case_id, *found) if found else None
            if package is None:
                return self.respond(
                    page("Not found", "<h1>No such case or format</h1>"), status=404
                )
            try:
                data = export(package, fmt)
            except ExportValidationError as exc:
                return self.respond(
                    page(
                        "Export invalid",
                        f"<h1>The {e(fmt)} export does not validate</h1><pre>{e(str(exc))}</pre>",
                    ),
                    status=409,
                )
            except DisclosureError as exc:
                return self.respond(page("Export failed", f"<pre>{e(str(exc))}</pre>"), status=409)
            name = f"{case_id}-v{package['version']}.{'json' if fmt == 'fintrac' else 'xml'}"
            kind = "application/json" if fmt == "fintrac" else "application/xml"
            return self.bytes(
                data,
                content_type=kind,
                headers={
                    **SECURITY_HEADERS,
                    "Content-Disposition": f'attachment; filename="{name}"',
                },
            )
