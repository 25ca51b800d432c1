"""Executable form of `CONTRACT.md`: typed structs, generated JSON Schemas and shipped data.

Data files here (origin noted in ``schemas/README.md``) are read through :func:`data_path`,
so the installed product never needs the repository's ``../shared`` folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from schemas.contract import (
    CASE_STATUSES,
    CHANNELS,
    CONTRACT_TYPES,
    DISPOSITION_ACTIONS,
    FAMILIES,
    FIELD_PATTERNS,
    FLAG_TYPES,
    ROLE_HYPOTHESES,
    TXN_TYPES,
    Alert,
    AlertIndicator,
    DeadLetter,
    Profile,
    ProfileFlag,
    Transaction,
)

__all__ = [
    "CASE_STATUSES",
    "DISPOSITION_ACTIONS",
    "CHANNELS", "CONTRACT_TYPES", "FIELD_PATTERNS", "FAMILIES", "FLAG_TYPES", "ROLE_HYPOTHESES",
    "TXN_TYPES",
    "Alert", "AlertIndicator", "DeadLetter", "Profile", "ProfileFlag", "Transaction",
    "data_path", "json_schema", "write_json_schemas",
]  # fmt: skip

_HERE = Path(__file__).parent


def data_path(name: str) -> Path:
    """Path of a data file shipped in this package (``mcc_codes.csv``, ``reference/...``)."""
    return _HERE / name


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema generated from the struct registered under ``name``."""
    schema = msgspec.json.schema(CONTRACT_TYPES[name])
    if name == "transaction":
        _inject_patterns(schema["$defs"]["Transaction"]["properties"])
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"Project Protect engine: {name}"
    return schema


def write_json_schemas(folder: Path = _HERE) -> list[Path]:
    """(Re)generate ``<name>.schema.json`` for every contract type; returns the paths."""
    paths = []
    for name in CONTRACT_TYPES:
        path = folder / f"{name}.schema.json"
        path.write_text(json.dumps(json_schema(name), indent=2, sort_keys=True) + "\n")
        paths.append(path)
    return paths


def _inject_patterns(properties: dict[str, Any]) -> None:
    """Put the decoder-checked FIELD_PATTERNS into the string branches of the properties."""
    for field, pattern in FIELD_PATTERNS.items():
        node = properties[field]
        for branch in node.get("anyOf", [node]):
            if branch.get("type") == "string":
                branch["pattern"] = pattern
