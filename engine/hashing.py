"""Stable 64-bit hashes of identifiers, so state written by one process matches the next.

Python's ``hash()`` is salted per process, hence BLAKE2b. Values repeat heavily (cities,
merchants, counterparties), so a bounded memo keeps the per-row cost to a dict lookup.
"""

from __future__ import annotations

import hashlib

_MEMO: dict[str, int] = {}
_MEMO_LIMIT = 2_000_000


def stable_hash(text: str) -> int:
    """Signed 64-bit BLAKE2b hash of ``text``; never 0 (0 means "missing" in columns)."""
    value = _MEMO.get(text)
    if value is None:
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little", signed=True) or 1
        if len(_MEMO) >= _MEMO_LIMIT:
            _MEMO.clear()
        _MEMO[text] = value
    return value


def place_key(city: str | None, province: str | None) -> str | None:
    """Normalised ``city|PROVINCE`` used for both transaction and home cities."""
    if not city:
        return None
    return f"{' '.join(city.split()).casefold()}|{(province or '').strip().upper()}"


def contact_key(email: str | None, phone: str | None = None) -> int:
    """Hash of how a person is reached: the e-mail (case-folded), else the phone's last ten
    digits; 0 when neither is usable. The same key on another customer's row
    (``counterparty_email`` / ``counterparty_phone``) and on a profile names the same person."""
    if email and "@" in email:
        return stable_hash("contact:" + email.strip().casefold())
    digits = "".join(ch for ch in (phone or "").split("x")[0] if ch.isdigit())
    return stable_hash("contact:+" + digits[-10:]) if len(digits) >= 7 else 0
