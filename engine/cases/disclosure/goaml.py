"""goAML 5.0.1 ``report`` XML (report code STR) from a disclosure package.

The output validates against ``schemas/reference/goaml-5.0.1.xsd``. goAML lookups (funds
types, transmode codes, account types, report indicators) are enumerations each FIU
defines in its own copy of the XSD; :class:`GoamlSettings` maps the contract's values to
them, and its defaults (``schemas/reference/goaml_codes.json``) are placeholders that the
generic XSD accepts. In particular the generic XSD allows only ``-`` as a report
indicator, so the PROTECT code and the indicator ids map to ``-`` until an FIU's table is
configured; the ids are always in ``reason`` (the narrative) and in each transaction's
description.

Each supporting transaction becomes one ``transaction``: the subject's side is a
``t_from_my_client`` / ``t_to_my_client`` (their account, or themselves for cash), the
other side a ``t_from`` / ``t_to`` (counterparty person or entity, merchant, or an
unidentified party). With ``emit_51_elements`` the 5.1 flags are written:
``transaction_is_suspicious`` and ``*_is_suspected`` (false for a possible victim, true
for a suspected trafficker, left out otherwise). Required KYC fields the contract does not
carry (national id, nationality, account opening date) are filled with ``unknown_text`` /
``unknown_date`` and named in the person's ``comments`` for the analyst to complete.

Every text goes through :func:`~engine.cases.disclosure.common.clean_text` (no control or
bidi-control character); in a transaction's description the counterparty's name, the
merchant's descriptor and the memo are quoted as counterparty-supplied text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from engine.cases.disclosure.codes import GoamlSettings, default_settings
from engine.cases.disclosure.common import (
    ROLE_LABELS,
    cad,
    clean_text,
    direction,
    looks_like_entity,
    offset_text,
    parse_ts,
    plain_amount,
    safe_ref,
    split_name,
    strip_unsafe_all,
    supplied,
)

COMMENTS_MAX = 8000  # comments_type


# ---------------------------------------------------------------------- report
def to_goaml_xml(
    package: Mapping[str, Any], settings: GoamlSettings | None = None, *, pretty: bool = False
) -> str:
    """The goAML ``report`` for ``package`` as an XML string (validate with ``validate_goaml``).

    Compact by default: the report repeats the subject's full record in every transaction
    (goAML has no references), so indentation would add about a quarter to a package
    that travels on Kafka. :func:`engine.cases.disclosure.export` writes it indented.
    """
    s = settings or default_settings()
    # before anything is derived from it, so cut-offs and empty checks see the clean text
    package = strip_unsafe_all(package, multiline_keys=frozenset({"narrative"}))
    subjects = {x["customer_id"]: x for x in package["subjects"]}
    root = ET.Element("report")
    _text(root, "rentity_id", str(s.rentity_id))
    _text(root, "rentity_branch", s.rentity_branch, 255)
    _text(root, "submission_code", s.submission_code)
    _text(root, "report_code", s.report_code)
    _text(root, "entity_reference", f"{package['case_id']}-V{package['version']}", 255)
    _text(root, "submission_date", _date(package["updated_at"]))
    _text(root, "currency_code_local", s.local_currency)
    person = ET.SubElement(root, "reporting_person")
    _text(person, "first_name", s.reporting_person["first_name"], 100)
    _text(person, "last_name", s.reporting_person["last_name"], 100)
    for key, limit in (("email", 255), ("occupation", 255)):
        if s.reporting_person.get(key):
            _text(person, key, s.reporting_person[key], limit)
    loc = s.location
    _address(
        root,
        "location",
        s,
        loc["address"],
        loc["city"],
        loc["country_code"],
        loc.get("state"),
        loc.get("zip"),
    )
    _text(root, "reason", package["narrative"], COMMENTS_MAX)
    _text(root, "action", s.action, COMMENTS_MAX)
    for t in package["transactions"]:
        _transaction(root, t, subjects[t["customer_id"]], s)
    indicators = ET.SubElement(root, "report_indicators")
    codes: list[str] = []
    for key in (package["ppp_code"], *(i["id"] for i in package["indicators"])):
        code = s.report_indicators.get(key)
        if code is not None and code not in codes:
            codes.append(code)
    for code in codes or [s.default_indicator]:
        _text(indicators, "indicator", code)
    if pretty:
        ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _transaction(
    root: ET.Element, t: Mapping[str, Any], subject: Mapping[str, Any], s: GoamlSettings
) -> None:
    ts = parse_ts(t["ts"])
    kind = t["txn_type"]
    flow = direction(kind)
    tx = ET.SubElement(root, "transaction")
    ref = safe_ref(t["txn_id"], 100)
    _text(tx, "transactionnumber", ref)
    if s.emit_51_elements:
        _text(tx, "transaction_is_suspicious", "true")
    _text(tx, "internal_ref_number", ref)
    place = ", ".join(
        x for x in (t.get("location_id"), t.get("city"), t.get("province"), t.get("country")) if x
    )
    _text(tx, "transaction_location", place or t["channel"], 255)
    _text(tx, "transaction_description", _description(t), COMMENTS_MAX)
    _text(tx, "date_transaction", ts.strftime("%Y-%m-%dT%H:%M:%S"))
    _text(tx, "transmode_code", s.transmode_by_channel[t["channel"]])
    _text(tx, "transmode_comment", f"{t['channel']} {kind}", 50)
    value = cad(t)
    _text(tx, "amount_local", plain_amount(value if value is not None else t["amount"]))

    if flow == "in":
        if kind == "cash_deposit":
            _mine(tx, "from", t, subject, s, person=True)
        else:
            _other(tx, "from", t, s)
        _mine(tx, "to", t, subject, s, person=False)
    else:
        _mine(tx, "from", t, subject, s, person=False)
        if kind in ("cash_withdrawal", "cash_advance"):
            _mine(tx, "to", t, subject, s, person=True)
        else:
            _other(tx, "to", t, s)
    notes = [f"Local time offset {offset_text(ts)}."]
    if value is None:
        notes.append(f"amount_local is in {t['currency']}: the source gave no CAD value.")
    if t.get("attempted"):
        notes.append("Attempted, not completed.")
    _text(tx, "comments", " ".join(notes), COMMENTS_MAX)


def _description(t: Mapping[str, Any]) -> str:
    bits = [f"{t['txn_type']} via {t['channel']}", f"{plain_amount(t['amount'])} {t['currency']}"]
    for key, label in (
        ("merchant_name", "merchant"),
        ("mcc", "MCC"),
        ("counterparty_name", "counterparty"),
        ("memo", "memo"),
        ("card_id", "card"),
        ("device_id", "device"),
        ("ip", "IP"),
        ("terminal_owner", "terminal owner"),
        ("linked_txn_id", "linked to"),
    ):
        if t.get(key):
            outside = key in ("merchant_name", "counterparty_name", "memo")
            bits.append(f"{label}: {supplied(t[key]) if outside else t[key]}")
    if t.get("indicator_ids"):
        bits.append(f"Project Protect indicators: {', '.join(t['indicator_ids'])}")
    return "; ".join(bits)


def _side_open(
    tx: ET.Element, side: str, mine: bool, t: Mapping[str, Any], s: GoamlSettings
) -> ET.Element:
    el = ET.SubElement(tx, f"t_{side}_my_client" if mine else f"t_{side}")
    table = s.from_funds_by_txn_type if side == "from" else s.to_funds_by_txn_type
    _text(el, f"{side}_funds_code", table[t["txn_type"]])
    value = cad(t)
    if (
        side == "from"
        and t["currency"] != s.local_currency
        and value is not None
        and float(t["amount"]) > 0
    ):
        fc = ET.SubElement(el, "from_foreign_currency")
        _text(fc, "foreign_currency_code", t["currency"])
        _text(fc, "foreign_amount", plain_amount(t["amount"]))
        _text(fc, "foreign_exchange_rate", f"{float(value) / float(t['amount']):.6f}")
    return el


def _mine(
    tx: ET.Element,
    side: str,
    t: Mapping[str, Any],
    subject: Mapping[str, Any],
    s: GoamlSettings,
    person: bool,
) -> None:
    el = _side_open(tx, side, True, t, s)
    suspected = {"suspected_trafficker": "true", "possible_victim": "false"}.get(
        subject["role_hypothesis"]
    )
    if s.emit_51_elements and suspected is not None:
        _text(el, f"{side}_is_suspected", suspected)
    if person:
        _person_my_client(el, f"{side}_person", subject, s)
    else:
        _account_my_client(el, f"{side}_account", t, subject, s)
    _text(el, f"{side}_country", _country(subject.get("home_country"), s))


def _other(tx: ET.Element, side: str, t: Mapping[str, Any], s: GoamlSettings) -> None:
    el = _side_open(tx, side, False, t, s)
    name = t.get("counterparty_name")
    if t.get("counterparty_id") or name:
        if looks_like_entity(name, t.get("counterparty_id")):
            _entity(
                el, f"{side}_entity", name or t["counterparty_id"], t.get("counterparty_phone"), s
            )
        else:
            given, surname, alias = split_name(name)
            p = ET.SubElement(el, f"{side}_person")
            _text(p, "first_name", given or s.unknown_text, 100)
            _text(p, "last_name", surname or t.get("counterparty_id") or s.unknown_text, 100)
            if alias:
                _text(p, "alias", alias, 100)
            if t.get("counterparty_phone"):
                _phones(p, [t["counterparty_phone"]], s)
            if t.get("counterparty_email"):
                _text(p, "email", t["counterparty_email"], 255)
            if t.get("counterparty_id"):
                _text(p, "comments", f"Counterparty id {t['counterparty_id']}", COMMENTS_MAX)
        country = t.get("counterparty_country") or t.get("country")
    elif t.get("merchant_name") or t.get("merchant_id"):
        mcc = f"MCC {t['mcc']}; " if t.get("mcc") else ""
        _entity(
            el,
            f"{side}_entity",
            t.get("merchant_name") or t["merchant_id"],
            None,
            s,
            comment=f"Merchant; {mcc}merchant id {t.get('merchant_id') or 'not given'}",
        )
        country = t.get("country")
    else:
        _entity(
            el,
            f"{side}_entity",
            "Unidentified party",
            None,
            s,
            comment=f"The source system names no counterparty for this {t['txn_type']}",
        )
        country = t.get("country")
    _text(el, f"{side}_country", _country(country, s))


# ---------------------------------------------------------------------- parties
def _person_my_client(
    parent: ET.Element, tag: str, subject: Mapping[str, Any], s: GoamlSettings
) -> None:
    p = ET.SubElement(parent, tag)
    given, surname, alias = split_name(subject.get("name"))
    gaps = []
    if not (given and surname):
        gaps.append("name")
    _text(p, "first_name", given or s.unknown_text, 100)
    _text(p, "last_name", surname or subject["customer_id"], 100)
    birth = subject.get("birth_date")
    if not birth:
        gaps.append("birthdate")
    _text(p, "birthdate", f"{birth or s.unknown_date}T00:00:00")
    alias = alias or (subject.get("aliases") or [None])[0]
    if alias:
        _text(p, "alias", alias, 100)
    _text(p, "ssn", s.unknown_text, 25)
    gaps += ["ssn (national identifier)", "nationality1"]
    _text(p, "nationality1", "-")
    _text(p, "residence", _country(subject.get("home_country"), s))
    if not subject.get("phones"):
        gaps.append("phones")
    _phones(p, subject.get("phones") or [s.unknown_text], s)
    if subject.get("addresses"):
        addresses = ET.SubElement(p, "addresses")
        for a in subject["addresses"]:
            parts = [x.strip() for x in a.split(",")]
            if len(parts) >= 3:
                _address(
                    addresses,
                    "address",
                    s,
                    ", ".join(parts[:-2]),
                    parts[-2],
                    _country(subject.get("home_country"), s),
                    parts[-1],
                )
            else:
                _address(
                    addresses,
                    "address",
                    s,
                    a,
                    subject.get("home_city") or s.unknown_text,
                    _country(subject.get("home_country"), s),
                    subject.get("home_province"),
                )
    for email in subject.get("emails", [])[:5]:
        _text(p, "email", email, 255)
    if not subject.get("occupation"):
        gaps.append("occupation")
    _text(p, "occupation", subject.get("occupation") or s.unknown_text, 255)
    role = ROLE_LABELS[subject["role_hypothesis"]]
    note = f"Customer {subject['customer_id']}. Role hypothesis: {role}."
    if gaps:
        note += f" Not in the KYC profile, to complete before submitting: {', '.join(gaps)}."
    _text(p, "comments", note, COMMENTS_MAX)


def _account_my_client(
    parent: ET.Element, tag: str, t: Mapping[str, Any], subject: Mapping[str, Any], s: GoamlSettings
) -> None:
    a = ET.SubElement(parent, tag)
    _text(a, "institution_name", s.institution_name, 255)
    _text(a, "institution_code", s.institution_code, 50)
    branch = t.get("location_id") if t.get("channel") == "branch" else None
    _text(a, "branch", branch or s.branch, 255)
    _text(a, "account", t["account_id"], 255)
    _text(a, "currency_code", s.local_currency)
    _text(a, "account_name", subject.get("name") or subject["customer_id"], 255)
    _text(a, "client_number", safe_ref(subject["customer_id"], 30))
    _text(a, "personal_account_type", s.account_type)
    sig = ET.SubElement(a, "signatory")
    _text(sig, "is_primary", "true")
    _person_my_client(sig, "t_person", subject, s)
    _text(sig, "role", s.signatory_role)
    _text(a, "opened", f"{s.unknown_date}T00:00:00")
    if t.get("balance_after") is not None:
        _text(a, "balance", f"{float(t['balance_after']):.2f}")
        _text(a, "date_balance", parse_ts(t["ts"]).strftime("%Y-%m-%dT%H:%M:%S"))
    _text(a, "status_code", s.account_status)
    note = "Account opening date not in the source data (placeholder)."
    if t.get("card_id"):
        note += f" Card {t['card_id']}."
    _text(a, "comments", note, COMMENTS_MAX)


def _entity(
    parent: ET.Element,
    tag: str,
    name: str,
    phone: str | None,
    s: GoamlSettings,
    comment: str | None = None,
) -> None:
    e = ET.SubElement(parent, tag)
    _text(e, "name", name, 255)
    if phone:
        _phones(e, [phone], s)
    if comment:
        _text(e, "comments", comment, COMMENTS_MAX)


def _phones(parent: ET.Element, numbers: list[str], s: GoamlSettings) -> None:
    phones = ET.SubElement(parent, "phones")
    for number in numbers:
        ph = ET.SubElement(phones, "phone")
        _text(ph, "tph_contact_type", s.phone_contact_type)
        _text(ph, "tph_communication_type", s.phone_communication_type)
        prefix, rest = s.default_phone_prefix, number
        if number.startswith("+"):
            head, _, tail = number[1:].partition("-")
            if head.isdigit() and tail:
                prefix, rest = head[:4], tail
        _text(ph, "tph_country_prefix", prefix, 4)
        _text(ph, "tph_number", rest, 50)


def _address(
    parent: ET.Element,
    tag: str,
    s: GoamlSettings,
    address: str,
    city: str,
    country: str,
    state: str | None = None,
    zip_code: str | None = None,
) -> None:
    el = ET.SubElement(parent, tag)
    _text(el, "address_type", s.address_type)
    _text(el, "address", address or s.unknown_text, 100)
    _text(el, "city", city or s.unknown_text, 255)
    if zip_code:
        _text(el, "zip", zip_code, 10)
    _text(el, "country_code", country)
    if state:
        _text(el, "state", state, 255)


# ---------------------------------------------------------------------- helpers
def _text(parent: ET.Element, tag: str, value: str, limit: int | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    el.text = clean_text(str(value), limit)
    return el


def _date(value: str) -> str:
    """An RFC 3339 instant as goAML's ``sql_date`` (date only, midnight, no offset)."""
    return f"{parse_ts(value).date().isoformat()}T00:00:00"


def _country(value: Any, s: GoamlSettings) -> str:
    return (
        value.upper()
        if isinstance(value, str) and len(value) == 2 and value.isalpha()
        else s.default_country
    )
