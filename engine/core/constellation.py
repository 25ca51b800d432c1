"""Constellation scoring: when fired indicators add up to a suspicious-transaction candidate.

FINTRAC: no single indicator is conclusive; a constellation is. Trigger (INDICATORS.md
conventions, calibrated in docs/calibration.md), evaluated at every row where some
indicator fires:

* at least one transaction rule active in the window (30 d), and
* a family in {ADV, LODGE, FUNNEL, ID} among the active ones (keeps generic spend
  clusters from firing alone), and
* a *nexus*: an indicator of exploitation or of laundering the proceeds (pass-through,
  third-party control, shared identifiers, lifestyle, several rents, ...; ``nexus``), or the
  collector pattern (escort-referenced e-transfers passed on without own ad or lodging
  spend). Ads, short stays and late-night cash show the sex trade, which independent
  adult workers show too; they raise the score but do not make a candidate alone; and
* a weighted score >= ``score_threshold`` (per family: the largest weight plus
  ``same_family_factor`` times the others), or at least ``min_families`` families each
  with an indicator weighing ``family_min_weight`` or more;
* or, alternatively, a strong profile rule (``strong_rules``: PK-04, a third party seen
  controlling the customer) plus a transaction rule of substance (weight at least
  ``family_min_weight``: not a context rule such as telecom bills alone).

An alert is emitted when the trigger holds and the active set has an indicator the
customer's previous alert did not have, or the previous alert is older than
``realert_days``: new evidence raises a new candidate, repetition does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from engine.config import ConstellationSettings
from indicators.columns import DAY
from indicators.jit import kernel
from indicators.profile_rules import PROFILE_RULES
from indicators.profile_spec import ProfileRuleSpec
from indicators.spec import IndicatorSpec
from schemas import FAMILIES

if TYPE_CHECKING:
    from engine.core.state import PartitionState

I64s = NDArray[np.int64]
F64s = NDArray[np.float64]

ANCHOR_FAMILIES = ("ADV", "LODGE", "FUNNEL", "ID")


def family_bit(family: str) -> int:
    return 1 << FAMILIES.index(family)


@kernel
def evaluate_constellation(
    cust: I64s,
    ts: I64s,
    fired: NDArray[np.uint8],
    profile_flags: I64s,
    rule_flag_bits: I64s,
    weights: F64s,
    families: I64s,
    family_index: I64s,
    anchor_families: np.int64,
    strong_bits: np.int64,
    last_fire: I64s,
    last_alert_ts: I64s,
    last_alert_mask: I64s,
    window: np.int64,
    min_families: np.int64,
    score_threshold: float,
    realert: np.int64,
    same_family: float,
    family_min_weight: float,
    nexus_bits: np.int64,
    collector_bits: np.int64,
    spend_bits: np.int64,
    require_nexus: bool,
    alert: NDArray[np.uint8],
    score: F64s,
    active: I64s,
) -> None:
    """Per row: update last-fire times, then score the active set and decide on an alert.

    ``fired`` is uint8[n, K] (one column per enabled transaction rule); bits ``0..K-1`` of
    ``active`` are transaction rules, bits ``K..K+M-1`` the profile rules. The score adds,
    per family, the largest active weight plus ``same_family`` times the others (1.0: a
    plain sum); a family counts towards ``min_families`` when its largest active weight is
    at least ``family_min_weight``. With ``require_nexus``, the active set also needs a rule
    in ``nexus_bits``, or a collector-signal rule without victim ad / lodging spend. A strong
    profile rule triggers with any transaction rule weighing ``family_min_weight`` or more.
    """
    n, k_rules = fired.shape
    m_rules = rule_flag_bits.shape[0]
    n_families = 16
    fam_max = np.zeros(n_families)
    fam_sum = np.zeros(n_families)
    for i in range(n):
        c = cust[i]
        t = ts[i]
        any_fired = False
        for k in range(k_rules):
            if fired[i, k] != 0:
                any_fired = True
                if t > last_fire[c, k]:
                    last_fire[c, k] = t
        if not any_fired:
            continue
        mask = np.int64(0)
        fam = np.int64(0)
        fam_max[:] = 0.0
        fam_sum[:] = 0.0
        txn_max = 0.0
        for k in range(k_rules):
            lf = last_fire[c, k]
            if t - window < lf <= t:
                mask |= np.int64(1) << k
                txn_max = max(txn_max, weights[k])
                fam |= families[k]
                f = family_index[k]
                fam_sum[f] += weights[k]
                fam_max[f] = max(fam_max[f], weights[k])
        txn_mask = mask
        flags = profile_flags[c]
        for m in range(m_rules):
            if flags & rule_flag_bits[m]:
                mask |= np.int64(1) << (k_rules + m)
                fam |= families[k_rules + m]
                f = family_index[k_rules + m]
                fam_sum[f] += weights[k_rules + m]
                fam_max[f] = max(fam_max[f], weights[k_rules + m])
        s = 0.0
        n_fam: int | np.int64 = 0  # a local annotation: not evaluated, numba never sees it
        for f in range(n_families):
            if same_family == 1.0:
                s += fam_sum[f]
            else:
                s += fam_max[f] + same_family * (fam_sum[f] - fam_max[f])
            if fam_sum[f] > 0.0 and fam_max[f] >= family_min_weight:
                n_fam += 1
        if family_min_weight <= 0.0:  # every active family counts, zero-weight ones too
            n_fam = 0
            f_bits = fam
            while f_bits:
                n_fam += f_bits & 1
                f_bits >>= 1
        nexus = True
        if require_nexus:
            nexus = (mask & nexus_bits) != 0 or (
                (mask & collector_bits) != 0 and (mask & spend_bits) == 0
            )
        trig = (
            txn_mask != 0
            and (fam & anchor_families) != 0
            and nexus
            and (n_fam >= min_families or s >= score_threshold)
        )
        if (
            not trig
            and txn_mask != 0
            and (mask & strong_bits) != 0
            and txn_max >= family_min_weight
        ):
            trig = True
        score[i] = s
        active[i] = mask
        if trig and ((mask & ~last_alert_mask[c]) != 0 or t - last_alert_ts[c] >= realert):
            alert[i] = 1
            last_alert_ts[c] = t
            last_alert_mask[c] = mask


@dataclass(frozen=True)
class Constellation:
    """The arrays and scalars the kernel needs, built once from specs and settings."""

    specs: tuple[IndicatorSpec, ...]
    rules: tuple[ProfileRuleSpec, ...]
    settings: ConstellationSettings
    rule_flag_bits: I64s
    weights: F64s
    families: I64s
    family_index: I64s
    anchor_families: int
    strong_bits: int
    nexus_bits: int
    collector_bits: int
    spend_bits: int

    @classmethod
    def build(cls, specs: list[IndicatorSpec], settings: ConstellationSettings) -> Constellation:
        rules = PROFILE_RULES
        everyone: list[IndicatorSpec | ProfileRuleSpec] = [*specs, *rules]
        members = [(member_weight(s, settings), s.family) for s in everyone]

        def bits(test: Callable[[IndicatorSpec | ProfileRuleSpec], bool]) -> int:
            return sum(1 << k for k, s in enumerate(everyone) if test(s))

        nexus = set(settings.nexus)
        return cls(
            specs=tuple(specs),
            rules=rules,
            settings=settings,
            rule_flag_bits=np.array([r.flag_bit for r in rules], dtype=np.int64),
            weights=np.array([w for w, _ in members], dtype=np.float64),
            families=np.array([family_bit(f) for _, f in members], dtype=np.int64),
            family_index=np.array([FAMILIES.index(f) for _, f in members], dtype=np.int64),
            anchor_families=sum(family_bit(f) for f in ANCHOR_FAMILIES),
            strong_bits=bits(
                lambda s: isinstance(s, ProfileRuleSpec) and s.id in settings.strong_rules
            ),
            nexus_bits=bits(lambda s: s.id in nexus or s.family in nexus),
            collector_bits=bits(lambda s: s.role_signal == "collector")
            if settings.collector_nexus
            else 0,
            spend_bits=bits(lambda s: s.role_signal == "victim" and s.family in ("ADV", "LODGE")),
        )

    def run(
        self,
        cust: I64s,
        ts: I64s,
        fired: NDArray[np.uint8],
        state: PartitionState,
        alert: NDArray[np.uint8],
        score: F64s,
        active: I64s,
    ) -> None:
        s = self.settings
        evaluate_constellation(
            cust, ts, fired, state.profile["profile_flags"], self.rule_flag_bits, self.weights,
            self.families, self.family_index, np.int64(self.anchor_families),
            np.int64(self.strong_bits), state.last_fire, state.last_alert_ts,
            state.last_alert_mask, np.int64(s.window_days * DAY),
            np.int64(s.min_families), float(s.score_threshold), np.int64(s.realert_days * DAY),
            float(s.same_family_factor), float(s.family_min_weight), np.int64(self.nexus_bits),
            np.int64(self.collector_bits), np.int64(self.spend_bits), bool(s.nexus),
            alert, score, active,
        )  # fmt: skip

    def members(self, mask: int) -> tuple[list[int], list[ProfileRuleSpec]]:
        """Indices of active transaction rules and the active profile rules in ``mask``."""
        k = len(self.specs)
        txn = [i for i in range(k) if mask >> i & 1]
        prof = [r for m, r in enumerate(self.rules) if mask >> (k + m) & 1]
        return txn, prof


def member_weight(spec: IndicatorSpec | ProfileRuleSpec, settings: ConstellationSettings) -> float:
    """The spec's weight, overridden by ``constellation.weights`` (its id, else its family)."""
    overrides = settings.weights
    return float(overrides.get(spec.id, overrides.get(spec.family, spec.weight)))


def role_hypothesis(signals: list[tuple[str, str, float]]) -> str:
    """Role from the active rules' ``(role_signal, family, weight)``.

    Victims must not be reported as suspects (FinCEN FIN-2020-A008). Money arriving from
    many senders (FUNNEL fan-in) is what victims, collectors and traffickers all show, so
    the role comes from what goes with it:

    * fan-in passed on (pass-through, or escort-referenced e-transfers collected and sent
      on), without the victim's own ad and lodging spend and without the trafficker's
      lifestyle or properties: the collector / nominee (F21-G29);
    * otherwise the heavier side: ads, lodging, cash at many places, funds forwarded out
      and third-party control point to a possible victim; fan-in, lifestyle, properties
      and outside information to a suspected trafficker.
    """
    victim = trafficker = 0.0
    fan_in = escort_fan_in = forwarding = victim_spend = lifestyle = False
    for signal, family, w in signals:
        if signal == "victim":
            victim += w
        elif signal in ("trafficker", "collector"):
            trafficker += w
        fan_in |= signal in ("trafficker", "collector") and family == "FUNNEL"
        escort_fan_in |= signal == "collector"
        forwarding |= signal == "victim" and family == "FUNNEL"
        victim_spend |= signal == "victim" and family in ("ADV", "LODGE")
        lifestyle |= signal == "trafficker" and family in ("LUX", "PROP")
    if fan_in and (forwarding or escort_fan_in) and not victim_spend and not lifestyle:
        return "collector_nominee"
    if victim > trafficker:
        return "possible_victim"
    if trafficker > victim:
        return "suspected_trafficker"
    return "unknown"
