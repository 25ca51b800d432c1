"""Keyed pseudonyms: case ids and identifier digests are HMAC-SHA256 under ``pseudonym_key``.

An unkeyed hash of a customer id is no pseudonym: every ``C######`` id hashes in seconds,
so whoever reads ``disclosures`` or ``identifier-observations`` could name the subject of a
case or confirm a guessed phone number. Under a secret key they cannot without the key.

The key is process-wide, set once at start-up by :func:`configure` (the worker, from
settings), because the pure functions that need it (``case_id_for``, the identifier
digests) are called deep inside detection and case assembly. Until then, and whenever
``pseudonym_key`` is empty, the public :data:`DEMO_KEY` is used: fine for the demo and
tests, useless against anyone who has read this file, hence the warning.

Each use has its own ``purpose`` in the message, so a case id never equals an identifier
digest of the same string. Rotation (docs/SECURITY.md): a new key gives every subject a new
case id and every identifier a new digest; the identifier index must be rebuilt.

>>> keyed_hex("case", "C000394", 8) == keyed_hex("case", "C000394", 8)
True
>>> keyed_hex("case", "C000394", 8) != keyed_hex("phone", "C000394", 8)
True
"""

from __future__ import annotations

import hashlib
import hmac
import logging

log = logging.getLogger(__name__)

# Public on purpose: the demo and the tests need stable ids without a secret.
DEMO_KEY = b"protect-demo-pseudonym-key: public, never for real data"
MIN_KEY_CHARS = 32

_key = DEMO_KEY


def configure(key: str) -> None:
    """Use ``key`` from now on (empty: the demo key, with a warning at WARNING level)."""
    global _key
    if key:
        _key = key.encode()
        return
    _key = DEMO_KEY
    log.warning(
        "pseudonym_key is not set: case ids and identifier digests are keyed with the PUBLIC "
        "demo key, so anyone who reads the topics can confirm a guessed customer id or phone "
        "number. Set PROTECT_PSEUDONYM_KEY (openssl rand -hex 32) before using real data."
    )


def keyed_hex(purpose: str, value: str, size: int) -> str:
    """The first ``size`` bytes of HMAC-SHA256(key, purpose NUL value), as hex."""
    message = purpose.encode() + b"\0" + value.encode("utf-8")
    return hmac.new(_key, message, hashlib.sha256).hexdigest()[: 2 * size]


def uses_demo_key() -> bool:
    return _key == DEMO_KEY
