"""Stable 64-bit hashes of identifiers, so state written by one process matches the next.

Python's ``hash()`` is salted per process, hence BLAKE2b. Values repeat heavily (cities,
merchants, counterparties), so a bounded memo keeps the per-row cost to a dict lookup.
"""

from __future__ import annotations

import hashlib

import numba
import numpy as np

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


_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@numba.njit(cache=True, nogil=True)
def _fnv1a(codes: np.ndarray, out: np.ndarray) -> None:
    # FNV-1a over each row's UTF-32 code points; trailing zeros are numpy's padding.
    for i in range(codes.shape[0]):
        h = _FNV_OFFSET
        n = codes.shape[1]
        while n > 0 and codes[i, n - 1] == 0:
            n -= 1
        if n == 0:
            out[i] = 0
            continue
        for k in range(n):
            h = (h ^ np.uint64(codes[i, k])) * _FNV_PRIME
        v = np.int64(h)
        out[i] = v if v != 0 else np.int64(1)


def bulk_hash(values: list[str | None]) -> np.ndarray:
    """Stable 64-bit hashes of many mostly distinct strings (FNV-1a, in numba); 0 for
    missing. Not the same function as :func:`stable_hash`: use it for a column whose
    values are only ever compared with another ``bulk_hash`` column (transaction ids and
    the ``linked_txn_id`` that points at them), where a per-value BLAKE2b call and memo
    entry would cost more than the rest of the row."""
    if not values:
        return np.zeros(0, dtype=np.int64)
    text = np.array([v or "" for v in values], dtype=np.str_)
    codes = text.view(np.uint32).reshape(len(values), -1)
    out = np.empty(len(values), dtype=np.int64)
    _fnv1a(codes, out)
    return out
