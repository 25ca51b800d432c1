"""The narrative draft: who, what, when, where, why and how, in plain language.

Written only from the package's structured fields (mostly ``summary``), so every number
in the text is one an analyst can find in the tables. It starts with ``#Project PROTECT``
as FINTRAC asks of STRs filed on these grounds, names each party's role (FINTRAC STR
guidance) and describes possible victims as such, never with a word for a perpetrator
(FinCEN FIN-2020-A008). It is a draft: the analyst edits it before filing.

Text someone else chose (counterparty names and aliases, their identifiers, city names
as the transactions record them) is quoted behind ``counterparty-supplied text:`` so it
never reads as the reporting entity's words, and the finished text carries no control or
bidi character (issue #15).
"""

from __future__ import annotations

from engine.cases.disclosure.common import (
    INFLOW_TYPES,
    OUTFLOW_TYPES,
    TYPE_LABELS,
    money,
    strip_unsafe,
    supplied,
)

HEADER = "#Project PROTECT"
MAX_LIST = 6  # places, parties and identifiers named in the text; the tables hold the rest

ROLE_SENTENCES = {
    "possible_victim": (
        "is described in this report as a possible victim: the activity fits a person whose "
        "earnings and movements are controlled by others, and victims should not be reported "
        "as perpetrators (FinCEN FIN-2020-A008)"
    ),
    "suspected_trafficker": (
        "is a suspected trafficker: the indicators fit a person who collects, controls or "
        "benefits from the proceeds"
    ),
    "collector_nominee": (
        "is a possible collector or nominee: money from several parties passes through the "
        "account and is forwarded on; collectors are sometimes victims themselves"
    ),
    "unknown": "has a role not determined yet: the indicators point in more than one direction",
}


def build_narrative(package: dict) -> str:
    s = package["summary"]
    parts = [HEADER, "", "SUMMARY", _summary(package, s), "", "WHO"]
    parts += [f"- {line}" for line in _who(package, s)]
    parts += ["", "WHAT"] + [f"- {line}" for line in _what(package)]
    parts += ["", "WHEN", _when(s), "", "WHERE", _where(package, s)]
    parts += ["", "WHY", _why(package), "", "HOW", _how(s)]
    # Last pass over the whole text: profile and engine fields are not quoted, but no
    # control or bidi character may reach either export through them either.
    return strip_unsafe("\n".join(parts), multiline=True) + "\n"


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _who_name(subject: dict) -> str:
    return f"{subject['name'] or 'Name not on file'} (customer {subject['customer_id']})"


def _summary(package: dict, s: dict) -> str:
    entities = ", ".join(package["reporting_entities"]) or "not stated"
    if not s["transactions"]:
        text = f"The reporting entity ({entities}) holds no supporting transaction for this case."
        return text + _matches(package, s)
    holders = " and ".join(_who_name(x) for x in package["subjects"] if x["accounts"])
    flows = f"CAD {money(s['inflow']['cad'])} in, CAD {money(s['outflow']['cad'])} out"
    text = (
        f"The reporting entity ({entities}) reports {_n(s['transactions'], 'transaction')} "
        f"with a total value of CAD {money(s['total_cad'])} ({flows}) between "
        f"{s['first_date']} and {s['last_date']}, on {_n(s['accounts'], 'account')} held by "
        f"{holders}."
    )
    if s["unconverted"]:
        verb = "is" if s["unconverted"] == 1 else "are"
        text += (
            f" {_n(s['unconverted'], 'foreign-currency transaction')} without a CAD value "
            f"{verb} not in that total."
        )
    return text + _matches(package, s)


def _matches(package: dict, s: dict) -> str:
    families = _n(len(s["families"]), "family", "families")
    return (
        f" The activity matches {_n(s['indicators'], 'Project Protect money-laundering indicator')}"
        f" in {families} ({', '.join(s['families'])}), with an engine score of "
        f"{package['score']:g}. No single indicator is conclusive. Taken together, they give "
        "reasonable grounds to suspect that these funds are linked to human trafficking for "
        "sexual exploitation."
    )


def _who(package: dict, s: dict) -> list[str]:
    lines = []
    for subject in package["subjects"]:
        facts = []
        if subject["birth_date"]:
            facts.append(f"born {subject['birth_date']}")
        if subject["occupation"]:
            facts.append(subject["occupation"])
        if subject["home_city"]:
            facts.append(f"lives in {subject['home_city']}, {subject['home_province']}")
        who = f"{subject['name'] or 'Name not on file'} (customer {subject['customer_id']}"
        who += f"; {'; '.join(facts)})" if facts else ")"
        line = f"{who} {ROLE_SENTENCES[subject['role_hypothesis']]}."
        if subject["relation"] == "linked":
            line += f" Linked to this case because: {'; '.join(subject['link_reasons'])}."
        if subject["role_note"]:
            line += f" Note: {subject['role_note']}."
        lines.append(line)
    if package["counterparties"]:
        lines.append(_third_parties(package, s))
    return lines


def _third_parties(package: dict, s: dict) -> str:
    count = sum(1 for x in package["subjects"] if x["accounts"])
    holders = "the account holder" if count == 1 else "the account holders"
    flows = []
    if s["senders"]:
        flows.append(f"{_n(s['senders'], 'party', 'parties')} sent money to {holders}")
    if s["recipients"]:
        flows.append(f"{_n(s['recipients'], 'party', 'parties')} received money from {holders}")
    moved = " and ".join(flows) or f"none moved money with {holders}"
    line = f"Third parties: {moved}; their roles are not known."
    named = []
    for p in package["counterparties"][:MAX_LIST]:
        alias = f" (alias {supplied(p['aliases'][0])})" if p["aliases"] else ""
        parts = []
        for side, verb in (("received_from", "sent"), ("sent_to", "received")):
            if p[side]["count"]:
                amount = money(p[side]["cad"])
                parts.append(f"{verb} CAD {amount} in {_n(p[side]['count'], 'transaction')}")
        if parts:
            name = supplied(p["display_name"] or p["key"])
            named.append(f"{name}{alias} {' and '.join(parts)}")
    if named:
        line += f" The largest: {'; '.join(named)}."
    return line


def _what(package: dict) -> list[str]:
    several = len(package["subjects"]) > 1
    lines = []
    for ind in package["indicators"]:
        cited = "; ".join(ind["fintrac_items"] or ind["sources"])
        head = f"{ind['id']} {ind['title']} ({ind['family']}; {cited})"
        if ind["kind"] != "profile":
            lines.append(f"{head}: {_n(ind['evidence_count'], 'supporting transaction')}.")
            continue
        facts: list[str] = []
        fields: dict[str, list[str]] = {}
        for fact in ind["profile_evidence"]:
            whose = f"customer {fact['customer_id']}: " if several else ""
            if "flag" in fact:
                facts.append(whose + (fact["flag"].get("detail") or fact["flag"]["type"]))
            else:
                value = fact["value"]
                shown = " / ".join(map(str, value)) if isinstance(value, list) else str(value)
                fields.setdefault(whose, []).append(f"{fact['field'].replace('_', ' ')} {shown}")
        facts += [whose + ", ".join(items) for whose, items in fields.items()]
        detail = f": {'; '.join(facts)}." if facts else "."
        lines.append(f"{head}: from the customer profile{detail}")
    return lines


def _when(s: dict) -> str:
    busiest = s["busiest_day"]
    alerts = (
        f"The engine raised {_n(s['alerts'], 'alert')} between {s['first_alert_date']} and "
        f"{s['last_alert_date']}."
    )
    if not s["transactions"]:
        return alerts
    return (
        f"The supporting transactions run from {s['first_date']} to {s['last_date']}, on "
        f"{_n(s['active_days'], 'day')}; the busiest day was {busiest['date']} with "
        f"{_n(busiest['count'], 'transaction')}. {_n(s['late_night'], 'transaction')} took "
        f"place between 22:00 and 06:00 local time. {alerts}"
    )


def _where(package: dict, s: dict) -> str:
    places = package["places"]
    if not places:
        return (
            f"No transaction carries a place; {_n(s['unlocated'], 'transaction')} were "
            "online, e-commerce or transfers."
        )
    named = []
    for p in places[:MAX_LIST]:
        if p["first_date"] == p["last_date"]:
            span = f"on {p['first_date']}"
        else:
            span = f"{p['first_date']} to {p['last_date']}"
        home = ", home city" if p["is_home"] else ""
        # a card purchase's place is the merchant's descriptor, so it is outside text too
        place = supplied(" ".join(x for x in (p["city"], p["province"]) if x))
        named.append(f"{place} ({_n(p['count'], 'transaction')}, {span}{home})")
    canadian = all((p["country"] or "CA") == "CA" for p in places)
    region = ("province", "provinces") if canadian else ("province or state", "provinces or states")
    text = (
        f"Transactions took place in {_n(s['cities'], 'city', 'cities')} in "
        f"{_n(s['provinces'], *region)}: {', '.join(named)}."
    )
    if s["away_from_home"]:
        away = _n(s["away_from_home"], "transaction")
        text += f" {away} took place away from the home cities on file."
    else:
        text += " All of them took place in the home cities on file."
    if s["unlocated"]:
        unlocated = _n(s["unlocated"], "transaction")
        text += f" {unlocated} had no place (online, e-commerce or transfers)."
    return text


def _why(package: dict) -> str:
    groups: dict[str, list[str]] = {"victim": [], "trafficker": [], "collector": [], "context": []}
    for ind in package["indicators"]:
        groups.get(ind["role_signal"] or "context", groups["context"]).append(ind["id"])
    text = []
    if groups["victim"]:
        ids = ", ".join(groups["victim"])
        text.append(f"Indicators the engine associates with victims of exploitation: {ids}.")
    controller = groups["trafficker"] + groups["collector"]
    if controller:
        ids = ", ".join(controller)
        text.append(f"Indicators it associates with traffickers or collectors: {ids}.")
    if groups["context"]:
        text.append(f"Context indicators: {', '.join(groups['context'])}.")
    shared = [n for n in package["graph"]["nodes"] if n.get("shared")]
    if shared:
        customers = {x["customer_id"] for x in package["subjects"]}
        listed = "; ".join(
            f"{n['kind']} {supplied(n['label'])} ("
            + ", ".join(h if h in customers else supplied(h) for h in n["holders"])
            + ")"
            for n in shared[:MAX_LIST]
        )
        text.append(f"Identifiers shared between parties in this case: {listed}.")
    text.append(f"The latest alert was raised on this rule: {package['alerts'][-1]['trigger']}.")
    text.append(
        "The combination across families, not any single transaction, is the ground for "
        "this report."
    )
    return " ".join(text)


def _how(s: dict) -> str:
    text = []
    for label, types, flow in (
        ("Money in", INFLOW_TYPES, "inflow"),
        ("Money out", OUTFLOW_TYPES, "outflow"),
    ):
        items = [
            f"{_n(v['count'], TYPE_LABELS[k][:-1], TYPE_LABELS[k])} (CAD {money(v['cad'])})"
            for k, v in s["by_type"].items()
            if k in types
        ]
        if items:
            text.append(f"{label}: {', '.join(items)}; CAD {money(s[flow]['cad'])} in all.")
    return " ".join(text) or "No money movement is recorded in the supporting transactions."
