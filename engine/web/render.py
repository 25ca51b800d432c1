"""The analyst view's pages as HTML strings: the queue, the case page, the disposition form.

Pure functions of summaries and packages, so the pages are tested without a server. Every
value from a case goes through :func:`html.escape`; the pages carry a Content-Security-
Policy that allows no script at all (:data:`SECURITY_HEADERS`).
"""

from __future__ import annotations

import html
import json
import urllib.parse

from engine.cases.disclosure import FORMATS
from engine.web.charts import graph_svg, timeline_svg
from schemas import CASE_STATUSES, DISPOSITION_ACTIONS, FAMILIES, ROLE_HYPOTHESES

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
ACTION_LABELS = {
    "escalate": "Escalate",
    "file": "File a report (true positive)",
    "close_false_positive": "Close as false positive",
    "needs_information": "Needs information",
    "snooze": "Snooze an indicator for this subject",
}
e = html.escape


def quote(value) -> str:
    return urllib.parse.quote(str(value), safe="")


def page(title: str, body: str, analyst: str = "", csrf: str = "") -> str:
    """A whole page; with an ``analyst`` (a session), the header names them and carries the
    sign-out form (a POST with the session's ``csrf`` token)."""
    signed_in = (
        f'<span class="who">{e(analyst)}</span><form method="post" action="/logout" '
        f'class="inline" id="logout"><input type="hidden" name="csrf" value="{e(csrf)}">'
        '<button class="btn" type="submit">Sign out</button></form>'
        if analyst
        else ""
    )
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<style>\n"
        'body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;'
        "color:#1f2937;background:#f8fafc}\n"
        "header{background:#0f172a;color:#fff;padding:10px 24px;display:flex;gap:24px;"
        "align-items:center}\n"
        "header a{color:#cbd5e1;text-decoration:none} header b{font-size:16px}\n"
        "main{padding:16px 24px;max-width:1400px}\n"
        "h1{font-size:20px;margin:8px 0} "
        "h2{font-size:16px;margin:22px 0 8px;border-bottom:1px solid #e2e8f0}\n"
        "table{border-collapse:collapse;width:100%;background:#fff}\n"
        "th,td{border:1px solid #e2e8f0;padding:4px 6px;text-align:left;vertical-align:top}\n"
        "th{background:#f1f5f9} td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
        ".badge{display:inline-block;padding:1px 7px;border-radius:9px;background:#e2e8f0;"
        "font-size:12px;margin:1px}\n"
        ".st-open{background:#fde68a} .st-escalated{background:#fca5a5} "
        ".st-filed{background:#bbf7d0}\n"
        ".st-closed_false_positive{background:#e5e7eb} .st-needs_information{background:#bfdbfe}\n"
        ".cards{display:flex;gap:12px;flex-wrap:wrap} "
        ".card{background:#fff;border:1px solid #e2e8f0;padding:8px 12px;border-radius:6px}\n"
        ".card b{display:block;font-size:18px} "
        "pre{white-space:pre-wrap;background:#fff;border:1px solid #e2e8f0;padding:10px}\n"
        ".grid{display:grid;grid-template-columns:1fr 1fr;gap:16px} .muted{color:#64748b}\n"
        "form.inline{display:inline} "
        ".btn{display:inline-block;padding:6px 12px;border-radius:5px;background:#1d4ed8;"
        "color:#fff;text-decoration:none;border:0}\n"
        "svg{background:#fff;border:1px solid #e2e8f0;max-width:100%;height:auto}\n"
        "header .who{margin-left:auto;color:#fff}\n"
        "details{margin:2px 0} .victim{color:#1d4ed8} .warn{color:#b91c1c}\n"
        "</style></head><body>\n"
        '<header><b>Project PROTECT</b><a href="/cases">Case queue</a>'
        f"{signed_in}</header>\n"
        f"<main>{body}</main></body></html>"
    )


def queue_page(
    summaries,
    status: str = "",
    role: str = "",
    family: str = "",
    *,
    local: frozenset[str] | None = None,
    complete: bool = True,
    analyst: str = "",
    csrf: str = "",
) -> str:
    """The queue. ``local``: ids of the cases read from this worker's tables (the others come
    from the ``disclosures`` topic); None for a queue of one worker's cases only.
    ``complete``: False while the topic is still being read after start-up."""
    rows = [
        s
        for s in summaries
        if (not status or s.status == status)
        and (not role or s.role == role)
        and (not family or family in s.families)
    ]
    rows.sort(key=lambda s: (-s.score, s.case_id))

    def select(name, current, values):
        options = "".join(
            f'<option value="{e(v)}"{" selected" if v == current else ""}>{e(v)}</option>'
            for v in values
        )
        return (
            f'<label>{e(name)} <select name="{e(name)}">'
            f'<option value="">any</option>{options}</select></label>'
        )

    filters = (
        f'<form method="get" action="/cases">{select("status", status, CASE_STATUSES)} '
        f"{select('role', role, ROLE_HYPOTHESES)} {select('family', family, FAMILIES)} "
        f'<button class="btn" type="submit">Filter</button></form>'
    )

    def source(s) -> str:  # where the row was read from, for tools and tests
        if local is None:
            return ""
        return f' data-source="{"local" if s.case_id in local else "topic"}"'

    body = "".join(
        f'<tr{source(s)}><td><a href="/cases/{quote(s.case_id)}">{e(s.case_id)}</a></td>'
        f'<td class="n">{s.score:g}</td>'
        f'<td><span class="badge st-{e(s.status)}">{e(s.status)}</span></td>'
        f'<td>{e(s.name or "")} <span class="muted">{e(s.customer_id)}</span></td>'
        f"<td>{e(s.role)}</td>"
        f"<td>{' '.join(f'<span class=badge>{e(f)}</span>' for f in s.families)}</td>"
        f'<td class="n">{s.alerts}</td><td class="n">{s.version}</td>'
        f"<td>{e(s.window_end[:10])}</td></tr>"
        for s in rows
    )
    table = (
        (
            "<table id=queue><tr><th>Case</th><th>Score</th><th>Status</th><th>Subject</th>"
            "<th>Role hypothesis</th>"
            "<th>Families</th><th>Alerts</th><th>Version</th><th>Latest evidence</th></tr>"
            f"{body}</table>"
        )
        if rows
        else "<p>No case matches.</p>"
    )
    if local is None:
        where = f"{len(rows)} of {len(summaries)} cases, highest score first."
    else:
        own = sum(s.case_id in local for s in summaries)
        where = (
            f"{len(rows)} of {len(summaries)} cases across the cluster, highest score first "
            f"({own} from this worker's case tables, {len(summaries) - own} read from the "
            "disclosures topic)."
        )
    reading = (
        ""
        if complete
        else "<p class=warn>Still reading the cases of the other workers: the list may be "
        "incomplete; reload in a moment.</p>"
    )
    return page(
        "Case queue",
        f"<h1>Case queue</h1><p class=muted id=queue-source>{where}</p>{reading}"
        f"{filters}<br>{table}",
        analyst,
        csrf,
    )


def case_page(
    package: dict, message: str = "", origin: str = "", analyst: str = "", csrf: str = ""
) -> str:
    """The case page; ``origin`` (optional) says where the package was read from;
    ``analyst`` and ``csrf``: the session's, for the forms (none: a bearer reader)."""
    p = package
    cid = p["case_id"]
    summary = p.get("summary", {})
    cards = "".join(
        f'<div class="card">{e(label)}<b>{e(str(value))}</b></div>'
        for label, value in (
            ("Score", f"{p['score']:g}"),
            ("Status", p["status"]),
            ("Version", p["version"]),
            ("Transactions", summary.get("transactions", len(p["transactions"]))),
            ("Total CAD", f"{summary.get('total_cad', 0):,.2f}"),
            ("Alerts", len(p.get("alerts", []))),
            ("Window", f"{summary.get('first_date', '')} → {summary.get('last_date', '')}"),
        )
    )
    subjects = "".join(
        f"<tr><td>{e(s.get('name') or '')}<br><span class=muted>{e(s['customer_id'])}</span></td>"
        f'<td>{e(s["relation"])}</td>'
        f'<td class="{"victim" if s["role_hypothesis"] == "possible_victim" else ""}">'
        f"{e(s.get('role_label', s['role_hypothesis']))}"
        f"{'<br><span class=muted>' + e(s['role_note']) + '</span>' if s.get('role_note') else ''}"
        "</td>"
        f"<td>{e(s.get('occupation') or '')}</td><td>{e(', '.join(s.get('accounts', [])))}</td>"
        f"<td>{e('; '.join(s.get('link_reasons', [])))}</td></tr>"
        for s in p["subjects"]
    )
    txn_index = {t["txn_id"]: t for t in p["transactions"]}
    indicators = "".join(_indicator(i, txn_index) for i in p["indicators"])
    places = "".join(
        f"<tr><td>{e(pl.get('city') or '')}</td><td>{e(pl.get('province') or '')}</td>"
        f"<td>{e(pl.get('country') or '')}</td>"
        f'<td class="n">{pl["count"]}</td><td class="n">{pl.get("cad", 0):,.2f}</td>'
        f"<td>{e(pl.get('first_date', ''))} → {e(pl.get('last_date', ''))}</td>"
        f"<td>{'home' if pl.get('is_home') else ''}</td></tr>"
        for pl in p.get("places", [])
    )
    txns = "".join(
        f'<tr id="{e(t["txn_id"])}"><td>{e(t["txn_id"])}</td><td>{e(t["ts"])}</td>'
        f'<td>{e(t["txn_type"])}</td>'
        f'<td>{e(t["channel"])}</td><td class="n">{t["amount"]:,.2f} {e(t["currency"])}</td>'
        f"<td>{e(t.get('counterparty_name') or t.get('merchant_name') or '')}</td>"
        "<td>"
        f"{e(', '.join(x for x in (t.get('city'), t.get('province'), t.get('country')) if x))}"
        "</td>"
        f"<td>{e(', '.join(t.get('indicator_ids', [])))}</td></tr>"
        for t in p["transactions"]
    )
    decisions = "".join(
        f"<tr><td>{e(d['at'])}</td><td>{e(d['analyst'])}</td><td>{e(d['action'])}"
        f"""{
            " " + e(d["indicator"] or "") + " until " + e(d["until"] or "")
            if d["action"] == "snooze"
            else ""
        }</td>"""
        f"<td>{e(d['status_before'])} → {e(d['status_after'])}</td><td>{e(d['reason'])}</td></tr>"
        for d in p.get("decisions", [])
    )
    exports = " ".join(
        f'<a class="btn" href="/cases/{quote(cid)}/export?format={f}" download>'
        f"Download {'FINTRAC STR (JSON)' if f == 'fintrac' else 'goAML (XML)'}</a>"
        for f in FORMATS
    )
    body = (
        f"""
<h1>{e(cid)} <span class="badge st-{e(p["status"])}">{e(p["status"])}</span></h1>
{f'<p class="warn">{e(message)}</p>' if message else ""}
{f'<p class="muted" id="case-source">{e(origin)}</p>' if origin else ""}
<div class="cards">{cards}</div>
<p>{exports}</p>
<h2>Subjects</h2>
<table><tr><th>Subject</th><th>Relation</th><th>Role hypothesis</th><th>Occupation</th>"""
        "<th>Accounts</th><th>Link reasons</th></tr>"
        f"""{subjects}</table>
<h2>Timeline</h2>{timeline_svg(p.get("timeline", []))}
<h2>Indicators and evidence <span class="muted">(open one for its evidence)</span></h2>{indicators}
<h2>Link graph</h2>{graph_svg(p.get("graph", {"nodes": [], "edges": []}))}
<h2>Places</h2>
<table><tr><th>City</th><th>Province</th><th>Country</th><th>Txns</th><th>CAD</th><th>Dates</th><th></th></tr>{places}</table>
<h2>Transactions ({len(p["transactions"])})</h2>
<table id="transactions"><tr><th>Id</th><th>Time (local)</th><th>Type</th><th>Channel</th>"""
        "<th>Amount</th><th>Counterparty / merchant</th><th>Place</th><th>Indicators</th></tr>"
        f"""{txns}</table>
<h2>Narrative draft</h2><pre>{e(p.get("narrative", ""))}</pre>
<h2>Decisions</h2>
{
    "<table><tr><th>When</th><th>Analyst</th><th>Action</th><th>Status</th><th>Reason</th></tr>"
    f"{decisions}</table>"
    if decisions
    else "<p class=muted>No decision yet.</p>"
}
{disposition_form(p, analyst, csrf)}
"""
    )
    return page(f"{cid} · Project PROTECT", body, analyst, csrf)


def _indicator(i: dict, txn_index: dict) -> str:
    evidence = i.get("evidence_txn_ids", [])
    rows = "".join(
        f'<tr><td><a href="#{e(t)}">{e(t)}</a></td>'
        f'<td>{e(txn_index[t]["ts"]) if t in txn_index else ""}</td>'
        f"<td>{e(txn_index[t]['txn_type']) if t in txn_index else ''}</td>"
        f'<td class="n">{txn_index[t]["amount"]:,.2f}</td></tr>'
        if t in txn_index
        else f"<tr><td>{e(t)}</td><td colspan=3 class=muted>not in the package</td></tr>"
        for t in evidence
    )
    profile = "".join(
        f"<li>{e(json.dumps(x, ensure_ascii=False))}</li>" for x in i.get("profile_evidence", [])
    )
    return (
        f"""<details><summary><b>{e(i["id"])}</b> {e(i["title"])} """
        f"""<span class=badge>{e(i["family"])}</span>
observed {e(_num(i.get("observed")))} vs threshold {e(_num(i.get("threshold")))} """
        f"""over {e(str(i.get("window", "")))}
· {len(evidence)} evidence transactions</summary>
<p class=muted>{e(i.get("description", ""))}</p>
<p>Sources: {e(", ".join(i.get("sources", [])))}</p>
{f"<ul>{profile}</ul>" if profile else ""}
{
    "<table><tr><th>Evidence</th><th>Time</th><th>Type</th><th>Amount</th></tr>"
    f"{rows}</table>"
    if rows
    else ""
}
</details>"""
    )


def _num(value) -> str:
    return f"{value:,.6g}" if isinstance(value, int | float) else str(value)


def disposition_form(p: dict, analyst: str = "", csrf: str = "") -> str:
    """The decision form. Who decides is the session's analyst, never a form field."""
    if p["status"] in ("filed", "closed_false_positive"):
        return "<h2>Disposition</h2><p class=muted>This case is decided.</p>"
    options = "".join(
        f'<option value="{a}">{e(ACTION_LABELS[a])}</option>' for a in DISPOSITION_ACTIONS
    )
    indicators = "".join(
        f'<option value="{e(i["id"])}">{e(i["id"])} {e(i["title"])}</option>'
        for i in p["indicators"]
    )
    who = (
        f"Recorded as <b>{e(analyst)}</b> (your sign-in)."
        if analyst
        else "<span class=warn>Sign in as an analyst to record a decision.</span>"
    )
    return (
        f"""<h2>Disposition</h2>
<form method="post" action="/cases/{quote(p["case_id"])}" id="disposition">
<input type="hidden" name="version" value="{e(str(p["version"]))}">
<input type="hidden" name="csrf" value="{e(csrf)}">
<p>{who}</p>
<p><label>Action <select name="action">{options}</select></label></p>
<p><label>Reason<br>"""
        '<textarea name="reason" required rows="3" cols="80" maxlength="2000"></textarea>'
        """</label></p>
<p><label>Snooze: indicator <select name="indicator">"""
        f"""<option value=""></option>{indicators}</select></label>
<label>for <input name="snooze_days" type="number" min="1" max="365" value="30"> days</label></p>
<p><button class="btn" type="submit">Record decision</button></p></form>"""
    )
