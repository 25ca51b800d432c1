"""Validation of the exports against the official schemas shipped in ``schemas/reference/``.

Both functions raise :class:`ExportValidationError` listing every failing path, e.g.
``transactions/0/startingActions/0/details/amount: '12,5' does not match ...``; the
schemas are parsed once per process (the goAML XSD takes about a second).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from typing import Any

from engine.cases.disclosure.errors import ExportValidationError
from schemas import data_path

FINTRAC_SCHEMA = "reference/fintrac-str-v1.schema.json"
GOAML_XSD = "reference/goaml-5.0.1.xsd"


@cache
def _fintrac_validator():
    import json

    import jsonschema

    schema = json.loads(data_path(FINTRAC_SCHEMA).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@cache
def _goaml_schema():
    import xmlschema

    # The XSD declares vc:minVersion="1.1"; it loads in both processors, 1.1 honours that.
    return xmlschema.XMLSchema11(str(data_path(GOAML_XSD)))


def validate_fintrac(obj: Any) -> None:
    """Raise unless ``obj`` is a valid FINTRAC STR (``fintrac-str-v1.schema.json``)."""
    problems = sorted(
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in _fintrac_validator().iter_errors(obj)
    )
    if problems:
        raise ExportValidationError("FINTRAC STR", problems)


def validate_goaml(xml: str | bytes) -> None:
    """Raise unless ``xml`` is a valid goAML report (``goaml-5.0.1.xsd``)."""
    # Parse here rather than hand the text to xmlschema, which would read a string that
    # is not XML as a file path or URL.
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ExportValidationError("goAML", [f"(document): not well-formed XML: {exc}"]) from exc
    problems = [
        f"{error.path or '(root)'}: {error.reason or error.message}"
        for error in _goaml_schema().iter_errors(root)
    ]
    if problems:
        raise ExportValidationError("goAML", problems)
