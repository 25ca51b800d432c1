"""Small shared helpers: money, directions of transaction types, names, roles, text."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# Direction of a transaction type from the account holder's side (CONTRACT §1 txn_type).
INFLOW_TYPES = frozenset({
    "cash_deposit", "emt_in", "wire_in", "eft_in", "transfer_in", "refund", "reversal",
    "prepaid_load", "vc_sell", "casino_cash_out",
})  # fmt: skip
OUTFLOW_TYPES = frozenset({
    "purchase", "preauth", "cash_withdrawal", "cash_advance", "emt_out", "wire_out", "eft_out",
    "transfer_out", "bill_payment", "card_to_card", "vc_buy", "casino_buy_in",
})  # fmt: skip
CASH_TYPES = frozenset({"cash_deposit", "cash_withdrawal", "cash_advance"})

TYPE_LABELS = {  # plural; the singular drops the final "s"
    "purchase": "card purchases", "refund": "refunds", "reversal": "reversals",
    "preauth": "pre-authorizations", "cash_deposit": "cash deposits",
    "cash_withdrawal": "cash withdrawals", "cash_advance": "cash advances",
    "emt_in": "incoming e-transfers", "emt_out": "outgoing e-transfers",
    "wire_in": "incoming wires", "wire_out": "outgoing wires",
    "eft_in": "incoming EFTs", "eft_out": "outgoing EFTs",
    "transfer_in": "incoming transfers", "transfer_out": "outgoing transfers",
    "bill_payment": "bill payments", "prepaid_load": "prepaid card loads",
    "card_to_card": "card-to-card transfers", "vc_buy": "virtual-currency purchases",
    "vc_sell": "virtual-currency sales", "casino_buy_in": "casino buy-ins",
    "casino_cash_out": "casino cash-outs",
}  # fmt: skip

# Plain-language role labels. A possible victim is never labelled with a word for a
# perpetrator (FinCEN FIN-2020-A008); FINTRAC asks filers to state each party's role.
ROLE_LABELS = {
    "possible_victim": "possible victim",
    "suspected_trafficker": "suspected trafficker",
    "collector_nominee": "possible collector or nominee",
    "unknown": "role not determined",
}

CENT = Decimal("0.01")
_CORPORATE = re.compile(
    r"\b(LTD|LIMITED|INC|CORP|CORPORATION|LLC|LLP|CO|COMPANY|BANK|CREDIT UNION|GOVERNMENT|CANADA|"
    r"SERVICES|LEASING|HOLDINGS|GROUP|MOBILE|TELECOM|HYDRO|ENERGY|INSURANCE|PROPERTIES|MANAGEMENT)\b",
    re.IGNORECASE,
)
_ALIAS = re.compile(r"^(?P<base>.*?)\s*\((?P<alias>[^()]+)\)\s*$")
_REF_OK = re.compile(r"^[A-Za-z0-9_-]+$")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Characters no export may carry (issue #15): C0 and C1 controls and DEL (a NUL truncates
# the text in some readers), and the bidi embeddings, overrides, isolates and marks, which
# make a reader see text in another order than it is stored ("Trojan Source"). Lone
# surrogates and U+FFFE/U+FFFF are not XML 1.0 characters. Tab and newline are handled
# apart: kept only where the text is multi-line (the narrative).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff\ufffe\uffff]"
)
_LINE_BREAKS = re.compile("[\t\n\r\u2028\u2029]+")
SUPPLIED = "counterparty-supplied text"  # the marker before every quoted outside text
QUOTE_MAX = 200  # characters of one quoted outside text (contract Text is 200 long)


def direction(txn_type: str) -> str:
    """``in``, ``out`` or ``other`` for the subject's account."""
    if txn_type in INFLOW_TYPES:
        return "in"
    if txn_type in OUTFLOW_TYPES:
        return "out"
    return "other"


def decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def cad(txn: Any) -> Decimal | None:
    """CAD value of a transaction (struct or dict): ``amount_cad``, else ``amount`` if in CAD."""
    get = txn.get if isinstance(txn, dict) else lambda k: getattr(txn, k, None)
    if get("amount_cad") is not None:
        return decimal(get("amount_cad"))
    if get("currency") == "CAD":
        return decimal(get("amount"))
    return None


def round2(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def money(value: float | Decimal) -> str:
    """``1234.5`` -> ``'1,234.50'`` (the narrative's format)."""
    return f"{Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def plain_amount(value: Any) -> str:
    """``'1234.50'``: two decimals, no separators (FINTRAC ``currencyAmount``, goAML decimals)."""
    return f"{decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def parse_ts(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def offset_text(ts: datetime) -> str:
    """``-05:00`` for the timestamp's own (local) offset."""
    off = ts.utcoffset()
    minutes = int(off.total_seconds() // 60) if off is not None else 0
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def split_name(name: str | None) -> tuple[str | None, str | None, str | None]:
    """``(given, surname, alias)`` from a display name; the alias is a bracketed nickname.

    >>> split_name("jane@example.com (Bambi)")
    (None, 'jane@example.com', 'Bambi')
    >>> split_name("Quinn Norani")
    ('Quinn', 'Norani', None)
    """
    if not name or not name.strip():
        return None, None, None
    alias = None
    match = _ALIAS.match(name.strip())
    if match and match.group("base"):
        name, alias = match.group("base"), match.group("alias").strip()
    parts = name.split()
    if len(parts) == 1 or "@" in name:
        return None, name.strip(), alias
    return " ".join(parts[:-1]), parts[-1], alias


def looks_like_entity(name: str | None, counterparty_id: str | None = None) -> bool:
    """Heuristic party type of a counterparty: the contract does not carry it.

    Billers and names with corporate words ("LTD", "BANK", "GOVERNMENT ...") or written
    all in capitals (how card and biller descriptors are printed) are treated as entities.
    """
    if counterparty_id and counterparty_id.startswith(("biller_", "m_")):
        return True
    if not name:
        return False
    letters = [c for c in name if c.isalpha()]
    return bool(_CORPORATE.search(name)) or (len(letters) > 3 and all(c.isupper() for c in letters))


def strip_unsafe(text: str, *, multiline: bool = False) -> str:
    """``text`` without control or bidi-control characters (see ``_UNSAFE``).

    Tabs and line breaks become one space unless ``multiline``, where tab and newline stay
    (a carriage return still goes: it could overwrite a line on a terminal).
    """
    if multiline:
        text = text.replace("\r\n", "\n")
        return _UNSAFE.sub("", text.replace("\r", "\n").replace("\u2028", "\n"))
    return _UNSAFE.sub("", _LINE_BREAKS.sub(" ", text))


def strip_unsafe_all(value: Any, *, multiline_keys: frozenset[str] = frozenset()) -> Any:
    """A copy of ``value`` (JSON-like) with :func:`strip_unsafe` applied to every string,
    dict keys included; strings under a key in ``multiline_keys`` keep tabs and newlines."""
    if isinstance(value, str):
        return strip_unsafe(value)
    if isinstance(value, list | tuple):
        return [strip_unsafe_all(v, multiline_keys=multiline_keys) for v in value]
    if isinstance(value, Mapping):
        return {
            strip_unsafe(k) if isinstance(k, str) else k: (
                strip_unsafe(v, multiline=True)
                if k in multiline_keys and isinstance(v, str)
                else strip_unsafe_all(v, multiline_keys=multiline_keys)
            )
            for k, v in value.items()
        }
    return value


def supplied(text: Any) -> str:
    """Outside text for a sentence the reporting entity signs: marked, quoted, inert.

    Counterparty names, memos, merchant descriptors and their identifiers are chosen by
    someone other than the reporting entity; unquoted, ``Compliance reviewed this
    activity ...`` in a name would read as the entity's own words. Double quotes inside
    become single ones so the text cannot close its quote, line breaks become spaces so
    it cannot start a heading of its own, and it is cut at ``QUOTE_MAX`` characters.
    """
    inner = strip_unsafe(str(text)).replace('"', "'").strip()
    if len(inner) > QUOTE_MAX:
        inner = inner[: QUOTE_MAX - 1] + "…"
    return f'{SUPPLIED}: "{inner}"'


def clean_text(text: str, limit: int | None = None) -> str:
    """Text safe for XML 1.0 (no control or bidi characters) within ``limit`` characters."""
    text = _XML_BAD.sub(" ", _UNSAFE.sub("", text))
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def safe_ref(text: str, limit: int) -> str:
    """``text`` when it is a valid reference (``[A-Za-z0-9_-]``, at most ``limit`` long),
    else a readable prefix plus a digest of the whole, so distinct inputs stay distinct."""
    if text and len(text) <= limit and _REF_OK.match(text):
        return text
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=5).hexdigest()
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", text)[: max(limit - len(digest) - 1, 0)]
    return f"{prefix}-{digest}" if prefix else digest[:limit]
