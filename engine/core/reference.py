"""Reference lists (CONTRACT §3): merchant, counterparty and memo lists the rules need.

The shipped defaults (``schemas/reference/default_lists.json``) are illustrative, not
intelligence. A file with the same shape replaces lists by name. Matching is
case-insensitive substring search (Aho-Corasick in polars) over the fields a list names;
country and location lists match exactly. The result is one ``ref_flags`` bit mask per row,
with the bits the registry allocated to the lists rules declare (``indicators.inputs``); a
list no rule reads is parsed but not matched.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from engine.core.distinct import by_distinct
from engine.errors import ReferenceListError
from indicators.registry import LAYOUT
from schemas import data_path

DEFAULT_LISTS = data_path("reference/default_lists.json")

MATCHABLE_FIELDS = (
    "merchant_name", "counterparty_name", "memo", "country", "counterparty_country", "location_id",
)  # fmt: skip
# Codes and ids compare whole: "CA" must not match inside "CAD", nor ATM "W1" inside "W12".
EXACT_FIELDS = ("country", "counterparty_country", "location_id")
# An alias in brackets after a handle or address: ``jane@example.com (Bambi)`` (F16-P11).
BRACKET_ALIAS = r"\S+\s*\([^()]{1,40}\)\s*$"
PATTERNS = ("bracket_alias",)  # reference inputs the engine computes itself, not lists


def known_lists() -> set[str]:
    """Lists a file may name: the shipped ones and any a rule declares."""
    return _SHIPPED | (set(LAYOUT.reference) - set(PATTERNS))


@dataclass(frozen=True)
class ReferenceList:
    name: str
    fields: tuple[str, ...]
    terms: tuple[str, ...]
    whole_words: bool = False  # "RENT" must not match "PARENT" or "CURRENT"


class ReferenceLists:
    """An immutable set of lists with a digest that goes into the alerts' ``config_hash``."""

    def __init__(self, lists: Mapping[str, ReferenceList]):
        self.lists = dict(lists)
        canonical = json.dumps(
            {n: [lst.fields, lst.terms, lst.whole_words] for n, lst in sorted(self.lists.items())},
            sort_keys=True,
        )
        self.digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
        self._matches = _field_matches(self.lists)

    @classmethod
    def load(cls, path: Path | None = None) -> ReferenceLists:
        """Shipped defaults, with the lists in ``path`` (same JSON shape) replacing them by name."""
        lists = _parse(DEFAULT_LISTS, json.loads(DEFAULT_LISTS.read_text()))
        if path is not None:
            try:
                document = json.loads(Path(path).read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise ReferenceListError(f"reference list file {path}: {exc}") from exc
            lists.update(_parse(Path(path), document))
        return cls(lists)

    def replace(self, name: str, document: Mapping[str, Any]) -> ReferenceLists:
        """A copy with list ``name`` replaced (used for updates from the ``reference`` topic)."""
        lists = dict(self.lists)
        lists.update(_parse(Path(f"<reference topic:{name}>"), {name: document}))
        return ReferenceLists(lists)

    def flags(self, frame: pl.DataFrame) -> np.ndarray:
        """``ref_flags`` (int64 per row) for a frame with the ``MATCHABLE_FIELDS`` columns.

        A list's bit is set when any of its fields matches, so the mask is the OR over the
        fields of each field's own bits; text fields are matched once per distinct value
        (names and memos repeat), codes compared whole on every row (cheap)."""
        flags = np.zeros(frame.height, dtype=np.int64)
        for name, exprs in self._matches.items():
            bits = partial(_bits, exprs=exprs)
            flags |= bits(frame) if name in EXACT_FIELDS else by_distinct(frame, (name,), bits)
        return flags


def _bits(frame: pl.DataFrame, exprs: list[pl.Expr]) -> np.ndarray:
    mask = frame.select(pl.sum_horizontal(exprs).alias("_bits"))["_bits"]
    return mask.to_numpy().astype(np.int64, copy=False)


def _field_matches(lists: Mapping[str, ReferenceList]) -> dict[str, list[pl.Expr]]:
    """Per field, one int64 expression per list matched on it: the list's bit or 0."""
    matches: dict[str, list[pl.Expr]] = {}
    for name, lst in lists.items():
        bit = LAYOUT.bit("reference", name)
        if not lst.terms or not bit:
            continue
        for f in dict.fromkeys(lst.fields):  # a field named twice counts once
            if f in EXACT_FIELDS:
                hit = pl.col(f).is_in(list(lst.terms))
            elif lst.whole_words:
                words = "|".join(re.escape(t) for t in lst.terms)
                hit = pl.col(f).str.contains(r"(?i)\b(?:" + words + r")\b")
            else:
                upper = [t.upper() for t in lst.terms]
                hit = pl.col(f).str.to_uppercase().str.contains_any(upper)
            matches.setdefault(f, []).append(hit.fill_null(False).cast(pl.Int64) * bit)
    alias = pl.col("counterparty_name").str.contains(BRACKET_ALIAS).fill_null(False)
    bit = LAYOUT.bit("reference", "bracket_alias")
    matches.setdefault("counterparty_name", []).append(alias.cast(pl.Int64) * bit)
    return matches


def _parse(origin: Path, document: Mapping[str, Any]) -> dict[str, ReferenceList]:
    if not isinstance(document, Mapping):
        raise ReferenceListError(
            f"{origin}: expected a JSON object of lists, got {type(document).__name__}"
        )
    lists = {}
    for name, body in document.items():
        if name.startswith("_"):
            continue  # comments such as "_notice"
        if name not in known_lists():
            raise ReferenceListError(
                f"{origin}: unknown list {name!r}; known lists: {sorted(known_lists())}"
            )
        if not isinstance(body, Mapping) or not isinstance(body.get("terms"), list):
            raise ReferenceListError(
                f"{origin}: list {name!r} needs {{'match': ..., 'terms': [...]}}"
            )
        fields = tuple(str(body.get("match", "merchant_name")).split("|"))
        bad = [f for f in fields if f not in MATCHABLE_FIELDS]
        if bad:
            raise ReferenceListError(
                f"{origin}: list {name!r} matches unknown field(s) {bad}; "
                f"valid: {list(MATCHABLE_FIELDS)}"
            )
        terms = tuple(str(t) for t in body["terms"] if str(t).strip())
        lists[name] = ReferenceList(name, fields, terms, bool(body.get("whole_words", False)))
    return lists


_SHIPPED = {name for name in json.loads(DEFAULT_LISTS.read_text()) if not name.startswith("_")}
