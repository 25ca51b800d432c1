"""Analyst credentials: ``name:scrypt$n$r$p$salt$hash`` entries, made and checked here.

The operator runs ``protect analyst-hash NAME`` (which asks for the password and refuses a
weak one), and puts the printed entry into ``analysts`` (env ``PROTECT_ANALYSTS``, entries
separated by commas). Only the scrypt hash is configured: a leaked settings file does not
give away a password. The parameters travel in the entry, so stronger ones later do not
invalidate older entries::

    entry = hash_entry("j.analyst", "correct horse battery staple")
    name, credential = parse_entry(entry)
    verify(credential, "correct horse battery staple")  # True
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from engine.errors import ConfigError

MIN_PASSWORD_CHARS = 12
# scrypt at n=2**14, r=8: 16 MiB and about 50 ms per check; slow enough to make a stolen
# hash costly to guess, fast enough for a login.
N, R, P = 2**14, 8, 1
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class Credential:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=2**26, dklen=32)


def password_problem(password: str, name: str = "") -> str:
    """Why ``password`` is too weak ("" if it is not)."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"use at least {MIN_PASSWORD_CHARS} characters (got {len(password)})"
    if len(set(password)) < 5:
        return "use more than a few distinct characters"
    if name and name.lower() in password.lower():
        return "do not put the analyst's name in the password"
    return ""


def hash_entry(name: str, password: str) -> str:
    """The ``analysts`` entry for ``name`` with ``password``; raises ConfigError when either
    is unusable."""
    if not NAME.match(name):
        raise ConfigError(f"analyst name {name!r}: use 1-64 of A-Z a-z 0-9 . _ @ -")
    problem = password_problem(password, name)
    if problem:
        raise ConfigError(f"password for {name!r}: {problem}")
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, N, R, P)
    return f"{name}:scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def parse_entry(entry: str) -> tuple[str, Credential]:
    name, _, rest = str.__str__(entry).partition(":")  # a Secret's own str() hides it
    parts = rest.split("$")
    try:
        if not NAME.match(name) or len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError
        n, r, p = (int(x) for x in parts[1:4])
        credential = Credential(n, r, p, bytes.fromhex(parts[4]), bytes.fromhex(parts[5]))
        if n < 2**14 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16:
            raise ValueError
        if len(credential.salt) < 16 or len(credential.digest) != 32:
            raise ValueError
    except ValueError:
        # never echo the entry: it holds a hash
        raise ConfigError(
            f"analysts: the entry for {name[:64]!r} is not NAME:scrypt$N$R$P$SALT$HASH with "
            f"N >= 2**14 (make one with `protect analyst-hash {name[:64] or 'NAME'}`)"
        ) from None
    return name, credential


def parse_analysts(entries: Iterable[str]) -> dict[str, Credential]:
    """Name → credential; raises ConfigError on a malformed entry or a name given twice."""
    out: dict[str, Credential] = {}
    for entry in entries:
        name, credential = parse_entry(entry)
        if name in out:
            raise ConfigError(f"analysts: {name!r} is given twice")
        out[name] = credential
    return out


# Checked for unknown names too, so the time a login takes does not say who exists.
_NOBODY = Credential(N, R, P, b"\0" * 16, b"\0" * 32)


def verify(credential: Credential | None, password: str) -> bool:
    c = credential or _NOBODY
    digest = _scrypt(password, c.salt, c.n, c.r, c.p)
    return hmac.compare_digest(digest, c.digest) and credential is not None
