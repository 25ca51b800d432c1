"""The link chart: who and what is connected, by money and by shared identifiers.

Nodes (``kind``): ``subject``, ``account``, ``card``, ``device``, ``ip``, ``email``,
``phone``, ``address``, ``counterparty``, ``merchant``, ``cash`` (cash at a city) and
``unidentified`` (the other side of a transaction that names nobody).
Edges (``kind``): ``holds`` (subject → account), ``uses`` (account → card, subject →
device / ip), ``identifier`` (party → email / phone / address), ``funds`` (money flow,
aggregated per direction with ``count`` and ``cad``), ``linked`` (subject → subject, with
the reasons). An identifier node held by two or more parties has ``shared: true``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from engine.cases.disclosure.case import Case
from engine.cases.disclosure.common import cad, direction, round2
from schemas import Transaction

IDENTIFIER_KINDS = ("email", "phone", "address", "device", "ip", "card")


def _normal(kind: str, value: str) -> str:
    """Identifiers compare loosely (phone digits, case and spaces); ids compare exactly."""
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        return digits[-10:] if len(digits) >= 10 else digits or value
    if kind in ("email", "address", "counterparty"):
        return " ".join(value.split()).casefold()
    return value


class _Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, dict] = {}
        self.edges: dict[tuple[str, str, str], dict] = {}

    def node(self, kind: str, value: str, label: str | None = None, **extra) -> str:
        key = f"{kind}:{_normal(kind, value)}"
        entry = self.nodes.setdefault(key, {"id": key, "kind": kind, "label": label or value})
        entry.update({k: v for k, v in extra.items() if v is not None})
        return key

    def edge(self, source: str, target: str, kind: str) -> dict:
        return self.edges.setdefault(
            (source, target, kind), {"source": source, "target": target, "kind": kind}
        )


def build_graph(subjects: list[dict], txns: list[Transaction], case: Case) -> dict:
    g = _Graph()
    subject_node = {}
    for s in subjects:
        sid = g.node(
            "subject",
            s["customer_id"],
            s["name"] or s["customer_id"],
            customer_id=s["customer_id"],
            relation=s["relation"],
            role_hypothesis=s["role_hypothesis"],
            role_label=s["role_label"],
        )
        subject_node[s["customer_id"]] = sid
        for kind, values in (
            ("email", s["emails"]),
            ("phone", s["phones"]),
            ("address", s["addresses"]),
        ):
            for value in values:
                g.edge(sid, g.node(kind, value), "identifier")
    primary = subject_node[case.primary]
    for s in subjects:
        if s["relation"] == "linked":
            g.edge(primary, subject_node[s["customer_id"]], "linked")["reasons"] = list(
                s["link_reasons"]
            )

    account_holder: dict[str, str] = {}
    party_subjects: dict[str, set[str]] = {}
    for t in txns:
        owner = subject_node.get(t.customer_id) or g.node(
            "subject", t.customer_id, customer_id=t.customer_id
        )
        account = g.node("account", t.account_id)
        g.edge(owner, account, "holds")
        if t.card_id:
            g.edge(account, g.node("card", t.card_id), "uses")
        if t.device_id:
            g.edge(owner, g.node("device", t.device_id), "uses")
        if t.ip:
            g.edge(owner, g.node("ip", t.ip), "uses")
        account_holder[account] = owner
        other = _other_side(g, t)
        if g.nodes[other]["kind"] == "counterparty":
            party_subjects.setdefault(other, set()).add(t.customer_id)
        flow = direction(t.txn_type)
        source, target = (other, account) if flow == "in" else (account, other)
        edge = g.edge(source, target, "funds")
        if "count" not in edge:
            edge.update(
                count=0, cad=Decimal(0), txn_types=[], first_ts=t.ts.isoformat(), txn_ids=[]
            )
        edge["count"] += 1
        edge["cad"] += cad(t) or 0
        if t.txn_type not in edge["txn_types"]:
            edge["txn_types"].append(t.txn_type)
        edge["last_ts"] = t.ts.isoformat()
        edge["txn_ids"].append(t.txn_id)

    holders: dict[str, set[str]] = {}
    for source, target, kind in g.edges:
        if kind in ("identifier", "uses") and g.nodes[target]["kind"] in IDENTIFIER_KINDS:
            holders.setdefault(target, set()).add(account_holder.get(source, source))
    for node_id, parties in holders.items():
        if len(parties) > 1:
            g.nodes[node_id]["shared"] = True
            g.nodes[node_id]["holders"] = sorted(
                g.nodes[p].get("customer_id") or g.nodes[p]["label"] for p in parties
            )
    for node_id, customers in party_subjects.items():
        g.nodes[node_id]["subjects"] = sorted(customers)
    edges = []
    for edge in g.edges.values():
        if "cad" in edge:
            edge["cad"] = round2(edge["cad"])
        edges.append(edge)
    return {
        "nodes": sorted(g.nodes.values(), key=lambda n: n["id"]),
        "edges": sorted(edges, key=lambda e: (e["kind"], e["source"], e["target"])),
    }


def _other_side(g: _Graph, t: Transaction) -> str:
    if t.counterparty_id or t.counterparty_name:
        node = g.node(
            "counterparty",
            t.counterparty_id or t.counterparty_name or "",
            t.counterparty_name,
            counterparty_id=t.counterparty_id,
            country=t.counterparty_country,
        )
        for kind, value in (("email", t.counterparty_email), ("phone", t.counterparty_phone)):
            if value:
                g.edge(node, g.node(kind, value), "identifier")
        return node
    if t.merchant_id or t.merchant_name:
        return g.node(
            "merchant",
            t.merchant_id or t.merchant_name or "",
            t.merchant_name,
            mcc=str(t.mcc) if t.mcc is not None else None,
        )
    if t.txn_type in ("cash_deposit", "cash_withdrawal", "cash_advance"):
        where = ", ".join(x for x in (t.city, t.province) if x) or "unknown place"
        return g.node("cash", where, f"Cash ({where})", city=t.city, province=t.province)
    return g.node("unidentified", t.txn_type, f"Unidentified party ({t.txn_type})")
