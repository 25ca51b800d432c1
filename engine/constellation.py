"""Constellation scoring: when fired indicators add up to a suspicious-transaction candidate.

FINTRAC: no single indicator is conclusive; a constellation is. Default trigger
(INDICATORS.md conventions), evaluated at every row where some indicator fires:

* at least one transaction rule active in the window (30 d), and
* a family in {ADV, LODGE, FUNNEL, ID} among the active ones (keeps generic spend
  clusters from firing alone), and
* at least ``min_families`` distinct families, or a weighted score >= ``score_threshold``;
* or, alternatively, a strong profile rule (PK-04 / PK-05) plus any transaction rule.

An alert is emitted when the trigger holds and the active set has an indicator the
customer's previous alert did not have, or the previous alert is older than
``realert_days``: new evidence raises a new candidate, repetition does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.config import ConstellationSettings
from indicators.columns import DAY
from indicators.jit import kernel
from indicators.profile_rules import PROFILE_RULES
from indicators.profile_spec import ProfileRuleSpec
from indicators.spec import IndicatorSpec
from schemas import FAMILIES

ANCHOR_FAMILIES = ("ADV", "LODGE", "FUNNEL", "ID")


def family_bit(family: str) -> int:
    return 1 << FAMILIES.index(family)


@kernel
def evaluate_constellation(cust, ts, fired, profile_flags, rule_flag_bits, weights, families,
                           anchor_families, strong_bits, last_fire, last_alert_ts, last_alert_mask,
                           window, min_families, score_threshold, realert,
                           alert, score, active):
    """Per row: update last-fire times, then score the active set and decide on an alert.

    ``fired`` is uint8[n, K] (one column per enabled transaction rule); bits ``0..K-1`` of
    ``active`` are transaction rules, bits ``K..K+M-1`` the profile rules.
    """
    n, k_rules = fired.shape
    m_rules = rule_flag_bits.shape[0]
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
        s = 0.0
        for k in range(k_rules):
            lf = last_fire[c, k]
            if t - window < lf <= t:
                mask |= np.int64(1) << k
                fam |= families[k]
                s += weights[k]
        txn_mask = mask
        flags = profile_flags[c]
        for m in range(m_rules):
            if flags & rule_flag_bits[m]:
                mask |= np.int64(1) << (k_rules + m)
                fam |= families[k_rules + m]
                s += weights[k_rules + m]
        n_fam = 0
        f = fam
        while f:
            n_fam += f & 1
            f >>= 1
        trig = txn_mask != 0 and (fam & anchor_families) != 0 and (n_fam >= min_families or s >= score_threshold)
        if not trig and txn_mask != 0 and (mask & strong_bits) != 0:
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
    rule_flag_bits: np.ndarray
    weights: np.ndarray
    families: np.ndarray
    anchor_families: int
    strong_bits: int

    @classmethod
    def build(cls, specs: list[IndicatorSpec], settings: ConstellationSettings) -> Constellation:
        rules = PROFILE_RULES
        members = [(s.weight, s.family) for s in specs] + [(r.weight, r.family) for r in rules]
        strong = 0
        for m, rule in enumerate(rules):
            if rule.strong:
                strong |= 1 << (len(specs) + m)
        return cls(
            specs=tuple(specs),
            rules=rules,
            settings=settings,
            rule_flag_bits=np.array([r.flag_bit for r in rules], dtype=np.int64),
            weights=np.array([w for w, _ in members], dtype=np.float64),
            families=np.array([family_bit(f) for _, f in members], dtype=np.int64),
            anchor_families=sum(family_bit(f) for f in ANCHOR_FAMILIES),
            strong_bits=strong,
        )

    def run(self, cust, ts, fired, state, alert, score, active) -> None:
        s = self.settings
        evaluate_constellation(
            cust, ts, fired, state.profile["profile_flags"], self.rule_flag_bits, self.weights,
            self.families, np.int64(self.anchor_families), np.int64(self.strong_bits), state.last_fire,
            state.last_alert_ts, state.last_alert_mask, np.int64(s.window_days * DAY),
            np.int64(s.min_families), float(s.score_threshold), np.int64(s.realert_days * DAY),
            alert, score, active,
        )  # fmt: skip

    def members(self, mask: int) -> tuple[list[int], list[ProfileRuleSpec]]:
        """Indices of active transaction rules and the active profile rules in ``mask``."""
        k = len(self.specs)
        txn = [i for i in range(k) if mask >> i & 1]
        prof = [r for m, r in enumerate(self.rules) if mask >> (k + m) & 1]
        return txn, prof


def role_hypothesis(signals: list[tuple[str, str, float]]) -> str:
    """Role from the active rules' ``(role_signal, family, weight)``.

    Victims must not be reported as suspects (FinCEN FIN-2020-A008): a subject whose
    pattern is ads, lodging, cash at many places and funds forwarded out is a possible
    victim; fan-in from many senders, lifestyle and property patterns point to a
    trafficker; fan-in that is forwarded on, without the victim's own ad and lodging
    spend, is the collector / nominee pattern (F21-G29).
    """
    weight = {"victim": 0.0, "trafficker": 0.0, "collector": 0.0}
    fan_in = forwarding = victim_spend = False
    for signal, family, w in signals:
        if signal in weight:
            weight[signal] += w
        fan_in |= signal == "trafficker" and family == "FUNNEL"
        forwarding |= signal == "victim" and family == "FUNNEL"
        victim_spend |= signal == "victim" and family in ("ADV", "LODGE")
    if weight["collector"] > 0 or (fan_in and forwarding and not victim_spend):
        return "collector_nominee"
    if weight["victim"] > weight["trafficker"]:
        return "possible_victim"
    if weight["trafficker"] > weight["victim"]:
        return "suspected_trafficker"
    return "unknown"
