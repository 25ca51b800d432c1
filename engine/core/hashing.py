"""Stable 64-bit hashes of identifiers, so state written by one process matches the next.

Python's ``hash()`` is salted per process, so the engine has its own: FNV-1a over the UTF-8
bytes, finished with MurmurHash3's 64-bit mixer (FNV alone spreads short, similar ids such
as ``C000123`` / ``C000124`` poorly in the low bits). It is written once in numba and used
two ways that agree bit for bit: :func:`stable_hash` for one string (memoised: values repeat
heavily) and :func:`hash_column` for a whole polars column, straight from its Arrow buffers
without a Python object per row. 0 means "missing": the empty string and null hash to 0, and
nothing else does.

Not a cryptographic hash: someone who can choose an identifier could choose one that
collides with another. What the hashes key (a customer's counterparties, devices, the party
index) is evidence for a rule, and every alert carries the identifiers themselves.
"""

from __future__ import annotations

import numba
import numpy as np
import polars as pl

_MEMO: dict[str, int] = {}
_MEMO_LIMIT = 2_000_000

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_MIX_1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX_2 = np.uint64(0xC4CEB9FE1A85EC53)
_SHIFT = np.uint64(33)


@numba.njit(cache=True, nogil=True)
def _hash_spans(data: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
    # Row i is data[offsets[i]:offsets[i + 1]] (Arrow's layout); an empty span hashes to 0.
    for i in range(out.shape[0]):
        start, end = offsets[i], offsets[i + 1]
        if start == end:
            out[i] = 0
            continue
        h = _FNV_OFFSET
        for k in range(start, end):
            h = (h ^ np.uint64(data[k])) * _FNV_PRIME
        h ^= h >> _SHIFT
        h *= _MIX_1
        h ^= h >> _SHIFT
        h *= _MIX_2
        h ^= h >> _SHIFT
        v = np.int64(h)
        out[i] = v if v != 0 else np.int64(1)


def stable_hash(text: str) -> int:
    """Signed 64-bit hash of ``text``'s UTF-8 bytes; 0 only for the empty string."""
    value = _MEMO.get(text)
    if value is None:
        data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        out = np.empty(1, dtype=np.int64)
        _hash_spans(data, np.array([0, data.size], dtype=np.int64), out)
        value = int(out[0])
        if len(_MEMO) >= _MEMO_LIMIT:
            _MEMO.clear()
        _MEMO[text] = value
    return value


def hash_column(column: pl.Series) -> np.ndarray:
    """:func:`stable_hash` of every value of a string column, 0 for null, in one pass over
    the column's Arrow buffers (nothing per row in Python)."""
    array = column.cast(pl.Utf8).to_arrow()  # one chunk of large_string
    n = len(array)
    out = np.empty(n, dtype=np.int64)
    if not n:
        return out
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[array.offset : array.offset + n + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer else np.zeros(0, np.uint8)
    _hash_spans(data, offsets, out)
    if array.null_count:  # a null's span is empty in practice; Arrow does not promise it
        out[array.is_null().to_numpy(zero_copy_only=False)] = 0
    return out


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
