"""When and where: the timeline (days, indicator firings, alerts) and the places table.

Dates are *local* dates at the place of the transaction (the offset in ``ts``), which is
what FINTRAC's ``dateOfTransaction`` and the late-night indicators use.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from engine.cases.disclosure.common import cad, direction, parse_ts, round2
from schemas import Alert, Transaction


def local_date(ts: datetime) -> str:
    return ts.date().isoformat()


def build_timeline(
    alerts: tuple[Alert, ...], txns: list[Transaction], indicators: list[dict]
) -> list[dict]:
    """Dated events, oldest first: one ``transactions`` entry per local day, each
    indicator's first firing, and each alert (at its trigger transaction's local time)."""
    days: dict[str, dict] = {}
    for t in txns:
        day = days.setdefault(
            local_date(t.ts),
            {
                "kind": "transactions",
                "date": local_date(t.ts),
                "ts": t.ts.isoformat(),
                "count": 0,
                "in_cad": Decimal(0),
                "out_cad": Decimal(0),
                "by_type": {},
                "cities": [],
                "txn_ids": [],
            },
        )
        day["count"] += 1
        flow = direction(t.txn_type)
        if flow in ("in", "out"):
            day[f"{flow}_cad"] += cad(t) or 0
        day["by_type"][t.txn_type] = day["by_type"].get(t.txn_type, 0) + 1
        if t.city and t.city not in day["cities"]:
            day["cities"].append(t.city)
        day["txn_ids"].append(t.txn_id)
    events: list[dict] = []
    for day in days.values():
        day["in_cad"], day["out_cad"] = round2(day["in_cad"]), round2(day["out_cad"])
        events.append(day)
    local = {t.txn_id: t.ts for t in txns}
    when = {a.alert_id: local.get(a.trigger_txn_id) or parse_ts(a.window_end) for a in alerts}
    for ind in indicators:
        ts = when[ind["first_alert_id"]]
        events.append(
            {
                "kind": "indicator",
                "date": local_date(ts),
                "ts": ts.isoformat(),
                "indicator_id": ind["id"],
                "title": ind["title"],
                "family": ind["family"],
                "alert_id": ind["first_alert_id"],
            }
        )
    for a in alerts:
        ts = when[a.alert_id]
        events.append(
            {
                "kind": "alert",
                "date": local_date(ts),
                "ts": ts.isoformat(),
                "alert_id": a.alert_id,
                "customer_id": a.customer_id,
                "score": a.score,
                "families": list(a.families),
                "role_hypothesis": a.role_hypothesis,
                "trigger": a.trigger,
            }
        )
    rank = {"transactions": 0, "indicator": 1, "alert": 2}
    return sorted(
        events,
        key=lambda e: (
            e["date"],
            rank[e["kind"]],
            e["ts"],
            e.get("indicator_id", ""),
            e.get("alert_id", ""),
        ),
    )


def build_places(txns: list[Transaction], subjects: list[dict]) -> list[dict]:
    """Cities with counts, CAD totals, local date ranges and whether a subject lives there."""
    homes = {(s["home_city"] or "").casefold() for s in subjects if s.get("home_city")}
    places: dict[tuple, dict] = {}
    for t in txns:
        if not t.city:
            continue
        key = (t.city.casefold(), (t.province or "").upper(), (t.country or "").upper())
        p = places.setdefault(
            key,
            {
                "city": t.city,
                "province": t.province,
                "country": t.country,
                "count": 0,
                "cad": Decimal(0),
                "first_date": local_date(t.ts),
                "last_date": local_date(t.ts),
                "by_type": {},
                "locations": [],
                "is_home": key[0] in homes,
                "subjects": [],
            },
        )
        p["count"] += 1
        p["cad"] += cad(t) or 0
        p["first_date"] = min(p["first_date"], local_date(t.ts))
        p["last_date"] = max(p["last_date"], local_date(t.ts))
        p["by_type"][t.txn_type] = p["by_type"].get(t.txn_type, 0) + 1
        if t.location_id and t.location_id not in p["locations"]:
            p["locations"].append(t.location_id)
        if t.customer_id not in p["subjects"]:
            p["subjects"].append(t.customer_id)
    out = []
    for p in places.values():
        p["cad"] = round2(p["cad"])
        out.append(p)
    return sorted(out, key=lambda p: (-p["count"], p["city"]))
