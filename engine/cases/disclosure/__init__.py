"""Disclosure packages and regulatory exports (CONTRACT §5), as pure functions.

Case assembly (the Faust agents) keeps one :class:`Case` per subject and republishes the
package whenever a case changes::

    from engine.cases.disclosure import add_alert, build_package, open_case, export

    case = open_case(alert, profiles.get(alert.customer_id))
    case, changed = add_alert(case, next_alert)        # duplicate alert_id: changed is False
    package = build_package(case, profiles)            # dict for the `disclosures` topic
    export(package, "goaml")                           # bytes of a validated goAML report

Modules: ``case`` (the case value and its transitions), ``package`` (the package),
``graph`` / ``timeline`` / ``narrative`` (its sections), ``fintrac`` and ``goaml`` (the
exports), ``codes`` (their code tables: placeholders until configured), ``validate``
(official-schema validation), ``errors``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from engine.cases.disclosure.case import (
    OPEN_STATUSES,
    STATUSES,
    Case,
    Subject,
    add_alert,
    case_id_for,
    decode_case,
    encode_case,
    link,
    open_case,
    with_status,
)
from engine.cases.disclosure.errors import (
    CaseError,
    CodeTableError,
    DisclosureError,
    ExportValidationError,
)
from engine.cases.disclosure.fintrac import FintracCodes, to_fintrac_str
from engine.cases.disclosure.goaml import GoamlSettings, to_goaml_xml
from engine.cases.disclosure.package import PACKAGE_FIELDS, build_package
from engine.cases.disclosure.validate import validate_fintrac, validate_goaml

FORMATS = ("fintrac", "goaml")
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

__all__ = [
    "FORMATS", "OPEN_STATUSES", "PACKAGE_FIELDS", "STATUSES",
    "Case", "CaseError", "CodeTableError", "DisclosureError", "ExportValidationError",
    "FintracCodes", "GoamlSettings", "Subject",
    "add_alert", "build_package", "case_id_for", "decode_case", "encode_case", "export", "link",
    "open_case",
    "to_fintrac_str", "to_goaml_xml", "validate_fintrac", "validate_goaml", "with_status",
]  # fmt: skip


def export(package: Mapping[str, Any], fmt: str) -> bytes:
    """The file an analyst files: ``fintrac`` (STR JSON, UTF-8) or ``goaml`` (XML), validated.

    Uses the export carried in the package (``exports.fintrac_str`` / ``exports.goaml_xml``)
    and raises :class:`ExportValidationError` if it does not validate against the
    official schema, so an invalid report never reaches a file.
    """
    if fmt not in FORMATS:
        raise DisclosureError(f"export format {fmt!r} is not one of {FORMATS}")
    exports = package.get("exports") or {}
    if fmt == "fintrac":
        report = exports.get("fintrac_str") or to_fintrac_str(package)
        validate_fintrac(report)
        return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    xml = exports.get("goaml_xml") or to_goaml_xml(package)
    validate_goaml(xml)
    root = ET.fromstring(xml)
    ET.indent(root)  # for the analyst's file; the package carries it compact
    return (_XML_DECLARATION + ET.tostring(root, encoding="unicode") + "\n").encode("utf-8")
