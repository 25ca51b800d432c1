"""The disclosure package (CONTRACT §5): everything an analyst needs about one case.

:func:`build_package` is pure: the same case and profiles give the same package (no
clock, no I/O beyond the code tables it loads once). Sections, in the order an analyst
reads them: header, subjects with role hypotheses, indicators with evidence and FINTRAC
source items, all supporting transactions in full, counterparties and merchants, the link
graph, the timeline, the places, a summary of figures, the narrative draft, and the two
exports (FINTRAC STR JSON and goAML XML) built from the package itself.

Every figure the narrative quotes is in ``summary`` (or another section), so the text and
the structured fields cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any

import msgspec

from engine.cases.disclosure.case import Case
from engine.cases.disclosure.common import (
    ROLE_LABELS,
    cad,
    direction,
    looks_like_entity,
    round2,
    split_name,
)
from engine.cases.disclosure.fintrac import FintracCodes, to_fintrac_str
from engine.cases.disclosure.goaml import GoamlSettings, to_goaml_xml
from engine.cases.disclosure.graph import build_graph
from engine.cases.disclosure.narrative import build_narrative
from engine.cases.disclosure.timeline import build_places, build_timeline, local_date
from schemas import FAMILIES, Alert, Profile, Transaction

# CONTRACT §5: the required top-level fields of a package
PACKAGE_FIELDS = (
    "case_id", "version", "status", "subjects", "score", "ppp_code", "indicators",
    "transactions", "graph", "timeline", "narrative", "exports",
)  # fmt: skip
_SOURCE = re.compile(r"^FINTRAC-(?P<year>20\d\d)-OA00\d (?P<item>[A-Z]+\d+)$")


def build_package(
    case: Case,
    profiles: Mapping[str, Profile],
    *,
    fintrac_codes: FintracCodes | None = None,
    goaml_settings: GoamlSettings | None = None,
) -> dict:
    """The CONTRACT §5 package of ``case``; ``profiles`` maps customer ids to KYC profiles.

    ``fintrac_codes`` (:class:`~engine.cases.disclosure.fintrac.FintracCodes`) and
    ``goaml_settings`` (:class:`~engine.cases.disclosure.goaml.GoamlSettings`) default to the
    documented placeholder tables in ``schemas/reference/``.
    """
    txns = _transactions(case.alerts)
    cited = _citations(case.alerts, {t.txn_id for t in txns})
    subjects = _subjects(case, profiles, txns)
    indicators = _indicators(case.alerts, profiles, txns)
    counterparties, merchants = _counterparties(txns)
    graph = build_graph(subjects, txns, case)
    timeline = build_timeline(case.alerts, txns, indicators)
    places = build_places(txns, subjects)
    rows = []
    for t in txns:
        row = msgspec.to_builtins(t)
        row["indicator_ids"] = cited.get(t.txn_id, [])
        rows.append(row)
    package: dict[str, Any] = {
        "case_id": case.case_id,
        "version": case.version,
        "status": case.status,
        "generation": case.generation,
        "ppp_code": "PROTECT",
        "score": case.score,
        "score_method": "maximum alert score (each alert scores the whole active window)",
        "opened_at": case.opened_at,
        "updated_at": case.updated_at,
        "reporting_entities": sorted({t.re_id for t in txns}),
        "window": {
            "start": min(a.window_start for a in case.alerts),
            "end": max(a.window_end for a in case.alerts),
        },
        "subjects": subjects,
        "alerts": [_alert_header(a) for a in case.alerts],
        "families": sorted({i["family"] for i in indicators}, key=_family_order),
        "indicators": indicators,
        "transactions": rows,
        "counterparties": counterparties,
        "merchants": merchants,
        "graph": graph,
        "timeline": timeline,
        "places": places,
    }
    package["summary"] = _summary(package, txns)
    package["narrative"] = build_narrative(package)
    package["exports"] = {
        "fintrac_str": to_fintrac_str(package, fintrac_codes),
        "goaml_xml": to_goaml_xml(package, goaml_settings),
    }
    return package


# ---------------------------------------------------------------------- sections
def _transactions(alerts: tuple[Alert, ...]) -> list[Transaction]:
    """Every evidence transaction once, ordered by instant then id."""
    seen: dict[str, Transaction] = {}
    for alert in alerts:
        for t in alert.transactions:
            seen.setdefault(t.txn_id, t)
    return sorted(seen.values(), key=lambda t: (t.ts, t.txn_id))


def _citations(alerts: tuple[Alert, ...], known: set[str]) -> dict[str, list[str]]:
    cited: dict[str, set[str]] = {}
    for alert in alerts:
        for ind in alert.indicators:
            for txn_id in ind.evidence_txn_ids:
                if txn_id in known:
                    cited.setdefault(txn_id, set()).add(ind.id)
    return {k: sorted(v) for k, v in cited.items()}


def _subjects(case: Case, profiles: Mapping[str, Profile], txns: list[Transaction]) -> list[dict]:
    out = []
    for s in case.subjects:
        p = profiles.get(s.customer_id)
        own = [t for t in txns if t.customer_id == s.customer_id]
        note = None
        if "possible_victim" in s.role_history and s.role_hypothesis != "possible_victim":
            note = (
                "earlier alerts on this subject matched the possible-victim pattern; "
                "victims are sometimes made to collect money or recruit, so the role needs care"
            )
        out.append(
            {
                "customer_id": s.customer_id,
                "relation": s.relation,
                "role_hypothesis": s.role_hypothesis,
                "role_label": ROLE_LABELS[s.role_hypothesis],
                "role_history": list(s.role_history),
                "role_note": note,
                "link_reasons": list(s.link_reasons),
                "profile_available": p is not None,
                "name": (p.name if p else None) or s.name,
                "party_type": (p.party_type if p else None) or "person",
                "birth_date": p.birth_date if p else None,
                "occupation": p.occupation if p else None,
                "industry_code": p.industry_code if p else None,
                "home_city": p.home_city if p else None,
                "home_province": p.home_province if p else None,
                "home_country": p.home_country if p else None,
                "declared_income_cad": _num(p.declared_income_cad) if p else None,
                "expected_monthly_cad": _num(p.expected_monthly_cad) if p else None,
                "aliases": list(p.aliases) if p else [],
                "phones": list(p.phones) if p else [],
                "emails": list(p.emails) if p else [],
                "addresses": list(p.addresses) if p else [],
                "flags": [msgspec.to_builtins(f) for f in p.flags] if p else [],
                "accounts": sorted({t.account_id for t in own}),
                "cards": sorted({t.card_id for t in own if t.card_id}),
                "devices": sorted({t.device_id for t in own if t.device_id}),
                "ips": sorted({t.ip for t in own if t.ip}),
                "alert_ids": [a.alert_id for a in case.alerts if a.customer_id == s.customer_id],
            }
        )
    return out


def _indicators(
    alerts: tuple[Alert, ...], profiles: Mapping[str, Profile], txns: list[Transaction]
) -> list[dict]:
    order = {t.txn_id: k for k, t in enumerate(txns)}
    merged: dict[str, dict] = {}
    for alert in alerts:  # ordered by window_end: later alerts refresh observed/threshold
        for ind in alert.indicators:
            entry = merged.get(ind.id)
            if entry is None:
                spec = _spec_meta(ind.id)
                fintrac = [s for s in ind.sources if s.startswith("FINTRAC-")]
                entry = merged[ind.id] = {
                    "id": ind.id,
                    "title": ind.title,
                    "family": ind.family,
                    "kind": "profile" if ind.window == "profile" else "transaction",
                    "role_signal": spec.get("role_signal"),
                    "description": spec.get("description"),
                    "sources": list(ind.sources),
                    "fintrac_items": fintrac,
                    "catalogue_ids": [_catalogue_id(s) for s in fintrac],
                    "other_sources": [s for s in ind.sources if not s.startswith("FINTRAC-")],
                    "first_fired_at": alert.window_end,
                    "first_alert_id": alert.alert_id,
                    "alert_ids": [],
                    "subjects": [],
                    "evidence_txn_ids": set(),
                    "required_fields": spec.get("required_fields", []),
                }
            entry.update(observed=ind.observed, threshold=ind.threshold, window=ind.window)
            entry["alert_ids"].append(alert.alert_id)
            if alert.customer_id not in entry["subjects"]:
                entry["subjects"].append(alert.customer_id)
            entry["evidence_txn_ids"].update(e for e in ind.evidence_txn_ids if e in order)
    out = []
    for entry in merged.values():
        entry["evidence_txn_ids"] = sorted(entry["evidence_txn_ids"], key=order.__getitem__)
        entry["evidence_count"] = len(entry["evidence_txn_ids"])
        entry["profile_evidence"] = (
            _profile_evidence(entry, profiles) if entry["kind"] == "profile" else []
        )
        del entry["required_fields"]
        out.append(entry)
    return sorted(out, key=lambda e: (_family_order(e["family"]), e["id"]))


def _profile_evidence(entry: dict, profiles: Mapping[str, Profile]) -> list[dict]:
    """The profile facts behind a PK rule: matching flags, or the fields it reads."""
    facts = []
    for customer_id in entry["subjects"]:
        p = profiles.get(customer_id)
        if p is None:
            continue
        for field in entry["required_fields"]:
            if field.startswith("flags[].type = "):
                kind = field.split("=", 1)[1].strip()
                facts += [
                    {"customer_id": customer_id, "flag": msgspec.to_builtins(f)}
                    for f in p.flags
                    if f.type == kind
                ]
            else:
                name = field.removesuffix("[]")
                value = getattr(p, name, None)
                if value not in (None, [], ""):
                    facts.append(
                        {
                            "customer_id": customer_id,
                            "field": name,
                            "value": msgspec.to_builtins(value),
                        }
                    )
    return facts


def _counterparties(txns: list[Transaction]) -> tuple[list[dict], list[dict]]:
    parties: dict[str, dict] = {}
    merchants: dict[str, dict] = {}
    for t in txns:
        value = cad(t)
        if t.counterparty_id or t.counterparty_name:
            key = t.counterparty_id or f"name:{t.counterparty_name}"
            given, surname, alias = split_name(t.counterparty_name)
            entry = parties.setdefault(
                key,
                {
                    "key": key,
                    "counterparty_id": t.counterparty_id,
                    "name": t.counterparty_name,
                    "display_name": " ".join(x for x in (given, surname) if x) or t.counterparty_id,
                    "kind": "entity"
                    if looks_like_entity(t.counterparty_name, t.counterparty_id)
                    else "person",
                    "aliases": [],
                    "emails": [],
                    "phones": [],
                    "countries": [],
                    "subjects": [],
                    "received_from": {"count": 0, "cad": Decimal(0)},
                    "sent_to": {"count": 0, "cad": Decimal(0)},
                    "first_ts": t.ts,
                    "last_ts": t.ts,
                    "txn_ids": [],
                    "memos": [],
                },
            )
            for field, item in (
                ("aliases", alias),
                ("emails", t.counterparty_email),
                ("phones", t.counterparty_phone),
                ("countries", t.counterparty_country),
                ("subjects", t.customer_id),
            ):
                if item and item not in entry[field]:
                    entry[field].append(item)
            if t.memo and t.memo not in entry["memos"] and len(entry["memos"]) < 5:
                entry["memos"].append(t.memo)
            side = {"in": "received_from", "out": "sent_to"}.get(direction(t.txn_type))
            if side:
                entry[side]["count"] += 1
                entry[side]["cad"] += value or 0
            entry["last_ts"] = t.ts
            entry["txn_ids"].append(t.txn_id)
        elif t.merchant_id or t.merchant_name:
            key = t.merchant_id or f"name:{t.merchant_name}"
            m = merchants.setdefault(
                key,
                {
                    "key": key,
                    "merchant_id": t.merchant_id,
                    "name": t.merchant_name,
                    "mccs": [],
                    "cities": [],
                    "count": 0,
                    "cad": Decimal(0),
                    "txn_ids": [],
                },
            )
            if t.mcc is not None and str(t.mcc) not in m["mccs"]:
                m["mccs"].append(str(t.mcc))
            if t.city and t.city not in m["cities"]:
                m["cities"].append(t.city)
            m["count"] += 1
            m["cad"] += value or 0
            m["txn_ids"].append(t.txn_id)
    for entry in parties.values():
        for side in ("received_from", "sent_to"):
            entry[side]["cad"] = round2(entry[side]["cad"])
        entry["first_ts"], entry["last_ts"] = (
            entry["first_ts"].isoformat(),
            entry["last_ts"].isoformat(),
        )
    for m in merchants.values():
        m["cad"] = round2(m["cad"])
    rank = lambda e: (-(e["received_from"]["cad"] + e["sent_to"]["cad"]), e["key"])  # noqa: E731
    return sorted(parties.values(), key=rank), sorted(
        merchants.values(), key=lambda m: (-m["cad"], m["key"])
    )


def _summary(package: dict, txns: list[Transaction]) -> dict:
    total = Decimal(0)
    flows: dict[str, list] = {"in": [0, Decimal(0)], "out": [0, Decimal(0)]}
    by_type: dict[str, list] = {}
    per_day: dict[str, int] = {}
    unconverted = late = 0
    for t in txns:
        value = cad(t)
        if value is None:
            unconverted += 1
            value = Decimal(0)
        total += value
        d = direction(t.txn_type)
        if d in flows:
            flows[d][0] += 1
            flows[d][1] += value
        slot = by_type.setdefault(t.txn_type, [0, Decimal(0)])
        slot[0] += 1
        slot[1] += value
        day = local_date(t.ts)
        per_day[day] = per_day.get(day, 0) + 1
        late += t.ts.hour >= 22 or t.ts.hour < 6  # ts carries the local offset (CONTRACT)
    busiest = min(per_day.items(), key=lambda kv: (-kv[1], kv[0])) if per_day else (None, 0)
    places = package["places"]
    parties = package["counterparties"]
    homes = {(x["home_city"] or "").casefold() for x in package["subjects"] if x["home_city"]}
    alert_dates = [e["date"] for e in package["timeline"] if e["kind"] == "alert"]
    return {
        "transactions": len(txns),
        "attempted": sum(1 for t in txns if t.attempted),
        "total_cad": round2(total),
        "unconverted": unconverted,
        "inflow": {"count": flows["in"][0], "cad": round2(flows["in"][1])},
        "outflow": {"count": flows["out"][0], "cad": round2(flows["out"][1])},
        "by_type": {
            k: {"count": v[0], "cad": round2(v[1])}
            for k, v in sorted(by_type.items(), key=lambda kv: (-kv[1][0], kv[0]))
        },
        "first_date": min(per_day) if per_day else None,
        "last_date": max(per_day) if per_day else None,
        "active_days": len(per_day),
        "busiest_day": {"date": busiest[0], "count": busiest[1]},
        "late_night": int(late),
        "accounts": len({t.account_id for t in txns}),
        "cards": len({t.card_id for t in txns if t.card_id}),
        "alerts": len(package["alerts"]),
        "subjects": len(package["subjects"]),
        "indicators": len(package["indicators"]),
        "families": list(package["families"]),
        "cities": len(places),
        "provinces": len({(p["province"], p["country"]) for p in places if p["province"]}),
        "unlocated": sum(1 for t in txns if not t.city),
        "away_from_home": sum(1 for t in txns if t.city and t.city.casefold() not in homes),
        "first_alert_date": min(alert_dates),
        "last_alert_date": max(alert_dates),
        "senders": sum(1 for p in parties if p["received_from"]["count"]),
        "recipients": sum(1 for p in parties if p["sent_to"]["count"]),
        "shared_identifiers": sum(1 for n in package["graph"]["nodes"] if n.get("shared")),
    }


def _alert_header(a: Alert) -> dict:
    return {
        "alert_id": a.alert_id, "customer_id": a.customer_id, "role_hypothesis": a.role_hypothesis,
        "score": a.score, "families": list(a.families),
        "indicator_ids": [i.id for i in a.indicators],
        "window_start": a.window_start, "window_end": a.window_end, "created_at": a.created_at,
        "trigger": a.trigger, "trigger_txn_id": a.trigger_txn_id,
        "engine_version": a.engine_version, "config_hash": a.config_hash,
    }  # fmt: skip


# ---------------------------------------------------------------------- helpers
def _family_order(family: str) -> int:
    return FAMILIES.index(family) if family in FAMILIES else len(FAMILIES)


def _catalogue_id(source: str) -> str:
    """``FINTRAC-2016-OA003 P2`` -> ``F16-P2`` (the ids of INDICATORS.md Part 1)."""
    m = _SOURCE.match(source)
    return f"F{m.group('year')[2:]}-{m.group('item')}" if m else source


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


@cache
def _spec_meta(indicator_id: str) -> dict:
    """Role signal, description and required fields from the indicator's spec, if registered."""
    from indicators.registry import (
        PROFILE_REGISTRY,
        REGISTRY,
    )  # numba import: only when first needed

    spec = REGISTRY.get(indicator_id) or PROFILE_REGISTRY.get(indicator_id)
    if spec is None:
        return {}
    return {
        "role_signal": spec.role_signal,
        "description": spec.description,
        "required_fields": list(spec.required_fields),
    }
