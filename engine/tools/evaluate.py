"""Detection quality against labelled data:
``protect evaluate --labels labels.csv --alerts ALERTS``.

Labels are the generator's ``labels.csv`` (or any file with its columns: ``customer_id``,
``role`` in victim / trafficker / collector for ring members, anything else for the rest,
``business_model``, ``ring_id``, ``first_activity`` as an ISO date, ``lookalike_type``).
Alerts are CONTRACT §4 messages, one per line.

Definitions (each number in the report is one of these):

* a customer is *alerted* when at least one alert names them; *ring members* are the
  customers labelled victim, trafficker or collector; everyone else is *outside the rings*;
* customer precision = alerted members / alerted customers; recall = alerted members /
  members; a ring is *caught* when any member is alerted (also reported: the share of
  each ring's members alerted); case precision = caught rings / (caught rings + falsely
  alerted customers), the share of real cases if an analyst merges a ring's alerted
  members into one case;
* false-positive rate = falsely alerted customers / customers outside the rings, overall
  and per look-alike type; volumes are per 10,000 customers (alerts over everyone, false
  ones over those outside the rings);
* detection delay = the member's first alert's ``window_end`` minus their first ring
  activity (``first_activity``, a local date, taken as midnight UTC: ±1 day);
* indicator precision = among customers whose alerts carry the indicator, the share who
  are ring members;
* role accuracy: each alerted member's latest alert, ``possible_victim`` for a victim,
  ``suspected_trafficker`` for a trafficker, ``collector_nominee`` for a collector;
* precision at prevalence π (default one ring member per 2,000 customers):
  ``recall·π / (recall·π + fp_rate·(1 − π))``, what the measured recall and false-positive
  rate imply for a realistic customer base (the generated data holds far more rings);
* the threshold curve re-scores customers by their highest alert score: a customer counts
  as alerted at threshold *t* when some alert scored ≥ *t* (post hoc: alerts raised by the
  family-count rule below the score threshold drop out as *t* rises).
"""

from __future__ import annotations

import csv
import html
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from statistics import median

import msgspec

from engine.errors import ProtectError

RING_ROLES = ("victim", "trafficker", "collector")
EXPECTED_HYPOTHESIS = {
    "victim": "possible_victim",
    "trafficker": "suspected_trafficker",
    "collector": "collector_nominee",
}
MODELS = ("short_stay_hotel", "private_residence", "illicit_storefront")
PREVALENCE = 1 / 2000
# Quality bars of issue 4.
BAR_RECALL = 0.90
BAR_FALSE_PER_10K = 10.0
BAR_ROLE_ACCURACY = 0.70


class AlertIndicatorLite(msgspec.Struct):
    id: str
    family: str = ""


class AlertLite(msgspec.Struct):
    """The fields of a CONTRACT §4 alert that evaluation needs (the rest is skipped)."""

    customer_id: str
    role_hypothesis: str
    score: float
    window_end: str
    indicators: list[AlertIndicatorLite] = []
    families: list[str] = []


@dataclass(frozen=True)
class Label:
    customer_id: str
    role: str
    business_model: str = ""
    ring_id: str = ""
    first_activity: str = ""
    lookalike_type: str = ""

    @property
    def member(self) -> bool:
        return self.role in RING_ROLES


_ALERT = msgspec.json.Decoder(AlertLite)


# ---------------------------------------------------------------------------- input
def read_labels(path: Path) -> dict[str, Label]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"customer_id", "role"} - set(reader.fieldnames or ())
        if missing:
            raise ProtectError(f"{path}: labels need the column(s) {sorted(missing)}")
        return {
            row["customer_id"]: Label(
                row["customer_id"],
                row["role"],
                row.get("business_model") or "",
                row.get("ring_id") or "",
                row.get("first_activity") or "",
                row.get("lookalike_type") or "",
            )
            for row in reader
        }


def read_alerts(path: Path) -> list[AlertLite]:
    alerts = []
    with open(path, "rb") as handle:
        for n, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    alerts.append(_ALERT.decode(line))
                except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                    raise ProtectError(f"{path}:{n}: not a CONTRACT §4 alert: {exc}") from None
    return alerts


def lite(alerts: Iterable) -> list[AlertLite]:
    """Engine :class:`schemas.Alert` objects as :class:`AlertLite` (for in-process tuning)."""
    return [
        AlertLite(
            a.customer_id,
            a.role_hypothesis,
            a.score,
            a.window_end,
            [AlertIndicatorLite(i.id, i.family) for i in a.indicators],
            list(a.families),
        )
        for a in alerts
    ]


# ---------------------------------------------------------------------------- metrics
def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def implied_precision(
    recall: float | None, fp_rate: float | None, prevalence: float = PREVALENCE
) -> float | None:
    """Precision at ``prevalence`` from recall and the false-positive rate outside the rings."""
    if recall is None or fp_rate is None:
        return None
    tp, fp = recall * prevalence, fp_rate * (1 - prevalence)
    return tp / (tp + fp) if tp + fp else None


def evaluate(
    labels: dict[str, Label],
    alerts: Sequence[AlertLite],
    prevalence: float = PREVALENCE,
    days: float | None = None,
) -> dict:
    """Every measure in the module docstring, as a JSON-ready dict."""
    n = len(labels)
    members = {c for c, lab in labels.items() if lab.member}
    outside = n - len(members)
    by_customer: dict[str, list[AlertLite]] = defaultdict(list)
    for a in alerts:
        by_customer[a.customer_id].append(a)
    unknown = sorted(set(by_customer) - labels.keys())
    alerted = set(by_customer) & labels.keys()
    caught = alerted & members
    false = alerted - members
    recall = _ratio(len(caught), len(members))
    fp_rate = _ratio(len(false), outside)
    alerts_on_members = sum(len(by_customer[c]) for c in caught)
    alerts_outside = sum(len(by_customer[c]) for c in false)

    report: dict = {
        "population": {
            "customers": n,
            "ring_members": len(members),
            "outside_rings": outside,
            "rings": len({labels[c].ring_id for c in members}),
            "days": days,
            "alerts": len(alerts),
            "alerts_for_unlabelled_customers": len(unknown),
        },
        "customers": {
            "alerted": len(alerted),
            "ring_members_alerted": len(caught),
            "falsely_alerted": len(false),
            "precision": _r(_ratio(len(caught), len(alerted))),
            "recall": _r(recall),
            "false_positive_rate": _r(fp_rate, 6),
        },
        "alerts": {
            "total": len(alerts),
            "on_ring_members": alerts_on_members,
            "outside_rings": alerts_outside,
            "precision": _r(_ratio(alerts_on_members, alerts_on_members + alerts_outside)),
            "per_10k_customers": _r(_ratio(1e4 * len(alerts), n), 2),
            "alerted_customers_per_10k": _r(_ratio(1e4 * len(alerted), n), 2),
            "false_alerts_per_10k_outside": _r(_ratio(1e4 * alerts_outside, outside), 2),
            "falsely_alerted_customers_per_10k_outside": _r(_ratio(1e4 * len(false), outside), 2),
        },
    }
    if days:
        scale = 30.0 / days
        report["alerts"]["per_10k_customers_per_30_days"] = _r(
            _ratio(1e4 * len(alerts), n) * scale, 2
        )  # type: ignore[operator]
        report["alerts"]["false_alerts_per_10k_outside_per_30_days"] = _r(
            (_ratio(1e4 * alerts_outside, outside) or 0.0) * scale, 2
        )
    report["rings"] = _rings(labels, members, caught, len(false))
    report["recall_by_role"] = _recall_by(labels, members, caught, "role", RING_ROLES)
    report["recall_by_business_model"] = _recall_by(
        labels, members, caught, "business_model", MODELS
    )
    report["false_positives_by_lookalike_type"] = _lookalikes(labels, alerted)
    report["detection_delay_days"] = _delays(labels, caught, by_customer)
    report["indicators"] = _indicators(members, by_customer, labels)
    report["families"] = dict(Counter(f for a in alerts for f in a.families).most_common())
    report["roles"] = _roles(labels, caught, false, by_customer)
    report["prevalence"] = {
        "assumed": prevalence,
        "one_member_per": round(1 / prevalence),
        "in_this_data": _r(_ratio(len(members), n), 6),
        "precision_implied": _r(implied_precision(recall, fp_rate, prevalence)),
        "false_positive_share_implied": _r(
            None if (p := implied_precision(recall, fp_rate, prevalence)) is None else 1 - p
        ),
    }
    report["threshold_curve"] = threshold_curve(labels, members, by_customer, prevalence)
    report["quality_bars"] = quality_bars(report)
    return report


def _rings(labels, members, caught, n_false) -> dict:
    rings: dict[str, list[str]] = defaultdict(list)
    for c in members:
        rings[labels[c].ring_id].append(c)
    rows = []
    for ring_id, people in sorted(rings.items()):
        hit = [c for c in people if c in caught]
        rows.append(
            {
                "ring_id": ring_id,
                "business_model": labels[people[0]].business_model,
                "members": len(people),
                "alerted": len(hit),
                "fraction": round(len(hit) / len(people), 3),
            }
        )
    n_caught = sum(1 for r in rows if r["alerted"])
    return {
        "total": len(rows),
        "caught": n_caught,
        "recall": _r(_ratio(n_caught, len(rows))),
        "mean_fraction_of_members_alerted": _r(
            _ratio(sum(r["alerted"] / r["members"] for r in rows), len(rows))
        ),
        "case_precision": _r(_ratio(n_caught, n_caught + n_false)),
        "by_ring": rows,
    }


def _recall_by(labels, members, caught, attribute: str, order: Sequence[str]) -> dict:
    groups: dict[str, list[str]] = defaultdict(list)
    for c in members:
        groups[getattr(labels[c], attribute) or "unknown"].append(c)
    keys = [k for k in order if k in groups] + sorted(k for k in groups if k not in order)
    return {
        k: {
            "members": len(groups[k]),
            "alerted": sum(c in caught for c in groups[k]),
            "recall": _r(sum(c in caught for c in groups[k]) / len(groups[k])),
        }
        for k in keys
    }


def _lookalikes(labels, alerted) -> dict:
    groups: dict[str, list[str]] = defaultdict(list)
    for c, lab in labels.items():
        if not lab.member:
            groups[
                lab.lookalike_type or ("ordinary" if lab.role == "background" else lab.role)
            ].append(c)
    out = {}
    for k in sorted(groups, key=lambda g: (g == "ordinary", g)):
        hit = sum(c in alerted for c in groups[k])
        out[k] = {
            "customers": len(groups[k]),
            "falsely_alerted": hit,
            "rate": _r(hit / len(groups[k]), 5),
            "per_10k": _r(1e4 * hit / len(groups[k]), 1),
        }
    return out


def _delays(labels, caught, by_customer) -> dict:
    delays: dict[str, list[float]] = defaultdict(list)
    for c in caught:
        if not labels[c].first_activity:
            continue
        start = datetime.combine(
            date.fromisoformat(labels[c].first_activity), datetime.min.time(), UTC
        )
        first = min(_ts(a.window_end) for a in by_customer[c])
        delays[labels[c].role].append((first - start).total_seconds() / 86_400)
    every = [d for v in delays.values() for d in v]

    def summary(values: list[float]) -> dict:
        values = sorted(values)
        return {
            "n": len(values),
            "median": _r(median(values), 1) if values else None,
            "p25": _r(_quantile(values, 0.25), 1),
            "p75": _r(_quantile(values, 0.75), 1),
        }

    return {**summary(every), "by_role": {r: summary(delays[r]) for r in RING_ROLES if r in delays}}


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    k = (len(values) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def _indicators(members, by_customer, labels) -> list[dict]:
    alerts_with: Counter[str] = Counter()
    customers_with: dict[str, set[str]] = defaultdict(set)
    family: dict[str, str] = {}
    for c, alerts in by_customer.items():
        if c not in labels:
            continue
        for a in alerts:
            for ind in {i.id: i for i in a.indicators}.values():
                alerts_with[ind.id] += 1
                customers_with[ind.id].add(c)
                family[ind.id] = ind.family
    rows = []
    for ind_id, count in alerts_with.most_common():
        people = customers_with[ind_id]
        hits = len(people & members)
        rows.append(
            {
                "id": ind_id,
                "family": family[ind_id],
                "alerts": count,
                "customers": len(people),
                "ring_members": hits,
                "others": len(people) - hits,
                "precision": _r(hits / len(people)),
            }
        )
    return rows


def _latest(alerts: list[AlertLite]) -> AlertLite:
    best = alerts[0]
    for a in alerts[1:]:  # ties: the later line wins, as a consumer of the topic would see it
        if _ts(a.window_end) >= _ts(best.window_end):
            best = a
    return best


def _roles(labels, caught, false, by_customer) -> dict:
    confusion: dict[str, Counter[str]] = {r: Counter() for r in RING_ROLES}
    right = 0
    for c in caught:
        hyp = _latest(by_customer[c]).role_hypothesis
        confusion[labels[c].role][hyp] += 1
        right += hyp == EXPECTED_HYPOTHESIS[labels[c].role]
    outside = Counter(_latest(by_customer[c]).role_hypothesis for c in false)
    return {
        "members_found": len(caught),
        "right": right,
        "accuracy": _r(_ratio(right, len(caught))),
        "by_role": {
            r: {
                "found": sum(confusion[r].values()),
                "right": confusion[r][EXPECTED_HYPOTHESIS[r]],
                "accuracy": _r(
                    _ratio(confusion[r][EXPECTED_HYPOTHESIS[r]], sum(confusion[r].values()))
                ),
            }
            for r in RING_ROLES
        },
        "confusion": {r: dict(confusion[r]) for r in RING_ROLES},
        "outside_rings": dict(outside),
    }


def threshold_curve(
    labels, members, by_customer, prevalence: float = PREVALENCE, points: int = 60
) -> list[dict]:
    """Precision, recall and volume if only customers with an alert scoring ≥ t counted."""
    best = {c: max(a.score for a in alerts) for c, alerts in by_customer.items() if c in labels}
    if not best:
        return []
    scores = sorted(set(best.values()))
    if len(scores) > points:  # evenly spaced, always keeping the lowest (everything alerted)
        step = (len(scores) - 1) / (points - 1)
        scores = sorted({scores[round(k * step)] for k in range(points)})
    n_members = len(members)
    outside = len(labels) - n_members
    curve = []
    for t in scores:
        hit = {c for c, s in best.items() if s >= t}
        tp = len(hit & members)
        fp = len(hit) - tp
        recall, fp_rate = _ratio(tp, n_members), _ratio(fp, outside)
        curve.append(
            {
                "threshold": round(t, 3),
                "alerted": len(hit),
                "ring_members": tp,
                "others": fp,
                "precision": _r(_ratio(tp, len(hit))),
                "recall": _r(recall),
                "falsely_alerted_per_10k": _r(_ratio(1e4 * fp, outside), 2),
                "precision_at_prevalence": _r(implied_precision(recall, fp_rate, prevalence)),
            }
        )
    return curve


def quality_bars(report: dict) -> dict:
    recall = report["customers"]["recall"]
    false = report["alerts"]["falsely_alerted_customers_per_10k_outside"]
    roles = report["roles"]["accuracy"]
    return {
        "recall": {
            "bar": f">= {BAR_RECALL}",
            "measured": recall,
            "met": recall is not None and recall >= BAR_RECALL,
        },
        "falsely_alerted_per_10k": {
            "bar": f"<= {BAR_FALSE_PER_10K}",
            "measured": false,
            "met": false is not None and false <= BAR_FALSE_PER_10K,
        },
        "role_accuracy": {
            "bar": f">= {BAR_ROLE_ACCURACY}",
            "measured": roles,
            "met": roles is not None and roles >= BAR_ROLE_ACCURACY,
        },
    }


# ---------------------------------------------------------------------------- text
def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _fine_pct(x: float | None) -> str:
    return _pct(x) if x is None or x == 0 or x >= 0.01 else f"{100 * x:.2f}%"


def _num(x: float | None, fmt: str = "{:,.2f}") -> str:
    return "n/a" if x is None else fmt.format(x)


def format_report(r: dict) -> str:
    """The report as a terminal table."""
    pop, cust, al, rings = r["population"], r["customers"], r["alerts"], r["rings"]
    bars = r["quality_bars"]
    ok = {True: "met", False: "NOT met"}
    in_this_data = r["prevalence"]["in_this_data"]
    one_member_per = round(1 / in_this_data) if in_this_data else "n/a"
    delay = r["detection_delay_days"]
    lines = [
        f"population        {pop['customers']:>9,} customers, "
        f"{pop['ring_members']:,} ring members in "
        f"{pop['rings']} rings, {pop['outside_rings']:,} outside"
        + (f", {pop['days']:g} days" if pop["days"] else ""),
        f"alerts            {al['total']:>9,}   for {cust['alerted']:,} customers "
        f"({al['per_10k_customers']:,} per 10,000 customers)",
        "",
        "                     ring members       outside the rings",
        f"alerted customers   {cust['ring_members_alerted']:>6,} of {pop['ring_members']:<7,}  "
        f"{cust['falsely_alerted']:>6,} of {pop['outside_rings']:,}",
        f"alerts              {al['on_ring_members']:>6,}             {al['outside_rings']:>6,}",
        "",
        f"customer recall     {_pct(cust['recall']):>7}   "
        f"(bar >= {BAR_RECALL:.0%}: {ok[bars['recall']['met']]})",
        f"customer precision  {_pct(cust['precision']):>7}   (in this data: 1 member per "
        f"{one_member_per} customers)",
        f"falsely alerted     {_num(al['falsely_alerted_customers_per_10k_outside']):>7}   "
        "per 10,000 outside the rings "
        f"(bar <= {BAR_FALSE_PER_10K:g}: {ok[bars['falsely_alerted_per_10k']['met']]})",
        f"role hypothesis     {_pct(r['roles']['accuracy']):>7}   right for members found "
        f"(bar >= {BAR_ROLE_ACCURACY:.0%}: {ok[bars['role_accuracy']['met']]})",
        f"rings caught        {rings['caught']:>3} of {rings['total']:<3}   "
        f"mean {_pct(rings['mean_fraction_of_members_alerted'])} "
        f"of each ring's members alerted; case precision {_pct(rings['case_precision'])}",
        f"detection delay     {_num(delay['median'], '{:.1f}'):>7}   days, median "
        f"(p25 {_num(delay['p25'], '{:.1f}')}, p75 {_num(delay['p75'], '{:.1f}')})",
        f"at 1:{r['prevalence']['one_member_per']:,} prevalence  "
        f"precision {_pct(r['prevalence']['precision_implied'])} "
        f"({_pct(r['prevalence']['false_positive_share_implied'])} false positives; "
        "industry rule-based: 85-95%)",
    ]
    if "per_10k_customers_per_30_days" in al:
        lines.append(
            f"per 30 days         {al['per_10k_customers_per_30_days']:>7,}   "
            "alerts per 10,000 customers, "
            f"{al['false_alerts_per_10k_outside_per_30_days']:,} of them false"
        )
    lines += ["", "recall by role              members  alerted  recall   delay(d)  role right"]
    for role, row in r["recall_by_role"].items():
        d = r["detection_delay_days"]["by_role"].get(role, {})
        rr = r["roles"]["by_role"].get(role, {})
        lines.append(
            f"  {role:<24} {row['members']:>7}  {row['alerted']:>7}  {_pct(row['recall']):>6}   "
            f"{_num(d.get('median'), '{:.1f}'):>8}  {_pct(rr.get('accuracy')):>10}"
        )
    lines += ["", "recall by business model    members  alerted  recall"]
    for model, row in r["recall_by_business_model"].items():
        lines.append(
            f"  {model:<24} {row['members']:>7}  {row['alerted']:>7}  {_pct(row['recall']):>6}"
        )
    lines += ["", "false positives by type     customers  alerted    rate  per 10,000"]
    for kind, row in r["false_positives_by_lookalike_type"].items():
        lines.append(
            f"  {kind:<24} {row['customers']:>9,}  {row['falsely_alerted']:>7}  "
            f"{_fine_pct(row['rate']):>6}  "
            f"{row['per_10k']:>10,.1f}"
        )
    lines += ["", "indicators in alerts   alerts  customers  members  others  precision"]
    for row in r["indicators"]:
        lines.append(
            f"  {row['id']:<8} {row['family']:<8}  {row['alerts']:>6}  {row['customers']:>9}  "
            f"{row['ring_members']:>7}  {row['others']:>6}  {_pct(row['precision']):>9}"
        )
    conf = r["roles"]["confusion"]
    lines += [
        "",
        "role hypothesis (latest alert)  possible_victim  suspected_trafficker  "
        "collector_nominee  unknown",
    ]
    for role in RING_ROLES:
        c = conf[role]
        lines.append(
            f"  {role:<29} {c.get('possible_victim', 0):>15}  "
            f"{c.get('suspected_trafficker', 0):>20}  "
            f"{c.get('collector_nominee', 0):>17}  {c.get('unknown', 0):>7}"
        )
    if r["roles"]["outside_rings"]:
        lines.append(
            "  outside the rings: "
            + ", ".join(f"{k} {v}" for k, v in sorted(r["roles"]["outside_rings"].items()))
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- HTML
_COLORS = {
    "precision": "#1f77b4",
    "recall": "#d62728",
    "precision_at_prevalence": "#2ca02c",
    "falsely_alerted_per_10k": "#9467bd",
}


def _svg_lines(
    curve: list[dict],
    keys: Sequence[str],
    labels: dict[str, str],
    title: str,
    y_max: float = 1.0,
    y_fmt: str = "{:.0%}",
    ref: tuple[float, str] | None = None,
    mark: float | None = None,
) -> str:
    """A line chart of ``curve[*][key]`` against ``curve[*]['threshold']``."""
    w, h, left, right, top, bottom = 560, 300, 50, 168, 34, 42
    pw, ph = w - left - right, h - top - bottom
    xs = [p["threshold"] for p in curve]
    x0, x1 = min(xs), max(xs)
    x1 = x1 if x1 > x0 else x0 + 1

    def X(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def Y(y: float) -> float:
        return top + ph - min(max(y, 0.0), y_max) / y_max * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        f'role="img" aria-label="{html.escape(title)}" '
        'font-family="system-ui,sans-serif" font-size="12">',
        f'<text x="{left}" y="18" font-size="14" font-weight="600">{html.escape(title)}</text>',
    ]
    for k in range(6):
        y = y_max * k / 5
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{Y(y):.1f}" y2="{Y(y):.1f}" stroke="#e5e5e5"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{Y(y) + 4:.1f}" text-anchor="end" fill="#555">'
            f"{y_fmt.format(y)}</text>"
        )
    for k in range(6):
        x = x0 + (x1 - x0) * k / 5
        out.append(
            f'<text x="{X(x):.1f}" y="{top + ph + 16}" text-anchor="middle" fill="#555">'
            f"{x:.1f}</text>"
        )
    out.append(
        f'<text x="{left + pw / 2}" y="{h - 6}" text-anchor="middle" fill="#333">'
        "alert score threshold (customer counted if an alert scored at least this)</text>"
    )
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    if ref is not None:
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{Y(ref[0]):.1f}" y2="{Y(ref[0]):.1f}" '
            'stroke="#444" stroke-dasharray="5,4"/>'
        )
        out.append(
            f'<text x="{left + pw - 4}" y="{Y(ref[0]) - 5:.1f}" text-anchor="end" fill="#444">'
            f"{html.escape(ref[1])}</text>"
        )
    if mark is not None and x0 <= mark <= x1:
        out.append(
            f'<line x1="{X(mark):.1f}" x2="{X(mark):.1f}" y1="{top}" y2="{top + ph}" stroke="#888" '
            'stroke-dasharray="2,3"/>'
        )
    for n, key in enumerate(keys):
        pts = [(X(p["threshold"]), Y(p[key])) for p in curve if p.get(key) is not None]
        color = _COLORS.get(key, "#333")
        if pts:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2.2"/>'
            )
        ly = top + 14 + 20 * n
        out.append(
            f'<line x1="{left + pw + 12}" x2="{left + pw + 32}" y1="{ly - 4}" y2="{ly - 4}" '
            f'stroke="{color}" stroke-width="3"/>'
        )
        out.append(
            f'<text x="{left + pw + 36}" y="{ly}" fill="#222" font-size="11">'
            f"{html.escape(labels[key])}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _svg_bars(
    items: list[tuple[str, float, str]],
    title: str,
    x_max: float,
    x_fmt: str,
    color: str = "#1f77b4",
    ref: tuple[float, str] | None = None,
) -> str:
    """Horizontal bars: (label, value, text shown after the bar)."""
    row, left, right, top = 26, 190, 150, 34
    pw = 560 - left - right
    h = top + row * len(items) + 30
    x_max = x_max or 1.0

    def X(x: float) -> float:
        return left + min(max(x, 0.0), x_max) / x_max * pw

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="560" height="{h}" viewBox="0 0 560 {h}" '
        f'role="img" aria-label="{html.escape(title)}" '
        'font-family="system-ui,sans-serif" font-size="12">',
        f'<text x="8" y="18" font-size="14" font-weight="600">{html.escape(title)}</text>',
    ]
    for k in range(5):
        x = x_max * k / 4
        out.append(
            f'<line x1="{X(x):.1f}" x2="{X(x):.1f}" y1="{top - 4}" y2="{top + row * len(items)}" '
            'stroke="#eee"/>'
        )
        out.append(
            f'<text x="{X(x):.1f}" y="{top + row * len(items) + 16}" text-anchor="middle" '
            f'fill="#555">{x_fmt.format(x)}</text>'
        )
    for n, (label, value, note) in enumerate(items):
        y = top + row * n
        out.append(
            f'<text x="{left - 8}" y="{y + 16}" text-anchor="end" fill="#222">'
            f"{html.escape(label)}</text>"
        )
        out.append(
            f'<rect x="{left}" y="{y + 4}" width="{max(X(value) - left, 1.5):.1f}" '
            f'height="{row - 8}" fill="{color}" rx="2"/>'
        )
        out.append(
            f'<text x="{X(value) + 6:.1f}" y="{y + 16}" fill="#333">{html.escape(note)}</text>'
        )
    if ref is not None and ref[0] <= x_max:
        out.append(
            f'<line x1="{X(ref[0]):.1f}" x2="{X(ref[0]):.1f}" y1="{top - 4}" '
            f'y2="{top + row * len(items)}" stroke="#c00" stroke-dasharray="5,4"/>'
        )
        out.append(
            f'<text x="{X(ref[0]) + 4:.1f}" y="{top - 8}" fill="#c00">{html.escape(ref[1])}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def render_html(r: dict, title: str = "Project Protect: detection quality") -> str:
    """A self-contained page (inline SVG, no scripts, no network) with the report's charts."""
    pop, cust, al = r["population"], r["customers"], r["alerts"]
    bars = r["quality_bars"]
    curve = r["threshold_curve"]
    cards = [
        ("customer recall", _pct(cust["recall"]), bars["recall"]),
        (
            "falsely alerted / 10,000 outside",
            _num(al["falsely_alerted_customers_per_10k_outside"]),
            bars["falsely_alerted_per_10k"],
        ),
        ("role hypothesis right", _pct(r["roles"]["accuracy"]), bars["role_accuracy"]),
        ("precision at 1:2,000", _pct(r["prevalence"]["precision_implied"]), None),
        ("rings caught", f"{r['rings']['caught']} / {r['rings']['total']}", None),
        (
            "median detection delay",
            f"{_num(r['detection_delay_days']['median'], '{:.1f}')} d",
            None,
        ),
    ]

    def card(k: str, v: str, bar: dict | None) -> str:
        state = "" if bar is None else ("ok" if bar["met"] else "bad")
        note = "" if bar is None else " (bar " + html.escape(bar["bar"]) + ")"
        return (
            f'<div class="card {state}"><div class="v">{html.escape(v)}</div>'
            f'<div class="k">{html.escape(k)}{note}</div></div>'
        )

    card_html = "".join(card(k, v, bar) for k, v, bar in cards)
    charts = []
    if curve:
        charts.append(
            _svg_lines(
                curve,
                ["precision", "recall", "precision_at_prevalence"],
                {
                    "precision": "precision, this data",
                    "recall": "recall",
                    "precision_at_prevalence": "precision at 1:2,000",
                },
                "Precision and recall against the score threshold",
                ref=(BAR_RECALL, "recall bar 90%"),
            )
        )
        fmax = max([p["falsely_alerted_per_10k"] or 0 for p in curve] + [BAR_FALSE_PER_10K * 1.5])
        charts.append(
            _svg_lines(
                curve,
                ["falsely_alerted_per_10k"],
                {"falsely_alerted_per_10k": "falsely alerted"},
                "Falsely alerted customers per 10,000 outside the rings",
                y_max=_nice(fmax),
                y_fmt="{:.0f}",
                ref=(BAR_FALSE_PER_10K, "bar: 10"),
            )
        )
    role_items = [
        (k, v["recall"] or 0.0, f"{_pct(v['recall'])} ({v['alerted']}/{v['members']})")
        for k, v in r["recall_by_role"].items()
    ]
    model_items = [
        (
            k.replace("_", " "),
            v["recall"] or 0.0,
            f"{_pct(v['recall'])} ({v['alerted']}/{v['members']})",
        )
        for k, v in r["recall_by_business_model"].items()
    ]
    charts.append(
        _svg_bars(role_items, "Recall by role", 1.0, "{:.0%}", "#d62728", (BAR_RECALL, "90%"))
    )
    charts.append(
        _svg_bars(
            model_items, "Recall by business model", 1.0, "{:.0%}", "#d62728", (BAR_RECALL, "90%")
        )
    )
    fp = r["false_positives_by_lookalike_type"]
    fp_items = [
        (
            k.replace("_", " "),
            v["rate"],
            f"{_fine_pct(v['rate'])} ({v['falsely_alerted']}/{v['customers']:,})",
        )
        for k, v in fp.items()
    ]
    fmax = _nice(max([v for _, v, _ in fp_items] + [0.01]))
    charts.append(
        _svg_bars(
            fp_items,
            "Share falsely alerted, by look-alike type",
            fmax,
            "{:.0%}" if fmax >= 0.1 else "{:.1%}",
            "#9467bd",
            (BAR_FALSE_PER_10K / 1e4, "bar 0.1%"),
        )
    )
    role_rows = "".join(
        f"<tr><td>{html.escape(role)}</td>"
        + "".join(
            f"<td>{r['roles']['confusion'][role].get(h, 0)}</td>"
            for h in ("possible_victim", "suspected_trafficker", "collector_nominee", "unknown")
        )
        + "</tr>"
        for role in RING_ROLES
    )
    ind_rows = "".join(
        f"<tr><td>{html.escape(i['id'])}</td><td>{html.escape(i['family'])}</td>"
        f"<td>{i['alerts']:,}</td>"
        f"<td>{i['customers']:,}</td><td>{i['ring_members']:,}</td><td>{i['others']:,}</td>"
        f'<td><span class="pbar" style="width:{80 * (i["precision"] or 0):.0f}px"></span> '
        f"{_pct(i['precision'])}</td></tr>"
        for i in r["indicators"]
    )
    in_this_data = r["prevalence"]["in_this_data"]
    one_member_per = round(1 / in_this_data) if in_this_data else "n/a"
    # a backslash at the end of a line below continues the line: the page has no newline there
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1180px}}
h1{{font-size:22px;margin:0 0 4px}} .sub{{color:#555;margin-bottom:16px}}
.cards{{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:18px}}
.card{{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}}
.card.ok{{border-color:#2ca02c;background:#f1fbf1}} \
.card.bad{{border-color:#d62728;background:#fdf0f0}}
.v{{font-size:22px;font-weight:600}} .k{{font-size:12px;color:#555}}
.grid{{display:grid;grid-template-columns:repeat(2,560px);gap:18px 24px}}
table{{border-collapse:collapse;font-size:13px;margin:8px 0 18px}} \
td,th{{border-bottom:1px solid #eee;padding:3px 10px;text-align:right}}
td:first-child,th:first-child,td:nth-child(2){{text-align:left}}
.pbar{{display:inline-block;height:9px;background:#1f77b4;vertical-align:middle}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<div class="sub">{pop['customers']:,} customers \
({pop['ring_members']:,} ring members in {pop['rings']} rings),
{al['total']:,} alerts for {cust['alerted']:,} customers; \
precision {_pct(cust['precision'])} at this data's prevalence
(1 member per {one_member_per}).</div>
<div class="cards">{card_html}</div>
<div class="grid">{''.join(f'<div>{c}</div>' for c in charts)}</div>
<h2 style="font-size:16px">Role hypothesis of ring members found (latest alert)</h2>
<table><tr><th>label</th><th>possible_victim</th><th>suspected_trafficker</th>\
<th>collector_nominee</th><th>unknown</th></tr>
{role_rows}</table>
<h2 style="font-size:16px">Indicators in alerts</h2>
<table><tr><th>id</th><th>family</th><th>alerts</th><th>customers</th>\
<th>ring members</th><th>others</th><th>precision</th></tr>
{ind_rows}</table>
<p class="sub">Definitions: engine/tools/evaluate.py. \
Threshold curves are post hoc (customers' highest alert score).</p>
</body></html>
"""


def _nice(x: float) -> float:
    """A round axis maximum at or above ``x``."""
    if x <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if x <= m * base:
            return m * base
    return 10 * base


def write_report(report: dict, out_dir: Path) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / "evaluation.json", out_dir / "evaluation.html"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    html_path.write_text(render_html(report))
    return json_path, html_path
