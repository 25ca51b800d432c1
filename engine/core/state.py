"""Per-partition state: customer slots, profile facts, indicator windows, alert memory.

Everything a partition needs to continue exactly where it stopped lives in one
:class:`PartitionState`, saved together with the input offsets it reflects (the
checkpoint), so state and offsets can never drift apart (DESIGN: "exactly-once effect").

Bytes per customer are fixed by the indicator specs (see :meth:`bytes_per_customer`);
the evidence store only keeps transaction ids still referenced by some window.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from engine.core.hashing import contact_key, place_key, stable_hash
from engine.core.repeats import RecentTxns
from engine.errors import CheckpointError, ConfigError
from engine.private_files import open_private
from indicators import columns as col
from indicators.registry import LAYOUT, allocate_state
from indicators.spec import IndicatorSpec
from schemas import FLAG_TYPES, Profile

_TRAVEL_OCCUPATION = re.compile(
    r"sales|truck|driver|pilot|flight|consult|travel|technician|contractor|musician|crew|courier"
    r"|account manager|regional|representative",
    re.I,
)
# NAICS prefixes of venue-risk industries (F21-G36/G37): accommodation, residential
# lessors and property managers, personal care (spas), drinking places.
_VENUE_NAICS = ("7211", "5311", "5313", "8121", "7224")
# Profile facts this module computes, beside each profile flag type (a fact of the same name).
DERIVED_FACTS = ("travel_occupation", "venue_industry", "entity", "aliases", "minor")
# Facts the cross-customer stage finds (engine/crosscustomer/identifiers.py): a new profile
# does not clear them.
FINDING_FACTS = ("shared_identifier",)
# 6: identifier hashes are FNV-1a + mix (hashing.py); 5: recent transaction ids
# (repeats.py); 4: profile fact bits recorded
FORMAT_VERSION = 6


def check_profile_facts() -> None:
    """Fail at start-up when a rule declares a profile fact nothing sets."""
    known = {*FLAG_TYPES, *DERIVED_FACTS, *FINDING_FACTS}
    unknown = sorted(set(LAYOUT.names("profile")) - known)
    if unknown:
        raise ConfigError(
            f"rules declare profile facts the engine never sets: {unknown}; "
            f"known: {sorted(known)}"
        )


@dataclass(frozen=True)
class FireSnapshot:
    """An indicator's last firing for a customer, kept for alerts in later batches."""

    ts: int
    observed: float
    evidence: tuple[str, ...]  # transaction ids, newest first
    first_ts: int  # event time of the oldest evidence
    raw: tuple[bytes, ...] = ()  # the evidence transactions as received (contract JSON)


def profile_facts(profile: Profile) -> tuple[int, int, float, float]:
    """(home city hash, profile flag bits, declared income, expected monthly): the profile
    columns of one customer."""
    facts = [flag.type for flag in profile.flags]
    if profile.occupation and _TRAVEL_OCCUPATION.search(profile.occupation):
        facts.append("travel_occupation")
    if profile.industry_code and profile.industry_code.startswith(_VENUE_NAICS):
        facts.append("venue_industry")
    if profile.party_type == "entity":
        facts.append("entity")
    if len(profile.aliases) >= 2:
        facts.append("aliases")
    if _is_minor(profile.birth_date):
        facts.append("minor")
    flags = LAYOUT.mask("profile", facts)
    key = place_key(profile.home_city, profile.home_province)
    income = (
        float(profile.declared_income_cad) if profile.declared_income_cad is not None else np.nan
    )
    expected = (
        float(profile.expected_monthly_cad) if profile.expected_monthly_cad is not None else np.nan
    )
    return (stable_hash(key) if key else 0), flags, income, expected


def _is_minor(birth_date: str | None, today: date | None = None) -> bool:
    """Under 18 at ``today``; an unparseable date is not evidence of anything."""
    if not birth_date:
        return False
    try:
        born = date.fromisoformat(birth_date[:10])
    except ValueError:
        return False
    today = today or date.today()
    return (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) < 18


class PartitionState:
    """State of one input partition (or of a whole backtest)."""

    def __init__(self, specs: list[IndicatorSpec], capacity: int = 1024):
        self.specs = specs
        self.capacity = capacity
        self.slots: dict[str, int] = {}
        self.customer_ids: list[str] = []
        self.indicators = {s.id: allocate_state(s, capacity) for s in specs}
        self.profile: dict[str, np.ndarray] = {
            name: np.full(capacity, missing, dtype=dtype)
            for name, (dtype, missing, _) in col.PROFILE_COLUMNS.items()
        }
        k = len(specs)
        self.last_fire = np.full((capacity, max(k, 1)), col.EMPTY_TS, dtype=np.int64)
        self.last_alert_ts = np.full(capacity, col.EMPTY_TS, dtype=np.int64)
        self.last_alert_mask = np.zeros(capacity, dtype=np.int64)
        self.recent = RecentTxns(capacity)  # a re-delivered transaction counts once
        self.evidence: dict[int, tuple[str, int, bytes]] = {}  # ref -> (txn_id, ts, message value)
        self.snapshots: dict[tuple[int, int], FireSnapshot] = {}  # (slot, spec index)
        self.offsets: dict[str, int] = {}  # topic -> next offset to read
        # Findings about customers without a slot yet (a rebuild may read a finding before
        # the profile it came from): fact bits applied when the customer gets a slot, so an
        # unknown id costs a dict entry, not a customer's arrays.
        self.pending_findings: dict[str, int] = {}

    # ------------------------------------------------------------ customers
    def slots_for(self, customer_ids: list[str]) -> np.ndarray:
        """Slot of each customer, assigning new slots (and growing arrays) as needed."""
        slots = self.slots
        first_new = len(self.customer_ids)
        out = np.empty(len(customer_ids), dtype=np.int64)
        for i, cid in enumerate(customer_ids):
            slot = slots.get(cid)
            if slot is None:
                slot = slots[cid] = len(self.customer_ids)
                self.customer_ids.append(cid)
            out[i] = slot
        if len(self.customer_ids) > self.capacity:
            self._grow(max(len(self.customer_ids), 2 * self.capacity))
        if self.pending_findings and len(self.customer_ids) > first_new:
            for slot in range(first_new, len(self.customer_ids)):
                facts = self.pending_findings.pop(self.customer_ids[slot], 0)
                self.profile["profile_flags"][slot] |= facts
        return out

    def _grow(self, capacity: int) -> None:
        extra = capacity - self.capacity

        def grown(array: np.ndarray, fill: object) -> np.ndarray:
            pad = np.full((extra, *array.shape[1:]), fill, dtype=array.dtype)
            return np.concatenate([array, pad])

        for spec in self.specs:
            arrays = self.indicators[spec.id]
            for s in spec.state:
                arrays[s.name] = grown(arrays[s.name], s.fill)
        for name, (_, missing, _) in col.PROFILE_COLUMNS.items():
            self.profile[name] = grown(self.profile[name], missing)
        self.last_fire = grown(self.last_fire, col.EMPTY_TS)
        self.last_alert_ts = grown(self.last_alert_ts, col.EMPTY_TS)
        self.last_alert_mask = grown(self.last_alert_mask, 0)
        self.recent.grow(capacity)
        self.capacity = capacity

    # -------------------------------------------------------------- profiles
    def apply_profile(self, customer_id: str, profile: Profile | None) -> None:
        """Join the latest profile; ``None`` (tombstone) forgets the profile facts (and for
        a customer without a slot there is nothing to forget: no slot is made)."""
        if profile is None and customer_id not in self.slots:
            return
        slot = int(self.slots_for([customer_id])[0])
        if profile is None:
            home, flags, income, expected = 0, 0, np.nan, np.nan
            email = phone = 0
        else:
            home, flags, income, expected = profile_facts(profile)
            email = contact_key(profile.emails[0]) if profile.emails else 0
            phone = contact_key(None, profile.phones[0]) if profile.phones else 0
        # Findings are not the profile's to clear.
        findings = int(self.profile["profile_flags"][slot]) & LAYOUT.mask("profile", FINDING_FACTS)
        self.profile["home_city"][slot] = home
        self.profile["profile_flags"][slot] = flags | findings
        self.profile["declared_income"][slot] = income
        self.profile["expected_monthly"][slot] = expected
        self.profile["contact_email"][slot] = email
        self.profile["contact_phone"][slot] = phone

    def apply_finding(self, customer_id: str, fact: str) -> None:
        """Record a cross-customer finding (one of ``FINDING_FACTS``) about a customer."""
        bit = LAYOUT.bit("profile", fact)
        slot = self.slots.get(customer_id)
        if slot is None:
            self.pending_findings[customer_id] = self.pending_findings.get(customer_id, 0) | bit
            return
        self.profile["profile_flags"][slot] |= bit

    # -------------------------------------------------------------- evidence
    def remember(
        self, refs: np.ndarray, txn_ids: list[str], ts: np.ndarray, raws: list[bytes]
    ) -> None:
        """Keep what later evidence needs of rows a kernel kept in its windows."""
        for ref, txn_id, t, raw in zip(refs.tolist(), txn_ids, ts.tolist(), raws, strict=True):
            self.evidence[ref] = (txn_id, t, raw)

    def live_refs(self) -> np.ndarray:
        arrays = [
            a.ravel()
            for s in self.specs
            for name, a in self.indicators[s.id].items()
            if name.endswith("_ref")
        ]
        if not arrays:
            return np.empty(0, dtype=np.int64)
        refs = np.unique(np.concatenate(arrays))
        return refs[refs >= 0]

    def newest_event_ts(self) -> int:
        """Event time of the newest transaction kept as evidence (0 when none)."""
        return max((ts for _, ts, _ in self.evidence.values()), default=0)

    def prune(self, now: int, window_s: int) -> None:
        """Forget evidence no window references and fire snapshots older than the window."""
        live = set(self.live_refs().tolist())
        self.evidence = {r: v for r, v in self.evidence.items() if r in live}
        self.snapshots = {k: v for k, v in self.snapshots.items() if v.ts > now - window_s}

    # -------------------------------------------------------------- size
    def bytes_per_customer(self) -> int:
        per = sum(s.state_bytes_per_customer for s in self.specs)
        per += sum(np.dtype(dtype).itemsize for dtype, _, _ in col.PROFILE_COLUMNS.values())
        per += self.last_fire.shape[1] * 8 + 16
        return per + RecentTxns.BYTES_PER_CUSTOMER

    def nbytes(self) -> int:
        total = sum(a.nbytes for arrays in self.indicators.values() for a in arrays.values())
        total += sum(a.nbytes for a in self.profile.values())
        total += self.last_fire.nbytes + self.last_alert_ts.nbytes + self.last_alert_mask.nbytes
        return total + self.recent.nbytes

    # ---------------------------------------------------------- checkpoints
    def save(self, path: Path, config_hash: str) -> int:
        """Atomically write state and offsets to ``path``; returns bytes written."""
        n = len(self.customer_ids)
        arrays = {
            f"ind/{sid}/{name}": a[:n]
            for sid, group in self.indicators.items()
            for name, a in group.items()
        }
        arrays.update({f"profile/{name}": a[:n] for name, a in self.profile.items()})
        arrays["last_fire"] = self.last_fire[:n]
        arrays["last_alert_ts"] = self.last_alert_ts[:n]
        arrays["last_alert_mask"] = self.last_alert_mask[:n]
        arrays["recent_ring"] = self.recent.ring[:n]
        arrays["recent_head"] = self.recent.head[:n]
        meta = {
            "format": FORMAT_VERSION,
            "config_hash": config_hash,
            "specs": [s.id for s in self.specs],
            "profile_facts": LAYOUT.names("profile"),  # what each profile_flags bit means
            "offsets": self.offsets,
            "pending_findings": self.pending_findings,
            "customer_ids": self.customer_ids,
            "evidence": [[r, t, ts, raw.decode()] for r, (t, ts, raw) in self.evidence.items()],
            "snapshots": [
                [c, k, v.ts, v.observed, list(v.evidence), v.first_ts, [x.decode() for x in v.raw]]
                for (c, k), v in self.snapshots.items()
            ],
        }
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
        data = buffer.getvalue()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open_private(tmp) as handle:  # a checkpoint holds per-customer state
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        return len(data)

    @classmethod
    def load(cls, path: Path, specs: list[IndicatorSpec]) -> PartitionState:
        try:
            with np.load(path) as archive:
                meta = json.loads(archive["meta"].tobytes())
                arrays = {name: archive[name] for name in archive.files if name != "meta"}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise CheckpointError(f"checkpoint {path} cannot be read: {exc}") from exc
        if not isinstance(meta, dict):
            raise CheckpointError(f"checkpoint {path} cannot be read: metadata is not an object")
        if meta.get("format") != FORMAT_VERSION:
            raise CheckpointError(
                f"checkpoint {path} has format {meta.get('format')}, expected {FORMAT_VERSION}"
            )
        if meta["specs"] != [s.id for s in specs]:
            raise CheckpointError(
                f"checkpoint {path} was written with indicators {meta['specs']}, now enabled "
                f"{[s.id for s in specs]}; move the checkpoint away to rebuild state from the topic"
            )
        if meta.get("profile_facts") != LAYOUT.names("profile"):
            raise CheckpointError(
                f"checkpoint {path} was written with profile facts "
                f"{meta.get('profile_facts')}, the rules now declare {LAYOUT.names('profile')}; "
                f"move the checkpoint away to rebuild state from the topic"
            )
        try:
            return cls._restore(meta, arrays, specs)
        except (KeyError, ValueError, TypeError) as exc:  # a field missing or misshapen
            raise CheckpointError(f"checkpoint {path} is incomplete: {exc!r}") from exc

    @classmethod
    def _restore(
        cls, meta: dict[str, Any], arrays: dict[str, np.ndarray], specs: list[IndicatorSpec]
    ) -> PartitionState:
        n = len(meta["customer_ids"])
        state = cls(specs, capacity=max(n, 1024))
        state.customer_ids = list(meta["customer_ids"])
        state.slots = {cid: i for i, cid in enumerate(state.customer_ids)}
        for sid, group in state.indicators.items():
            for name, array in group.items():
                array[:n] = arrays[f"ind/{sid}/{name}"]
        for name, array in state.profile.items():
            array[:n] = arrays[f"profile/{name}"]
        state.last_fire[:n] = arrays["last_fire"]
        state.last_alert_ts[:n] = arrays["last_alert_ts"]
        state.last_alert_mask[:n] = arrays["last_alert_mask"]
        state.recent.ring[:n] = arrays["recent_ring"]
        state.recent.head[:n] = arrays["recent_head"]
        state.offsets = {k: int(v) for k, v in meta["offsets"].items()}
        state.pending_findings = {c: int(v) for c, v in meta.get("pending_findings", {}).items()}
        state.evidence = {int(r): (t, int(ts), raw.encode()) for r, t, ts, raw in meta["evidence"]}
        state.snapshots = {
            (int(c), int(k)): FireSnapshot(
                int(ts), float(obs), tuple(ev), int(first), tuple(x.encode() for x in raw)
            )
            for c, k, ts, obs, ev, first, raw in meta["snapshots"]
        }
        return state
