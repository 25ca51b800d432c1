"""The party index: what the engine knows about customers as *counterparties*
(PP-18, PP-22, case links).

A customer's own state cannot see that the person who funds them is, in another
partition, paying for escort ads (PP-22), or that the account they forward e-transfers to
itself collects escort-referenced e-transfers (PP-18's network half). So this half of the
cross-customer stage works the other way round from PP-19's identifier index: customers
that show a *signal* announce it under every key by which other customers' rows name
them, and every worker keeps the (small) set of announced keys.

* A **party key** is a stable hash of how a counterparty field names a customer: the
  customer id or account id (matching ``counterparty_id``) and the contact keys of the
  profile's e-mail and phone (matching ``counterparty_email`` / ``counterparty_phone``,
  :func:`engine.core.hashing.contact_key`).
* A **signal** is one of ``SIGNAL_CODES``: an ADV or LODGE
  rule fired, an escort-referenced e-transfer was received, an alert was raised. The
  detector publishes each signal once per customer (remembered in the ``party_signals``
  profile column) as :class:`PartySignal` messages on the compacted ``party-signals`` topic,
  one per key, at the event time it first appeared (``since``).
* Every worker reads that topic in full (no group, like the reference lists) into a
  :class:`PartyIndex`. Before the kernels run, the detector looks up each row's
  counterparty and sets the ``cp_flags`` column: signals of *another* customer, announced
  at or before the row's event time. The case assembler uses the same index to link the
  subjects of related cases (:func:`related_subjects`).

Only flagged customers are announced, so the index stays small (a few keys per flagged
customer); signals are never withdrawn, as FINTRAC's indicators look back, not forward.
Event-time ``since`` makes a backtest (which applies signals chunk by chunk) and a caught-up
stream agree; a row processed before the signal reached the index is not revisited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec
import numpy as np

from engine.core.hashing import contact_key, stable_hash

# Codes of the signals on the party-signals topic and in the ``party_signals`` profile
# column: fixed, because messages and checkpoints outlive a release. The ``cp_flags`` column
# carries the bits the rules' declarations allocate (indicators.inputs), mapped from these.
SIGNAL_CODES = {"adv_lodge": 1 << 0, "escort_emt": 1 << 1, "alerted": 1 << 2}
SIGNAL_NAMES = {code: name for name, code in SIGNAL_CODES.items()}
ALERTED = SIGNAL_CODES["alerted"]
DEALT_WITH = 1 << 8  # not a cp flag: the key is a counterparty of an alerted subject's evidence
# A counterparty that many alerted subjects dealt with (a payroll, a big biller) says nothing
# about any two of them: links through it are not drawn.
MAX_SHARED_COUNTERPARTY = 10
# One client who paid two unrelated workers is common; several shared counterparties are not.
MIN_SHARED_COUNTERPARTIES = 2


class PartySignal(msgspec.Struct, frozen=True, kw_only=True):
    key: int  # party key (engine.core.hashing.stable_hash / contact_key)
    customer_id: str  # who showed the signal (internal topic: never logged at INFO)
    signal: int  # one of SIGNAL_CODES, or DEALT_WITH
    since: int  # event time (s) the signal first appeared

    def kafka_key(self) -> bytes:
        # Compaction keeps one message per (key, customer, signal): re-announcing is harmless.
        return f"{self.key}:{self.customer_id}:{self.signal}".encode()


_ENCODER = msgspec.json.Encoder()
_DECODER: msgspec.json.Decoder[PartySignal] = msgspec.json.Decoder(PartySignal)


def encode_signal(signal: PartySignal) -> tuple[bytes, bytes]:
    return signal.kafka_key(), _ENCODER.encode(signal)


def decode_signal(value: bytes | None) -> PartySignal | None:
    try:
        return _DECODER.decode(value) if value else None
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None  # produced by this engine only; nothing an operator could act on


def own_keys(customer_id: str, account: int, contact_email: int, contact_phone: int) -> list[int]:
    """Every key under which other customers' rows may name this customer (0s dropped)."""
    return [k for k in (stable_hash(customer_id), account, contact_email, contact_phone) if k]


def example_signals(parties: Iterable[dict[str, Any]]) -> list[PartySignal]:
    """Party-index entries for an indicator example (``indicators.examples.flagged_party``)."""
    bit_of = {name: bit for bit, name in SIGNAL_NAMES.items()}
    signals = []
    for p in parties:
        key = (
            stable_hash(p["counterparty_id"])
            if "counterparty_id" in p
            else contact_key(p["counterparty_email"])
        )
        signals.append(
            PartySignal(key=key, customer_id=p["customer_id"], signal=bit_of[p["signal"]], since=0)
        )
    return signals


class PartyIndex:
    """key -> {(customer_id, signal): since}; a sorted key array for vectorised lookups."""

    def __init__(self) -> None:
        self.entries: dict[int, dict[tuple[str, int], int]] = {}
        self._keys = np.empty(0, dtype=np.int64)
        self._dirty = False

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, signal: PartySignal) -> bool:
        """Fold one signal in (the earliest ``since`` wins); True if anything changed."""
        holders = self.entries.setdefault(signal.key, {})
        slot = (signal.customer_id, signal.signal)
        known = holders.get(slot)
        if known is not None and known <= signal.since:
            return False
        holders[slot] = signal.since
        self._dirty = True
        return True

    def add_all(self, signals: Iterable[PartySignal]) -> int:
        return sum(self.add(s) for s in signals)

    def keys(self) -> np.ndarray:
        if self._dirty:
            self._keys = np.fromiter(self.entries, dtype=np.int64, count=len(self.entries))
            self._keys.sort()
            self._dirty = False
        return self._keys

    def counterparty_flags(
        self, customer_ids: Sequence[str], columns: dict[str, np.ndarray], bits: Mapping[int, int]
    ) -> np.ndarray:
        """The ``cp_flags`` column: signals of the row's counterparty (never the row's own
        customer) announced at or before the row's event time, each as ``bits[code]``
        (signals no rule reads have no bit)."""
        n = len(customer_ids)
        flags = np.zeros(n, dtype=np.int64)
        if not self.entries or n == 0:
            return flags
        keys = self.keys()
        counterparty, contact, ts = columns["counterparty"], columns["cp_contact"], columns["ts"]
        # Few rows name a flagged party: a vectorised membership test, then Python per hit.
        for i in np.flatnonzero(np.isin(counterparty, keys) | np.isin(contact, keys)).tolist():
            row = 0
            for key in {int(counterparty[i]), int(contact[i])}:
                for (customer, signal), since in self.entries.get(key, {}).items():
                    if customer != customer_ids[i] and since <= ts[i]:
                        row |= bits.get(signal, 0)
            flags[i] = row
        return flags

    def holders(self, key: int, signal: int) -> list[str]:
        return sorted(c for (c, s) in self.entries.get(key, {}) if s == signal)


def related_subjects(
    index: PartyIndex, subject: str, own: Iterable[int], dealt_with: Iterable[int]
) -> dict[str, list[str]]:
    """Other alerted subjects connected to ``subject``, with the reasons, for case links.

    ``own`` are the subject's party keys, ``dealt_with`` the keys of the counterparties in
    its case's transactions. Two alerted subjects are related when they share an identifier
    (own ∩ own), when money moved between them (own ∩ their dealt-with, or the reverse),
    or when both dealt with at least ``MIN_SHARED_COUNTERPARTIES`` of the same counterparties.
    """
    own, dealt_with = set(own), set(dealt_with)
    reasons: dict[str, set[str]] = {}

    def note(customers: Iterable[str], reason: str) -> None:
        for other in customers:
            if other != subject:
                reasons.setdefault(other, set()).add(reason)

    for key in own:
        note(index.holders(key, ALERTED), "shares an identifier (account, e-mail or phone)")
        note(index.holders(key, DEALT_WITH), "funds flow between the subjects")
    shared: dict[str, int] = {}
    for key in dealt_with:
        note(index.holders(key, ALERTED), "funds flow between the subjects")
        dealers = index.holders(key, DEALT_WITH)
        if len(dealers) <= MAX_SHARED_COUNTERPARTY:
            for other in dealers:
                shared[other] = shared.get(other, 0) + 1
    note(
        [other for other, n in shared.items() if n >= MIN_SHARED_COUNTERPARTIES],
        "both transacted with the same counterparties",
    )
    return {other: sorted(r) for other, r in sorted(reasons.items())}
