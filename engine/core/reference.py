"""Reference lists (CONTRACT §3): merchant, counterparty and memo lists the rules need.

The shipped defaults (``schemas/reference/default_lists.json``) are illustrative, not
intelligence. A file with the same shape replaces lists by name. Matching is
case-insensitive substring search (Aho-Corasick in polars) over the fields a list names;
country and location lists match exactly. The result is one ``ref_flags`` bit mask per row.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from engine.errors import ReferenceListError
from indicators import columns as col
from schemas import data_path

DEFAULT_LISTS = data_path("reference/default_lists.json")

# list name -> (bit, exact match?)
LIST_BITS: dict[str, tuple[int, bool]] = {
    "escort_ad_platforms": (col.REF_ESCORT_AD, False),
    "ad_premium_terms": (col.REF_AD_PREMIUM, False),
    "escort_processors": (col.REF_ESCORT_PROCESSOR, False),
    "vc_dealers": (col.REF_VC_DEALER, False),
    "gift_card_sellers": (col.REF_GIFT_CARD, False),
    "inmate_call_providers": (col.REF_INMATE_CALL, False),
    "luxury_merchants": (col.REF_LUXURY, False),
    "lodging_platforms": (col.REF_LODGING_PLATFORM, False),
    "escort_memo_lexicon": (col.REF_ESCORT_MEMO, False),
    "source_jurisdictions": (col.REF_SOURCE_JURISDICTION, True),
    "white_label_atms": (col.REF_WHITE_LABEL_ATM, True),
    "rent_terms": (col.REF_RENT, False),
    "gaming_operators": (col.REF_GAMING_OPERATOR, False),
    "online_payment_services": (col.REF_PAYMENT_SERVICE, False),
    "vague_purpose_terms": (col.REF_VAGUE_PURPOSE, False),
    "investment_platforms": (col.REF_INVESTMENT_PLATFORM, False),
}
MATCHABLE_FIELDS = (
    "merchant_name", "counterparty_name", "memo", "country", "counterparty_country", "location_id",
)  # fmt: skip
# An alias in brackets after a handle or address: ``jane@example.com (Bambi)`` (F16-P11).
BRACKET_ALIAS = r"\S+\s*\([^()]{1,40}\)\s*$"


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
            {n: [lst.fields, lst.terms, lst.whole_words] for n, lst in sorted(self.lists.items())}, sort_keys=True
        )
        self.digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]

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

    def replace(self, name: str, document: Mapping) -> ReferenceLists:
        """A copy with list ``name`` replaced (used for updates from the ``reference`` topic)."""
        lists = dict(self.lists)
        lists.update(_parse(Path(f"<reference topic:{name}>"), {name: document}))
        return ReferenceLists(lists)

    def flags(self, frame: pl.DataFrame) -> np.ndarray:
        """``ref_flags`` (int64 per row) for a frame with the ``MATCHABLE_FIELDS`` columns."""
        exprs = []
        for name, lst in self.lists.items():
            bit, exact = LIST_BITS[name]
            if not lst.terms:
                continue
            if exact:
                hits = [pl.col(f).is_in(list(lst.terms)) for f in lst.fields]
            elif lst.whole_words:
                pattern = r"(?i)\b(?:" + "|".join(re.escape(t) for t in lst.terms) + r")\b"
                hits = [pl.col(f).str.contains(pattern) for f in lst.fields]
            else:
                upper = [t.upper() for t in lst.terms]
                hits = [pl.col(f).str.to_uppercase().str.contains_any(upper) for f in lst.fields]
            exprs.append(pl.any_horizontal(hits).fill_null(False).cast(pl.Int64) * bit)
        exprs.append(
            pl.col("counterparty_name").str.contains(BRACKET_ALIAS).fill_null(False).cast(pl.Int64)
            * col.REF_BRACKET_ALIAS
        )
        result = frame.select(pl.sum_horizontal(exprs).alias("ref_flags"))["ref_flags"]
        return result.to_numpy().astype(np.int64, copy=False)


def _parse(origin: Path, document: Mapping) -> dict[str, ReferenceList]:
    if not isinstance(document, Mapping):
        raise ReferenceListError(f"{origin}: expected a JSON object of lists, got {type(document).__name__}")
    lists = {}
    for name, body in document.items():
        if name.startswith("_"):
            continue  # comments such as "_notice"
        if name not in LIST_BITS:
            raise ReferenceListError(f"{origin}: unknown list {name!r}; known lists: {sorted(LIST_BITS)}")
        if not isinstance(body, Mapping) or not isinstance(body.get("terms"), list):
            raise ReferenceListError(f"{origin}: list {name!r} needs {{'match': ..., 'terms': [...]}}")
        fields = tuple(str(body.get("match", "merchant_name")).split("|"))
        bad = [f for f in fields if f not in MATCHABLE_FIELDS]
        if bad:
            raise ReferenceListError(
                f"{origin}: list {name!r} matches unknown field(s) {bad}; valid: {list(MATCHABLE_FIELDS)}"
            )
        terms = tuple(str(t) for t in body["terms"] if str(t).strip())
        lists[name] = ReferenceList(name, fields, terms, bool(body.get("whole_words", False)))
    return lists
