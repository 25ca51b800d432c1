"""FINTRAC suspicious transaction report (STR) JSON from a disclosure package.

The output validates against ``schemas/reference/fintrac-str-v1.schema.json`` (FINTRAC's
API schema). That schema types many fields as integer option codes but does not carry
FINTRAC's code tables, so every such code comes from :class:`FintracCodes`, whose
defaults (``schemas/reference/fintrac_codes.json``) are **placeholders** to replace with
FINTRAC's published values before filing.

How a contract transaction maps (one STR transaction per supporting transaction):

* *starting action*: how the funds came in: the fund type (``fund_type_by_txn_type``),
  amount and currency; for money leaving the subject's account, that account (holder:
  the subject) and the subject as conductor, with device and IP when present; for money
  arriving from a third party, that party as the source of funds.
* *completing action*: what happened to them (``disposition_by_txn_type``): deposit to the
  subject's account (beneficiary: the subject), a purchase (beneficiary: the merchant),
  an outgoing transfer (beneficiary: the counterparty), cash out (beneficiary: the
  subject); with the CAD value and rate for foreign-currency amounts.

Parties are written once per form in ``definitions`` (the schema's ``typeCode`` picks
the form: 1/2 name only, 3/4 details, 5/6 conductor details, for a person / entity) and
referenced by ``refId``. Counterparty person-or-entity is a heuristic (the contract does
not say; see :func:`engine.cases.disclosure.common.looks_like_entity`).

No control or bidi-control character reaches the report: the package is read through
:func:`~engine.cases.disclosure.common.strip_unsafe_all` first (the narrative keeps its
newlines), so a value that was only such characters is left out like an empty one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine.cases.disclosure.codes import FintracCodes, default_codes
from engine.cases.disclosure.common import (
    direction,
    looks_like_entity,
    offset_text,
    parse_ts,
    plain_amount,
    safe_ref,
    split_name,
    strip_unsafe_all,
)

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_EMPTY_VC: dict[str, list] = {
    "virtualCurrencyTransactionIds": [],
    "sendingVirtualCurrencyAddresses": [],
    "receivingVirtualCurrencyAddresses": [],
}


# ---------------------------------------------------------------------- report
def to_fintrac_str(package: Mapping[str, Any], codes: FintracCodes | None = None) -> dict:
    """The FINTRAC STR JSON object for ``package`` (validate with ``validate_fintrac``)."""
    codes = codes or default_codes()
    # before anything is derived from it, so cut-offs and empty checks see the clean text
    package = strip_unsafe_all(package, multiline_keys=frozenset({"narrative"}))
    defs = _Definitions()
    subjects = {s["customer_id"]: s for s in package["subjects"]}
    details: dict[str, Any] = {
        "reportTypeCode": codes.report_type,
        "submitTypeCode": codes.submit_type,
        "reportingEntityNumber": codes.reporting_entity_number,
        "submittingReportingEntityNumber": codes.submitting_reporting_entity_number
        or codes.reporting_entity_number,
        "reportingEntityReportReference": safe_ref(
            f"{package['case_id']}-V{package['version']}", 100
        ),
        "reportingEntityContactId": codes.contact_id,
    }
    if codes.activity_sector is not None:
        details["activitySectorCode"] = codes.activity_sector
    suspicion: dict[str, Any] = {
        "descriptionOfSuspiciousActivity": package["narrative"],
        "publicPrivatePartnershipProjectNameCodes": [codes.ppp_projects[package["ppp_code"]]],
    }
    if codes.suspicion_type is not None:
        suspicion["suspicionTypeCode"] = codes.suspicion_type
    transactions = [
        _transaction(t, subjects[t["customer_id"]], defs, codes) for t in package["transactions"]
    ]
    return {
        "reportDetails": details,
        "detailsOfSuspicion": suspicion,
        "relatedReports": [],
        "actionTaken": {"description": codes.action_taken},
        "definitions": defs.items,
        "transactions": transactions,
    }


def _transaction(
    t: Mapping[str, Any], subject: Mapping[str, Any], defs: _Definitions, codes: FintracCodes
) -> dict:
    ts = parse_ts(t["ts"])
    kind = t["txn_type"]
    flow = direction(kind)
    money = {"amount": plain_amount(t["amount"]), "currencyCode": t["currency"], **_EMPTY_VC}
    account = {
        "number": t["account_id"][:100],
        "typeCode": codes.account_type,
        "holders": [
            {"typeCode": 2 if _is_entity(subject) else 1, "refId": defs.subject(subject, "name")}
        ],
    }
    cp = _counterparty(t)
    merchant = t.get("merchant_name")

    start_details: dict[str, Any] = {
        "fundAssetVirtualCurrencyTypeCode": codes.fund_type_by_txn_type[kind],
        **money,
    }
    conductors: list[dict] = []
    sources: list[dict] = []
    if flow == "in" and cp is not None:
        sources.append({"typeCode": 2 if cp["entity"] else 1, "refId": defs.party(cp, "name")})
        start_details["sourcesOfFundsOrVirtualCurrencyIndicator"] = True
        start_details["conductorIndicator"] = False
    else:  # the subject conducted it: their own account, card, device or a cash deposit
        if flow == "out":
            start_details["account"] = account
        conductors.append(
            {
                "typeCode": 6 if _is_entity(subject) else 5,
                "refId": defs.subject(subject, "conductor"),
                "details": {
                    k: v
                    for k, v in (
                        ("clientNumber", subject["customer_id"][:100]),
                        ("deviceIdentifierNumber", (t.get("device_id") or "")[:200] or None),
                        ("internetProtocolAddress", (t.get("ip") or "")[:200] or None),
                    )
                    if v
                },
                "onBehalfOfs": [],
            }
        )
        start_details["conductorIndicator"] = True

    end_details: dict[str, Any] = {"dispositionCode": codes.disposition_by_txn_type[kind], **money}
    if t["currency"] != "CAD" and t.get("amount_cad") is not None:
        end_details["valueInCanadianDollars"] = plain_amount(t["amount_cad"])
        if float(t["amount"]) > 0:
            end_details["exchangeRate"] = f"{float(t['amount_cad']) / float(t['amount']):.6f}"
    beneficiaries = []
    if flow == "in" or kind in ("cash_withdrawal", "cash_advance"):
        if flow == "in":
            end_details["account"] = account
        beneficiaries.append(
            {
                "typeCode": 4 if _is_entity(subject) else 3,
                "refId": defs.subject(subject, "details"),
                "details": {"clientNumber": subject["customer_id"][:100]},
            }
        )
    elif cp is not None:
        extra = {"emailAddress": cp["email"][:200]} if cp.get("email") else {}
        beneficiaries.append(
            {
                "typeCode": 4 if cp["entity"] else 3,
                "refId": defs.party(cp, "details"),
                "details": extra,
            }
        )
    elif merchant:
        m = {"key": f"M-{t.get('merchant_id') or merchant}", "name": merchant, "entity": True}
        beneficiaries.append({"typeCode": 4, "refId": defs.party(m, "details"), "details": {}})
    end_details["beneficiaryIndicator"] = bool(beneficiaries)

    suspicious: dict[str, Any] = {
        "attemptedTransactionIndicator": bool(t.get("attempted", False)),
        "dateOfTransaction": ts.date().isoformat(),
        "timeOfTransaction": ts.strftime("%H:%M:%S") + offset_text(ts),
        "methodCode": codes.method_by_channel[t["channel"]],
        "reportingEntityTransactionReference": safe_ref(t["txn_id"], 200),
    }
    if t.get("attempted"):
        suspicious["reasonNotCompleted"] = (
            "Attempted; not completed (reason not recorded by the source system)"
        )
    if t.get("memo"):
        suspicious["purpose"] = t["memo"][:200]
    location = t.get("location_id") if t["channel"] == "branch" else None
    return {
        "reportingEntityLocationId": (location or codes.default_location_id)[:30],
        "suspiciousTransactionDetails": suspicious,
        "startingActions": [
            {
                "details": start_details,
                "sourcesOfFundsOrVirtualCurrency": sources,
                "conductors": conductors,
            }
        ],
        "completingActions": [
            {"details": end_details, "involvements": [], "beneficiaries": beneficiaries}
        ],
    }


# ---------------------------------------------------------------------- parties
def _is_entity(subject: Mapping[str, Any]) -> bool:
    return subject.get("party_type") == "entity"


def _counterparty(t: Mapping[str, Any]) -> dict | None:
    name = t.get("counterparty_name")
    if not (t.get("counterparty_id") or name):
        return None
    return {
        "key": f"P-{t.get('counterparty_id') or name}",
        "name": name,
        "email": t.get("counterparty_email"),
        "phone": t.get("counterparty_phone"),
        "country": t.get("counterparty_country"),
        "entity": looks_like_entity(name, t.get("counterparty_id")),
    }


class _Definitions:
    """Each party once per form; ``refId`` = party key + form, made schema-safe."""

    FORMS = {"name": (1, 2), "details": (3, 4), "conductor": (5, 6)}

    def __init__(self) -> None:
        self.items: list[dict] = []
        self._refs: dict[tuple[str, str], str] = {}

    def _add(self, key: str, form: str, build) -> str:
        ref = self._refs.get((key, form))
        if ref is None:
            ref = self._refs[(key, form)] = safe_ref(f"{key}-{form[0].upper()}", 50)
            self.items.append({"refId": ref, **build()})
        return ref

    def subject(self, s: Mapping[str, Any], form: str) -> str:
        entity = _is_entity(s)
        type_code = self.FORMS[form][entity]

        def build() -> dict:
            given, surname, alias = split_name(s.get("name"))
            if entity:
                out: dict[str, Any] = {
                    "typeCode": type_code,
                    "nameOfEntity": (s.get("name") or s["customer_id"])[:100],
                }
            else:
                out = {"typeCode": type_code, **_names(given, surname)}
            if form == "name":
                return out
            alias = alias or (s.get("aliases") or [None])[0]
            if alias and not entity:
                out["alias"] = alias[:100]
            if s.get("addresses"):
                out["addressTypeCode"] = 2
                out["address"] = {
                    "typeCode": 2,
                    "unstructured": s["addresses"][0][:500],
                    **(
                        {"countryCode": s["home_country"]} if _alpha2(s.get("home_country")) else {}
                    ),
                }
            if s.get("phones"):
                out["telephoneNumber"] = s["phones"][0][:20]
            if not entity:
                if s.get("birth_date") and _DATE.match(s["birth_date"]):
                    out["dateOfBirth"] = s["birth_date"]
                if _alpha2(s.get("home_country")):
                    out["countryOfResidenceCode"] = s["home_country"]
                if s.get("occupation"):
                    out["occupation"] = s["occupation"][:200]
                out["identifications"] = []
            else:
                _entity_arrays(out, type_code)
            return out

        return self._add(f"S-{s['customer_id']}", form, build)

    def party(self, p: Mapping[str, Any], form: str) -> str:
        entity = bool(p.get("entity"))
        type_code = self.FORMS[form][entity]

        def build() -> dict:
            if entity:
                out: dict[str, Any] = {
                    "typeCode": type_code,
                    "nameOfEntity": (p.get("name") or "Unknown")[:100],
                }
            else:
                given, surname, alias = split_name(p.get("name"))
                out = {"typeCode": type_code, **_names(given, surname)}
                if alias and form != "name":
                    out["alias"] = alias[:100]
            if form == "name":
                return out
            if p.get("phone"):
                out["telephoneNumber"] = p["phone"][:20]
            if entity:
                _entity_arrays(out, type_code)
            else:
                if _alpha2(p.get("country")):
                    out["countryOfResidenceCode"] = p["country"]
                out["identifications"] = []
            return out

        return self._add(p["key"], form, build)


def _names(given: str | None, surname: str | None) -> dict:
    return {k: v[:100] for k, v in (("surname", surname), ("givenName", given)) if v}


def _alpha2(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 2


def _entity_arrays(out: dict, type_code: int) -> None:
    """The arrays the entity forms require (empty: the contract does not carry them)."""
    out["identifications"] = []
    out["authorizedPersons"] = []
    out["registrationsIncorporations"] = []
    if type_code == 6:
        for name in (
            "directorsOfCorporation",
            "personsOwningSharesOfCorporation",
            "trusteesOfTrust",
            "settlorsOfTrust",
            "personsOwningUnitsOfTrust",
            "beneficiariesOfTrust",
            "personsOwningEntityNotCorporationOrTrust",
        ):
            out[name] = []
