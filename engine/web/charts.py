"""Inline SVG charts for the case page: the timeline and the link graph (no scripts, no CDN).

Every label goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from datetime import datetime, timedelta

e = html.escape

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


def timeline_svg(timeline: list[dict], width: int = 1100, height: int = 260) -> str:
    days = [t for t in timeline if t["kind"] == "transactions"]
    marks = [t for t in timeline if t["kind"] in ("indicator", "alert")]
    if not days:
        return (
            '<svg id="timeline-chart" role="img" width="400" height="40">'
            '<text x="10" y="25">No dated transactions</text></svg>'
        )
    first = datetime.fromisoformat(min(t["date"] for t in timeline))
    last = datetime.fromisoformat(max(t["date"] for t in timeline))
    span = max((last - first).days, 1)
    left, right, top, mid, bottom = 70, 20, 40, 150, 230

    def x(date):
        return left + (datetime.fromisoformat(date) - first).days / span * (width - left - right)

    peak = max(max(d["in_cad"], d["out_cad"]) for d in days) or 1
    bar = max(2.0, (width - left - right) / (span + 1) * 0.7)
    parts = [
        '<svg id="timeline-chart" role="img" aria-label="Timeline" '
        'xmlns="http://www.w3.org/2000/svg" '
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
                f'<rect x="{cx:.1f}" y="{mid - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="#22c55e"><title>{tip}</title></rect>'
            )
        if d["out_cad"]:
            h = min(d["out_cad"] * scale, bottom - mid - 15)
            parts.append(
                f'<rect x="{cx:.1f}" y="{mid:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="#ef4444"><title>{tip}</title></rect>'
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
                f'<path d="M{cx:.1f},{top - 26 + level * 2} l6,10 h-12 z" fill="#b91c1c">'
                f"<title>{tip}</title></path>"
            )
        else:
            tip = e(f"{m['date']} {m['indicator_id']} first fired: {m.get('title', '')}")
            y = bottom + 8 - min(level, 4) * 9
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{y}" r="4" fill="#7c3aed"><title>{tip}</title></circle>'
            )
            if level < 1:
                parts.append(
                    f'<text x="{cx + 6:.1f}" y="{y + 4}" font-size="9" fill="#7c3aed">'
                    f'{e(m["indicator_id"])}</text>'
                )
    step = max(1, span // 10)
    for k in range(0, span + 1, step):
        date = (first + timedelta(days=k)).date().isoformat()
        parts.append(
            f'<text x="{x(date):.1f}" y="{height - 4}" font-size="10" text-anchor="middle" '
            f'fill="#475569">{date[5:]}</text>'
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
        '<svg id="link-graph" role="img" aria-label="Link graph" '
        'xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="5" markerHeight="5" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#94a3b8"/></marker></defs>',
    ]
    for ed in edges:
        if ed["source"] not in pos or ed["target"] not in pos:
            continue
        (x1, y1), (x2, y2) = pos[ed["source"]], pos[ed["target"]]
        if ed.get("kind") == "funds":
            w = 0.8 + 4 * math.sqrt((ed.get("cad") or 0) / biggest)
            tip = e(
                f"{ed.get('count', '')} × {', '.join(ed.get('txn_types', []))}: "
                f"CAD {ed.get('cad') or 0:,.2f}"
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
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}" stroke="#fff">'
            f"<title>{tip}</title></circle>"
        )
        if n["kind"] == "subject" or n in inner or label_outer:
            label = str(n.get("label", n["id"]))
            label = label if len(label) <= 26 else label[:24] + "…"
            anchor = "start" if x >= cx else "end"
            dx = r + 3 if x >= cx else -(r + 3)
            weight = ' font-weight="bold"' if n["kind"] == "subject" else ""
            parts.append(
                f'<text x="{x + dx:.1f}" y="{y + 3:.1f}" '
                f'font-size="{12 if n["kind"] == "subject" else 9}" '
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
        f"{len(nodes)} nodes · {len(edges)} links · arrows: funds (width by CAD) · "
        "dashed: shared identifiers"
        f"{'' if label_outer else ' · hover a node for its name'}</text></svg>"
    )
    return "".join(parts)
