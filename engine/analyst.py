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
the ``disclosures`` topic, which each worker follows (:mod:`engine.case_index`; per case
the higher version of the two wins). A decision on any case goes to ``dispositions`` keyed
by the subject's customer id, so the worker that holds the subject applies it, wherever
the form was sent from; the page shows it once the new package is published. The reader
runs only when the view is on (a token is set).
"""

from __future__ import annotations

import hmac
import html
import json
import math
import urllib.parse
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import faust
import mode

from engine.case_index import DisclosuresReader, merge
from engine.cases import CaseSummary
from engine.disclosure import FORMATS, DisclosureError, ExportValidationError, export
from engine.metrics import CASE_STATUSES, DISPOSITION_ACTIONS
from schemas import FAMILIES, ROLE_HYPOTHESES

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
KIND_COLOURS = {
    "subject": "#b91c1c",
    "account": "#1d4ed8",
    "card": "#2563eb",
    "device": "#7c3aed",
    "ip": "#8b5cf6",
    "email": "#0f766e",
    "phone": "#0d9488",
    "address": "#14b8a6",
    "counterparty": "#c2410c",
    "merchant": "#a16207",
    "cash": "#15803d",
}
ACTION_LABELS = {
    "escalate": "Escalate",
    "file": "File a report (true positive)",
    "close_false_positive": "Close as false positive",
    "needs_information": "Needs information",
    "snooze": "Snooze an indicator for this subject",
}
e = html.escape


def _q(value) -> str:
    return urllib.parse.quote(str(value), safe="")


# ---------------------------------------------------------------------- authentication
def token_of(request) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip()
    return request.cookies.get("token", "")


def is_authorized(given: str, configured: str) -> bool:
    return (
        bool(configured)
        and bool(given)
        and hmac.compare_digest(given.encode(), configured.encode())
    )


# ---------------------------------------------------------------------- pages
def page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2937;background:#f8fafc}}
header{{background:#0f172a;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}}
header a{{color:#cbd5e1;text-decoration:none}} header b{{font-size:16px}}
main{{padding:16px 24px;max-width:1400px}}
h1{{font-size:20px;margin:8px 0}} h2{{font-size:16px;margin:22px 0 8px;border-bottom:1px solid #e2e8f0}}
table{{border-collapse:collapse;width:100%;background:#fff}}
th,td{{border:1px solid #e2e8f0;padding:4px 6px;text-align:left;vertical-align:top}}
th{{background:#f1f5f9}} td.n{{text-align:right;font-variant-numeric:tabular-nums}}
.badge{{display:inline-block;padding:1px 7px;border-radius:9px;background:#e2e8f0;font-size:12px;margin:1px}}
.st-open{{background:#fde68a}} .st-escalated{{background:#fca5a5}} .st-filed{{background:#bbf7d0}}
.st-closed_false_positive{{background:#e5e7eb}} .st-needs_information{{background:#bfdbfe}}
.cards{{display:flex;gap:12px;flex-wrap:wrap}} .card{{background:#fff;border:1px solid #e2e8f0;padding:8px 12px;border-radius:6px}}
.card b{{display:block;font-size:18px}} pre{{white-space:pre-wrap;background:#fff;border:1px solid #e2e8f0;padding:10px}}
.grid{{display:grid;grid-template-columns:1fr 1fr;gap:16px}} .muted{{color:#64748b}}
form.inline{{display:inline}} .btn{{display:inline-block;padding:6px 12px;border-radius:5px;background:#1d4ed8;color:#fff;text-decoration:none;border:0}}
svg{{background:#fff;border:1px solid #e2e8f0;max-width:100%;height:auto}}
details{{margin:2px 0}} .victim{{color:#1d4ed8}} .warn{{color:#b91c1c}}
</style></head><body>
<header><b>Project PROTECT</b><a href="/cases">Case queue</a></header>
<main>{body}</main></body></html>"""


def queue_page(
    summaries,
    status: str = "",
    role: str = "",
    family: str = "",
    *,
    local: frozenset[str] | None = None,
    complete: bool = True,
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
        return f'<label>{e(name)} <select name="{e(name)}"><option value="">any</option>{options}</select></label>'

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
        f'<tr{source(s)}><td><a href="/cases/{_q(s.case_id)}">{e(s.case_id)}</a></td><td class="n">{s.score:g}</td>'
        f'<td><span class="badge st-{e(s.status)}">{e(s.status)}</span></td>'
        f'<td>{e(s.name or "")} <span class="muted">{e(s.customer_id)}</span></td><td>{e(s.role)}</td>'
        f"<td>{' '.join(f'<span class=badge>{e(f)}</span>' for f in s.families)}</td>"
        f'<td class="n">{s.alerts}</td><td class="n">{s.version}</td><td>{e(s.window_end[:10])}</td></tr>'
        for s in rows
    )
    table = (
        (
            "<table id=queue><tr><th>Case</th><th>Score</th><th>Status</th><th>Subject</th><th>Role hypothesis</th>"
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
    )


def case_page(package: dict, message: str = "", origin: str = "") -> str:
    """The case page; ``origin`` (optional) says where the package was read from."""
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
        f'<td>{e(s["relation"])}</td><td class="{"victim" if s["role_hypothesis"] == "possible_victim" else ""}">'
        f"{e(s.get('role_label', s['role_hypothesis']))}"
        f"{'<br><span class=muted>' + e(s['role_note']) + '</span>' if s.get('role_note') else ''}</td>"
        f"<td>{e(s.get('occupation') or '')}</td><td>{e(', '.join(s.get('accounts', [])))}</td>"
        f"<td>{e('; '.join(s.get('link_reasons', [])))}</td></tr>"
        for s in p["subjects"]
    )
    txn_index = {t["txn_id"]: t for t in p["transactions"]}
    indicators = "".join(_indicator(i, txn_index) for i in p["indicators"])
    places = "".join(
        f"<tr><td>{e(pl.get('city') or '')}</td><td>{e(pl.get('province') or '')}</td><td>{e(pl.get('country') or '')}</td>"
        f'<td class="n">{pl["count"]}</td><td class="n">{pl.get("cad", 0):,.2f}</td>'
        f"<td>{e(pl.get('first_date', ''))} → {e(pl.get('last_date', ''))}</td>"
        f"<td>{'home' if pl.get('is_home') else ''}</td></tr>"
        for pl in p.get("places", [])
    )
    txns = "".join(
        f'<tr id="{e(t["txn_id"])}"><td>{e(t["txn_id"])}</td><td>{e(t["ts"])}</td><td>{e(t["txn_type"])}</td>'
        f'<td>{e(t["channel"])}</td><td class="n">{t["amount"]:,.2f} {e(t["currency"])}</td>'
        f"<td>{e(t.get('counterparty_name') or t.get('merchant_name') or '')}</td>"
        f"<td>{e(', '.join(x for x in (t.get('city'), t.get('province'), t.get('country')) if x))}</td>"
        f"<td>{e(', '.join(t.get('indicator_ids', [])))}</td></tr>"
        for t in p["transactions"]
    )
    decisions = "".join(
        f"<tr><td>{e(d['at'])}</td><td>{e(d['analyst'])}</td><td>{e(d['action'])}"
        f"{' ' + e(d['indicator'] or '') + ' until ' + e(d['until'] or '') if d['action'] == 'snooze' else ''}</td>"
        f"<td>{e(d['status_before'])} → {e(d['status_after'])}</td><td>{e(d['reason'])}</td></tr>"
        for d in p.get("decisions", [])
    )
    exports = " ".join(
        f'<a class="btn" href="/cases/{_q(cid)}/export?format={f}" download>'
        f"Download {'FINTRAC STR (JSON)' if f == 'fintrac' else 'goAML (XML)'}</a>"
        for f in FORMATS
    )
    body = f"""
<h1>{e(cid)} <span class="badge st-{e(p["status"])}">{e(p["status"])}</span></h1>
{f'<p class="warn">{e(message)}</p>' if message else ""}
{f'<p class="muted" id="case-source">{e(origin)}</p>' if origin else ""}
<div class="cards">{cards}</div>
<p>{exports}</p>
<h2>Subjects</h2>
<table><tr><th>Subject</th><th>Relation</th><th>Role hypothesis</th><th>Occupation</th><th>Accounts</th><th>Link reasons</th></tr>{subjects}</table>
<h2>Timeline</h2>{timeline_svg(p.get("timeline", []))}
<h2>Indicators and evidence <span class="muted">(open one for its evidence)</span></h2>{indicators}
<h2>Link graph</h2>{graph_svg(p.get("graph", {"nodes": [], "edges": []}))}
<h2>Places</h2>
<table><tr><th>City</th><th>Province</th><th>Country</th><th>Txns</th><th>CAD</th><th>Dates</th><th></th></tr>{places}</table>
<h2>Transactions ({len(p["transactions"])})</h2>
<table id="transactions"><tr><th>Id</th><th>Time (local)</th><th>Type</th><th>Channel</th><th>Amount</th><th>Counterparty / merchant</th><th>Place</th><th>Indicators</th></tr>{txns}</table>
<h2>Narrative draft</h2><pre>{e(p.get("narrative", ""))}</pre>
<h2>Decisions</h2>
{f"<table><tr><th>When</th><th>Analyst</th><th>Action</th><th>Status</th><th>Reason</th></tr>{decisions}</table>" if decisions else "<p class=muted>No decision yet.</p>"}
{disposition_form(p)}
"""
    return page(f"{cid} · Project PROTECT", body)


def _indicator(i: dict, txn_index: dict) -> str:
    evidence = i.get("evidence_txn_ids", [])
    rows = "".join(
        f'<tr><td><a href="#{e(t)}">{e(t)}</a></td><td>{e(txn_index[t]["ts"]) if t in txn_index else ""}</td>'
        f"<td>{e(txn_index[t]['txn_type']) if t in txn_index else ''}</td>"
        f'<td class="n">{txn_index[t]["amount"]:,.2f}</td></tr>'
        if t in txn_index
        else f"<tr><td>{e(t)}</td><td colspan=3 class=muted>not in the package</td></tr>"
        for t in evidence
    )
    profile = "".join(
        f"<li>{e(json.dumps(x, ensure_ascii=False))}</li>" for x in i.get("profile_evidence", [])
    )
    return f"""<details><summary><b>{e(i["id"])}</b> {e(i["title"])} <span class=badge>{e(i["family"])}</span>
observed {e(_num(i.get("observed")))} vs threshold {e(_num(i.get("threshold")))} over {e(str(i.get("window", "")))}
· {len(evidence)} evidence transactions</summary>
<p class=muted>{e(i.get("description", ""))}</p>
<p>Sources: {e(", ".join(i.get("sources", [])))}</p>
{f"<ul>{profile}</ul>" if profile else ""}
{f"<table><tr><th>Evidence</th><th>Time</th><th>Type</th><th>Amount</th></tr>{rows}</table>" if rows else ""}
</details>"""


def _num(value) -> str:
    return f"{value:,.6g}" if isinstance(value, int | float) else str(value)


def disposition_form(p: dict) -> str:
    if p["status"] in ("filed", "closed_false_positive"):
        return "<h2>Disposition</h2><p class=muted>This case is decided.</p>"
    options = "".join(
        f'<option value="{a}">{e(ACTION_LABELS[a])}</option>' for a in DISPOSITION_ACTIONS
    )
    indicators = "".join(
        f'<option value="{e(i["id"])}">{e(i["id"])} {e(i["title"])}</option>'
        for i in p["indicators"]
    )
    return f"""<h2>Disposition</h2>
<form method="post" action="/cases/{_q(p["case_id"])}" id="disposition">
<input type="hidden" name="version" value="{p["version"]}">
<p><label>Action <select name="action">{options}</select></label>
<label>Analyst <input name="analyst" required maxlength="80"></label></p>
<p><label>Reason<br><textarea name="reason" required rows="3" cols="80" maxlength="2000"></textarea></label></p>
<p><label>Snooze: indicator <select name="indicator"><option value=""></option>{indicators}</select></label>
<label>for <input name="snooze_days" type="number" min="1" max="365" value="30"> days</label></p>
<p><button class="btn" type="submit">Record decision</button></p></form>"""


# ---------------------------------------------------------------------- charts (inline SVG)
def timeline_svg(timeline: list[dict], width: int = 1100, height: int = 260) -> str:
    days = [t for t in timeline if t["kind"] == "transactions"]
    marks = [t for t in timeline if t["kind"] in ("indicator", "alert")]
    if not days:
        return '<svg id="timeline-chart" role="img" width="400" height="40"><text x="10" y="25">No dated transactions</text></svg>'
    first = datetime.fromisoformat(min(t["date"] for t in timeline))
    last = datetime.fromisoformat(max(t["date"] for t in timeline))
    span = max((last - first).days, 1)
    left, right, top, mid, bottom = 70, 20, 40, 150, 230
    x = lambda date: (
        left + (datetime.fromisoformat(date) - first).days / span * (width - left - right)
    )  # noqa: E731
    peak = max(max(d["in_cad"], d["out_cad"]) for d in days) or 1
    bar = max(2.0, (width - left - right) / (span + 1) * 0.7)
    parts = [
        f'<svg id="timeline-chart" role="img" aria-label="Timeline" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f'<line x1="{left}" y1="{mid}" x2="{width - right}" y2="{mid}" stroke="#94a3b8"/>',
        f'<text x="4" y="{top + 30}" font-size="11" fill="#15803d">in CAD</text>',
        f'<text x="4" y="{mid + 40}" font-size="11" fill="#b91c1c">out CAD</text>',
        f'<text x="4" y="{top + 10}" font-size="10" fill="#64748b">{peak:,.0f}</text>',
    ]
    scale = (mid - top - 10) / peak
    for d in days:
        cx = x(d["date"]) - bar / 2
        tip = e(
            f"{d['date']}: {d['count']} txns, in {d['in_cad']:,.2f}, out {d['out_cad']:,.2f} CAD"
        )
        if d["in_cad"]:
            h = d["in_cad"] * scale
            parts.append(
                f'<rect x="{cx:.1f}" y="{mid - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="#22c55e"><title>{tip}</title></rect>'
            )
        if d["out_cad"]:
            h = min(d["out_cad"] * scale, bottom - mid - 15)
            parts.append(
                f'<rect x="{cx:.1f}" y="{mid:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="#ef4444"><title>{tip}</title></rect>'
            )
    stacked: dict[str, int] = defaultdict(int)
    for m in marks:
        cx = x(m["date"])
        level = stacked[m["date"]]
        stacked[m["date"]] += 1
        if m["kind"] == "alert":
            tip = e(
                f"{m['date']} alert {m['alert_id']} score {m['score']:g}: {m.get('trigger', '')}"
            )
            parts.append(
                f'<path d="M{cx:.1f},{top - 26 + level * 2} l6,10 h-12 z" fill="#b91c1c"><title>{tip}</title></path>'
            )
        else:
            tip = e(f"{m['date']} {m['indicator_id']} first fired: {m.get('title', '')}")
            y = bottom + 8 - min(level, 4) * 9
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{y}" r="4" fill="#7c3aed"><title>{tip}</title></circle>'
            )
            if level < 1:
                parts.append(
                    f'<text x="{cx + 6:.1f}" y="{y + 4}" font-size="9" fill="#7c3aed">{e(m["indicator_id"])}</text>'
                )
    step = max(1, span // 10)
    for k in range(0, span + 1, step):
        date = (first + timedelta(days=k)).date().isoformat()
        parts.append(
            f'<text x="{x(date):.1f}" y="{height - 4}" font-size="10" text-anchor="middle" fill="#475569">{date[5:]}</text>'
        )
    parts.append(
        f'<text x="{width - right}" y="14" font-size="11" text-anchor="end" fill="#334155">'
        "▲ alert · ● indicator first fired · bars: daily CAD in (up) / out (down)</text></svg>"
    )
    return "".join(parts)


def graph_svg(graph: dict, width: int = 1100, height: int = 760) -> str:
    """The link graph: subjects in the centre, their accounts, cards, devices and identifiers
    on an inner ring, counterparties, merchants and cash on the outer ring (by kind)."""
    nodes, edges = graph.get("nodes", []), graph.get("edges", [])
    cx, cy = width / 2, height / 2
    subjects = [n for n in nodes if n["kind"] == "subject"]
    subject_ids = {n["id"] for n in subjects}
    neighbours: dict[str, list[str]] = defaultdict(list)
    for ed in edges:
        neighbours[ed["source"]].append(ed["target"])
        neighbours[ed["target"]].append(ed["source"])
    near = {m for s in subject_ids for m in neighbours[s]} | {
        m
        for s in subject_ids
        for a in neighbours[s]
        for m in neighbours[a]
        if a.startswith("account:") and m.split(":")[0] in ("card", "device", "ip")
    }
    inner = sorted(
        (n for n in nodes if n["id"] in near and n["id"] not in subject_ids),
        key=lambda n: (n["kind"], n["id"]),
    )
    outer = [n for n in nodes if n["id"] not in near and n["id"] not in subject_ids]

    def anchor(n):  # a counterparty's e-mail or phone sits beside the counterparty
        if n["kind"] in ("email", "phone", "address"):
            party = next((m for m in neighbours[n["id"]] if m.startswith("counterparty:")), None)
            if party:
                return (party, 1, n["id"])
        return (n["id"], 0, "")

    outer.sort(key=anchor)
    pos: dict[str, tuple[float, float]] = {}
    for k, n in enumerate(subjects):
        angle = 2 * math.pi * k / max(len(subjects), 1)
        r = 0 if len(subjects) == 1 else 60
        pos[n["id"]] = (cx + r * math.cos(angle), cy + r * math.sin(angle))
    for ring, radius in ((inner, 150), (outer, 330)):
        for k, n in enumerate(ring):
            angle = 2 * math.pi * k / max(len(ring), 1) - math.pi / 2
            pos[n["id"]] = (cx + radius * 1.3 * math.cos(angle), cy + radius * math.sin(angle))
    flows = [ed.get("cad") or 0 for ed in edges if ed.get("kind") == "funds"]
    biggest = max(flows or [1]) or 1
    parts = [
        f'<svg id="link-graph" role="img" aria-label="Link graph" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="5" markerHeight="5" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#94a3b8"/></marker></defs>',
    ]
    for ed in edges:
        if ed["source"] not in pos or ed["target"] not in pos:
            continue
        (x1, y1), (x2, y2) = pos[ed["source"]], pos[ed["target"]]
        if ed.get("kind") == "funds":
            w = 0.8 + 4 * math.sqrt((ed.get("cad") or 0) / biggest)
            tip = e(
                f"{ed.get('count', '')} × {', '.join(ed.get('txn_types', []))}: CAD {ed.get('cad') or 0:,.2f}"
            )
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#94a3b8" '
                f'stroke-width="{w:.1f}" marker-end="url(#arrow)"><title>{tip}</title></line>'
            )
        else:
            dash = ' stroke-dasharray="4 3"' if ed.get("kind") in ("identifier", "linked") else ""
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#cbd5e1" '
                f'stroke-width="1"{dash}><title>{e(ed.get("kind", ""))}</title></line>'
            )
    label_outer = len(outer) <= 40
    for n in nodes:
        if n["id"] not in pos:
            continue
        x, y = pos[n["id"]]
        colour = KIND_COLOURS.get(n["kind"], "#475569")
        r = 14 if n["kind"] == "subject" else 6
        tip = e(
            f"{n['kind']}: {n.get('label', n['id'])}"
            + (f" ({n['role_label']})" if n.get("role_label") else "")
        )
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}" stroke="#fff"><title>{tip}</title></circle>'
        )
        if n["kind"] == "subject" or n in inner or label_outer:
            label = str(n.get("label", n["id"]))
            label = label if len(label) <= 26 else label[:24] + "…"
            anchor = "start" if x >= cx else "end"
            dx = r + 3 if x >= cx else -(r + 3)
            weight = ' font-weight="bold"' if n["kind"] == "subject" else ""
            parts.append(
                f'<text x="{x + dx:.1f}" y="{y + 3:.1f}" font-size="{12 if n["kind"] == "subject" else 9}" '
                f'text-anchor="{anchor}" fill="#1f2937"{weight}>{e(label)}</text>'
            )
    kinds = sorted({n["kind"] for n in nodes})
    for k, kind in enumerate(kinds):
        parts.append(
            f'<circle cx="16" cy="{18 + k * 16}" r="5" fill="{KIND_COLOURS.get(kind, "#475569")}"/>'
            f'<text x="26" y="{22 + k * 16}" font-size="11">{e(kind)}</text>'
        )
    parts.append(
        f'<text x="{width - 10}" y="{height - 10}" font-size="11" text-anchor="end" fill="#475569">'
        f"{len(nodes)} nodes · {len(edges)} links · arrows: funds (width by CAD) · dashed: shared identifiers"
        f"{'' if label_outer else ' · hover a node for its name'}</text></svg>"
    )
    return "".join(parts)


# ---------------------------------------------------------------------- Faust views
LOCAL_ORIGIN = "Read from this worker's case table (the freshest copy)."
TOPIC_ORIGIN = (
    "Read from the disclosures topic: another worker holds this case and applies the "
    "decisions recorded here."
)


def install_analyst_view(app, settings, store, dispositions_topic) -> None:
    token = settings.analyst_token.reveal() if settings.analyst_token else ""
    # The cases of the other workers, from `disclosures` (engine/case_index.py); only with
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
                return self.respond(
                    page(
                        "Analyst view disabled",
                        (
                            "<h1>Analyst view disabled</h1><p>The operator has not configured an analyst token "
                            "(setting <code>analyst_token</code>, environment <code>PROTECT_ANALYST_TOKEN</code>), so no "
                            "case data is served.</p>"
                        ),
                    ),
                    status=403,
                )
            if not is_authorized(token_of(request), token):
                return self.respond(
                    page(
                        "Sign-in required",
                        (
                            "<h1>Sign-in required</h1><p>This page needs the analyst token: open "
                            "<code>/login?token=…</code> or send <code>Authorization: Bearer …</code>.</p>"
                        ),
                    ),
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
            action = form.get("action", "")
            reason, analyst = form.get("reason", "").strip(), form.get("analyst", "").strip()
            problem = ""
            if action not in DISPOSITION_ACTIONS:
                problem = "choose an action"
            elif not reason or not analyst:
                problem = "the analyst and a reason are required"
            now = datetime.now(UTC)
            message = {
                "case_id": case_id,
                "customer_id": summary.customer_id,
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
            if problem:
                note = f"Not recorded: {problem}."
            else:
                await dispositions_topic.send(
                    key=summary.customer_id.encode(), value=json.dumps(message).encode()
                )
                note = (
                    f"Recorded: {action} by {analyst[:80]}. The case updates in a moment; reload."
                )
            location = f"/cases/{_q(case_id)}?message={_q(note)}"
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
