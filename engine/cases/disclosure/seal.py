"""Packages authenticated by the engine: an HMAC-SHA256 over the package's bytes.

The ``disclosures`` topic is written by the engine and read back by every worker's analyst
view and by ``protect export``; anyone else who can write to it could otherwise put a
package of their own before an analyst (or one with version 2**62 that hides the real
case). The engine sends each package with a ``protect-mac`` header; readers take only
packages whose MAC verifies under ``package_key`` (setting ``package_key``).
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "protect-mac"


def seal(key: bytes, value: bytes) -> bytes:
    """The MAC of a package (hex, as the header value)."""
    return hmac.new(key, value, hashlib.sha256).hexdigest().encode()


def verified(key: bytes, value: bytes | None, headers) -> bool:
    """Whether ``value`` carries a MAC made with ``key`` (``headers``: Kafka record headers,
    pairs of name and bytes). No key, no header or another MAC: not verified."""
    if not key or not value:
        return False
    given = next((v for k, v in headers or () if k == HEADER), None)
    return given is not None and hmac.compare_digest(bytes(given), seal(key, value))
