"""Batch orchestration: decoded messages in, alerts and dead letters out. No Kafka here.

The same :class:`Detector` serves the streaming worker (one :class:`PartitionState` per
input partition), the backtest (one state for a whole file) and the tests, so streaming
and batch runs compute the very same thing, whatever the batch boundaries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec
import numpy as np
import polars as pl

from engine import __version__
from engine.config import Settings
from engine.core.columnar import DecodedTransactions, decode_transactions, evidence_row
from engine.core.constellation import Constellation, member_weight, role_hypothesis
from engine.core.decode import Message, dead_letter, decode_profile
from engine.core.kernel_columns import transaction_columns
from engine.core.reference import ReferenceLists
from engine.core.repeats import RECENT_TXNS, RecentTxns
from engine.core.state import FireSnapshot, PartitionState, check_profile_facts
from engine.crosscustomer.identifiers import profile_observations
from engine.crosscustomer.parties import SIGNAL_CODES, PartyIndex, PartySignal, own_keys
from engine.errors import ConfigError
from indicators import registry
from indicators.columns import EMT_IN, TRANSFER_IN
from indicators.profile_spec import ProfileRuleSpec
from indicators.runner import KernelOutput, run_indicator
from schemas import FAMILIES, Alert, AlertIndicator, DeadLetter, Profile


@dataclass
class BatchResult:
    alerts: list[Alert] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    transactions: int = 0
    profiles: int = 0
    fired: dict[str, int] = field(default_factory=dict)  # rows fired per indicator
    event_lag_s: list[float] = field(default_factory=list)  # alert created_at - trigger event time
    arrivals_ms: list[int] = field(default_factory=list)  # Kafka timestamp of each alert's trigger
    observations: list[tuple[bytes, bytes]] = field(
        default_factory=list
    )  # for the cross-customer stage
    party_signals: list[PartySignal] = field(
        default_factory=list
    )  # for the party index (engine.crosscustomer.parties)


class Detector:
    """Runs every enabled indicator and the constellation over batches of one partition."""

    def __init__(
        self,
        settings: Settings,
        reference: ReferenceLists | None = None,
        parties: PartyIndex | None = None,
    ):
        self.settings = settings.check_detection()
        self.parties = (
            parties if parties is not None else PartyIndex()
        )  # shared by a worker's partitions
        self.specs = registry.select(settings.enabled_indicators)
        self.params = settings.resolved_params()
        self.reference = reference or ReferenceLists.load(settings.reference_file)
        self.constellation = Constellation.build(self.specs, settings.constellation)
        self._signal_specs = [k for k, s in enumerate(self.specs) if s.family in ("ADV", "LODGE")]
        self.config_hash = settings.config_hash(self.reference.digest)
        check_profile_facts()
        self._cp_bits = _cp_bits()

    def new_state(self) -> PartitionState:
        return PartitionState(self.specs)

    def with_reference(self, reference: ReferenceLists) -> Detector:
        return Detector(self.settings, reference, self.parties)

    def warm_up(self) -> None:
        """Compile every kernel now (numba), using the specs' own examples as input."""
        state = self.new_state()
        for i, spec in enumerate(self.specs):
            for example in spec.must_fire[:1]:
                messages = [
                    Message("warm-up", 0, j + 1000 * i, None, _encode(row))
                    for j, row in enumerate(example.transactions)
                ]
                self.process(state, [], messages)

    # ------------------------------------------------------------------ batches
    def process(
        self, state: PartitionState, profiles: Sequence[Message], transactions: Sequence[Message]
    ) -> BatchResult:
        """Apply profile messages, then run the transactions; state is updated in place."""
        result = BatchResult()
        decoded_profiles = [decode_profile(m, self.settings.limits) for m in profiles]
        # Slots for customers with a profile; a tombstone needs one only if the customer
        # has one already (apply_profile makes none for it).
        customers = [
            _profile_customer(m, p)
            for m, p in zip(profiles, decoded_profiles, strict=True)
            if isinstance(p, Profile)
        ]
        # Slots for the whole batch at once, in order of appearance: the arrays grow once
        # per batch, not once per doubling while profiles are applied one by one.
        state.slots_for([c for c in customers if c])
        for message, decoded in zip(profiles, decoded_profiles, strict=True):
            if isinstance(decoded, DeadLetter):
                result.dead.append(decoded)
            else:
                customer = _profile_customer(message, decoded)
                if customer:
                    state.apply_profile(customer, decoded)
                if isinstance(decoded, Profile):
                    result.observations += profile_observations(decoded)
                    result.party_signals += self._reannounce(state, customer)
                result.profiles += 1
            state.offsets[message.topic] = message.offset + 1
        if transactions:
            decoded_txns = decode_transactions(transactions, self.settings.limits)
            result.dead.extend(decoded_txns.dead)
            state.offsets[transactions[-1].topic] = transactions[-1].offset + 1
            if len(decoded_txns):
                columns = transaction_columns(decoded_txns, self.reference)
                columns["cust"] = state.slots_for(decoded_txns.customer_ids)
                decoded_txns, columns = drop_repeats(
                    state.recent, decoded_txns, columns, transactions, result
                )
                customer_ids = decoded_txns.customer_ids
                self.detect_columns(
                    state,
                    customer_ids,
                    decoded_txns.txn_ids,
                    columns,
                    result,
                    decoded_txns.arrivals_ms,
                    decoded_txns.values,
                )
        return result

    def detect_columns(
        self,
        state: PartitionState,
        customer_ids: Sequence[str],
        txn_ids: Sequence[str],
        columns: dict[str, np.ndarray],
        result: BatchResult,
        arrivals_ms: Sequence[int] | np.ndarray,
        raws: Sequence[bytes],
    ) -> None:
        """Kernels, constellation and alerts over decoded columns (``cust`` from ``state``).

        The tuning sweep (``engine.tools.backtest.DecodedInput``) enters here to re-run
        detection under other settings without decoding the input again.
        """
        n = len(customer_ids)
        result.transactions += n
        columns["cp_flags"] = self.parties.counterparty_flags(customer_ids, columns, self._cp_bits)
        inputs = {**columns, **state.profile}  # profile arrays after any growth
        touched = np.zeros(n, dtype=np.uint8)
        fired = np.zeros((n, max(len(self.specs), 1)), dtype=np.uint8)
        outputs: list[KernelOutput] = []
        for k, spec in enumerate(self.specs):
            out = run_indicator(
                spec, inputs, state.indicators[spec.id], self.params[spec.id], touched
            )
            fired[:, k] = out.fired
            outputs.append(out)
            result.fired[spec.id] = int(out.fired.sum())
        kept = np.flatnonzero(touched)
        state.remember(
            columns["seq"][kept],
            [txn_ids[i] for i in kept.tolist()],
            columns["ts"][kept],
            [raws[i] for i in kept.tolist()],
        )

        alert = np.zeros(n, dtype=np.uint8)
        score = np.zeros(n, dtype=np.float64)
        active = np.zeros(n, dtype=np.int64)
        self.constellation.run(columns["cust"], columns["ts"], fired, state, alert, score, active)
        for i in np.flatnonzero(alert).tolist():
            subject = (customer_ids[i], txn_ids[i])
            built = self._alert(
                state, subject, columns, outputs, i, float(score[i]), int(active[i])
            )
            result.alerts.append(built)
            result.event_lag_s.append(datetime.now(UTC).timestamp() - float(columns["ts"][i]))
            result.arrivals_ms.append(int(arrivals_ms[i]))
        self._snapshot(state, columns, outputs)
        result.party_signals += self._party_signals(state, customer_ids, columns, fired, alert)

    @staticmethod
    def _reannounce(state: PartitionState, customer_id: str) -> list[PartySignal]:
        """A profile that arrives after a customer's signals gives the index new keys (its
        e-mail and phone). Their ``since`` is the customer's latest firing, never earlier
        than the signal really appeared (a later profile costs at most some early rows)."""
        slot = state.slots[customer_id]
        announced = int(state.profile["party_signals"][slot])
        keys = [int(state.profile[name][slot]) for name in ("contact_email", "contact_phone")]
        if not announced or not any(keys):
            return []
        since = int(state.last_fire[slot].max())
        if since <= 0:  # an escort-EMT signal without a firing: the partition's newest event
            since = state.newest_event_ts()
        return [
            PartySignal(key=k, customer_id=customer_id, signal=bit, since=since)
            for bit in SIGNAL_CODES.values()
            if announced & bit
            for k in keys
            if k
        ]

    def _party_signals(
        self,
        state: PartitionState,
        customer_ids: Sequence[str],
        columns: dict[str, np.ndarray],
        fired: np.ndarray,
        alert: np.ndarray,
    ) -> list[PartySignal]:
        """Signals this batch announces to the party index, once per customer and signal."""
        inbound = (columns["txn_type"] == EMT_IN) | (columns["txn_type"] == TRANSFER_IN)
        escort_memo = registry.LAYOUT.bit("reference", "escort_memo_lexicon")
        masks = {
            SIGNAL_CODES["adv_lodge"]: (
                fired[:, self._signal_specs].any(axis=1) if self._signal_specs else None
            ),
            SIGNAL_CODES["escort_emt"]: inbound
            & ((columns["ref_flags"] & escort_memo) != 0)
            & (columns["attempted"] == 0),
            SIGNAL_CODES["alerted"]: alert != 0,
        }
        cust, announced = columns["cust"], state.profile["party_signals"]
        signals = []
        for bit, mask in masks.items():
            if mask is None:
                continue
            for i in np.flatnonzero(mask).tolist():
                c = cust[i]
                if announced[c] & bit:
                    continue
                announced[c] |= bit
                keys = own_keys(
                    customer_ids[i],
                    int(columns["account"][i]),
                    int(state.profile["contact_email"][c]),
                    int(state.profile["contact_phone"][c]),
                )
                signals += [
                    PartySignal(
                        key=k, customer_id=customer_ids[i], signal=bit, since=int(columns["ts"][i])
                    )
                    for k in keys
                ]
        return signals

    # ------------------------------------------------------------------ alerts
    def _alert(
        self,
        state: PartitionState,
        subject: tuple[str, str],
        columns: dict[str, np.ndarray],
        outputs: list[KernelOutput],
        i: int,
        score: float,
        mask: int,
    ) -> Alert:
        """The alert raised at row ``i``; ``subject`` is its (customer_id, txn_id)."""
        cust = columns["cust"]
        c = int(cust[i])
        txn_ks, profile_rules = self.constellation.members(mask)
        indicators: list[AlertIndicator] = []
        signals: list[tuple[str, str, float]] = []
        evidence_rows: dict[str, bytes] = {}
        first_ts = int(columns["ts"][i])
        same_customer = np.flatnonzero(cust[: i + 1] == c)
        for k in txn_ks:
            spec = self.specs[k]
            out = outputs[k]
            hits = same_customer[out.fired[same_customer] != 0]
            if hits.size:
                j = int(hits[-1])
                snap = self._fire_snapshot(state, columns, out, j)
            else:
                snap = state.snapshots.get((c, k), FireSnapshot(first_ts, 0.0, (), first_ts))
            observed, evidence = snap.observed, snap.evidence
            first_ts = min(first_ts, snap.first_ts)
            evidence_rows.update(zip(snap.evidence, snap.raw, strict=False))
            indicators.append(AlertIndicator(
                id=spec.id, title=spec.title, family=spec.family, sources=list(spec.sources),
                observed=observed, threshold=float(self.params[spec.id][spec.threshold_param]),
                window=spec.window, evidence_txn_ids=list(evidence),
            ))  # fmt: skip
            signals.append(
                (spec.role_signal, spec.family, member_weight(spec, self.settings.constellation))
            )
        for rule in profile_rules:
            indicators.append(AlertIndicator(
                id=rule.id, title=rule.title, family=rule.family, sources=list(rule.sources),
                observed=1.0, threshold=1.0, window="profile", evidence_txn_ids=[],
            ))  # fmt: skip
            signals.append(
                (rule.role_signal, rule.family, member_weight(rule, self.settings.constellation))
            )
        families = sorted({ind.family for ind in indicators}, key=FAMILIES.index)
        customer_id, trigger_txn = subject
        ids = ",".join(ind.id for ind in indicators)
        digest = hashlib.sha256(f"{customer_id}|{trigger_txn}|{ids}".encode()).hexdigest()[:24]
        return Alert(
            alert_id=f"ALR-{digest}",
            customer_id=customer_id,
            role_hypothesis=role_hypothesis(signals),
            score=round(score, 3),
            families=families,
            indicators=indicators,
            window_start=_iso(first_ts),
            window_end=_iso(int(columns["ts"][i])),
            created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            ppp_code="PROTECT",
            engine_version=__version__,
            config_hash=self.config_hash,
            trigger_txn_id=trigger_txn,
            trigger=self._trigger_reason(families, score, profile_rules, signals, indicators),
            transactions=sorted(
                (evidence_row(raw) for raw in evidence_rows.values()),
                key=lambda t: (t.ts, t.txn_id),
            ),
        )

    def _trigger_reason(
        self,
        families: list[str],
        score: float,
        profile_rules: list[ProfileRuleSpec],
        signals: list[tuple[str, str, float]],
        indicators: list[AlertIndicator],
    ) -> str:
        s = self.settings.constellation
        nexus = [ind.id for ind in indicators if ind.id in s.nexus or ind.family in s.nexus]
        why = (f"; nexus {', '.join(nexus)}" if nexus else "; collector pattern") if s.nexus else ""
        if score >= s.score_threshold:
            return f"score {score:.1f} >= {s.score_threshold:.1f}{why}"
        counted = sorted(
            {f for _, f, w in signals if w >= s.family_min_weight} & set(families),
            key=FAMILIES.index,
        )
        if len(counted) >= s.min_families:
            return f"{len(counted)} families ({', '.join(counted)}) within {s.window_days}d{why}"
        strong = [r.id for r in profile_rules if r.id in s.strong_rules]
        return f"{', '.join(strong)} with a transaction rule"

    @staticmethod
    def _fire_snapshot(
        state: PartitionState, columns: dict[str, np.ndarray], out: KernelOutput, j: int
    ) -> FireSnapshot:
        """What indicator output ``out`` showed at row ``j``, with refs resolved to txn ids."""
        store = state.evidence
        kept = [store[r] for r in out.evidence[j].tolist() if r >= 0 and r in store]
        ts = int(columns["ts"][j])
        first = min([t for _, t, _ in kept], default=ts)
        return FireSnapshot(
            ts,
            float(out.observed[j]),
            tuple(i for i, _, _ in kept),
            first,
            tuple(r for _, _, r in kept),
        )

    def _snapshot(
        self, state: PartitionState, columns: dict[str, np.ndarray], outputs: list[KernelOutput]
    ) -> None:
        """Remember each customer's last firing per indicator for alerts in later batches."""
        cust = columns["cust"]
        for k, out in enumerate(outputs):
            rows = np.flatnonzero(out.fired)
            if not rows.size:
                continue
            last = rows[::-1][np.unique(cust[rows[::-1]], return_index=True)[1]]
            for j in last.tolist():
                state.snapshots[(int(cust[j]), k)] = self._fire_snapshot(state, columns, out, j)


def drop_repeats(
    recent: RecentTxns,
    decoded: DecodedTransactions,
    columns: dict[str, np.ndarray],
    messages: Sequence[Message],
    result: BatchResult,
) -> tuple[DecodedTransactions, dict[str, np.ndarray]]:
    """Rows whose ``txn_id`` their customer already sent become ``duplicate`` dead letters
    (the transaction was counted once; the letter says where the copy was)."""
    repeats = recent.repeats(columns["cust"], columns["txn_key"])
    if not repeats.any():
        return decoded, columns
    by_offset = {m.offset: m for m in messages}
    result.dead.extend(
        dead_letter(
            by_offset[offset],
            f"txn_id: {txn_id!r} was already processed for this customer (one of its last "
            f"{RECENT_TXNS} transactions); this copy is not counted again",
            "duplicate",
        )
        for offset, txn_id in zip(
            decoded.offsets[repeats].tolist(),
            decoded.frame["txn_id"].filter(pl.Series(repeats)).to_list(),
            strict=True,
        )
    )
    keep = ~repeats
    return decoded.select(keep), {name: array[keep] for name, array in columns.items()}


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _encode(row: object) -> bytes:
    return msgspec.json.encode(row)


def _cp_bits() -> dict[int, int]:
    """Signal code on the party-signals topic -> its bit in ``cp_flags`` (declared signals)."""
    unknown = sorted(set(registry.LAYOUT.party) - SIGNAL_CODES.keys())
    if unknown:
        raise ConfigError(
            f"rules declare party signals the engine never announces: {unknown}; "
            f"known: {sorted(SIGNAL_CODES)}"
        )
    return {SIGNAL_CODES[name]: bit for name, bit in registry.LAYOUT.party.items()}


def _profile_customer(message: Message, profile: Profile | None) -> str:
    """Whose profile a valid message sets: its ``customer_id``, or a tombstone's key."""
    if isinstance(profile, Profile):
        return profile.customer_id
    return (message.key or b"").decode("utf-8", "replace")
