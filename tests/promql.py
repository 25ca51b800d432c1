"""What the deployment files ask of Prometheus: every PromQL expression of the Grafana
dashboard and of the rules file, and the metric names they use. Shared by
``test_deploy.py`` (offline checks) and ``test_prometheus.py`` (a real Prometheus).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "protect-dashboard.json"
RULES = DEPLOY / "prometheus" / "alerts.yml"

# A Grafana variable reference: $name, ${name} or ${name:format}.
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
_LABEL_VALUES = re.compile(r"^label_values\((?:(.+),\s*)?(\w+)\)$")
# Metric and recorded-series names: an identifier (colons allowed, as in recording rules)
# not followed by "(" (a function) and not inside a label matcher or a string.
_IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_KEYWORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values", "group", "by", "without", "on", "ignoring", "group_left", "group_right",
    "and", "or", "unless", "bool", "offset", "inf", "nan",
}  # fmt: skip
_COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")


def load_dashboard(path: Path = DASHBOARD) -> dict:
    return json.loads(path.read_text())


def load_rules(path: Path = RULES) -> list[dict]:
    """Every rule of every group, in file order."""
    document = yaml.safe_load(path.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def panels(dashboard: dict) -> list[dict]:
    """Every panel, including those nested in collapsed rows."""
    found = []
    for panel in dashboard.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def dashboard_expressions(dashboard: dict) -> list[tuple[str, str]]:
    """``(where, expr)`` for every panel target and every query variable of the dashboard.

    A ``label_values(metric, label)`` variable contributes its metric selector (what
    Prometheus must return series for); ``label_values(label)`` contributes nothing.
    """
    found = []
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            if target.get("expr"):
                found.append(
                    (f"panel {panel['title']!r} {target.get('refId', '')}", target["expr"])
                )
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = (
            variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        )
        match = _LABEL_VALUES.match(query.strip())
        if match is None:
            found.append((f"variable {variable['name']!r}", query))
        elif match[1]:
            found.append((f"variable {variable['name']!r}", match[1]))
    return found


def substitute(expr: str, window: str) -> str:
    """Replace Grafana's variables with what Prometheus accepts: range variables by
    ``window``, the worker selector by "any worker"."""
    values = {"__rate_interval": window, "__range": window, "__interval": window, "instance": ".+"}

    def replace(match: re.Match) -> str:
        name = match[1] or match[2]
        if name not in values:
            raise KeyError(f"dashboard variable ${name} has no test substitute in {expr!r}")
        return values[name]

    return _VARIABLE.sub(replace, expr)


def rule_expressions(rules: list[dict]) -> list[tuple[str, str]]:
    return [(f"rule {rule.get('record') or rule.get('alert')}", rule["expr"]) for rule in rules]


def recorded_names(rules: list[dict]) -> set[str]:
    return {rule["record"] for rule in rules if "record" in rule}


def metric_names(expr: str) -> set[str]:
    """Metric and recorded-series names an expression selects (approximate PromQL lexing:
    strings, label matchers, durations and function names are skipped)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = re.sub(
        r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text
    )  # label lists
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name = match.group()
        rest = text[match.end() :].lstrip()
        if (
            rest.startswith("(")
            or name.lower() in _KEYWORDS
            or match.start()
            and text[match.start() - 1].isdigit()
        ):
            continue
        names.add(name)
    return names


def exposed_names(registry: CollectorRegistry) -> set[str]:
    """Every sample name the registry can expose, whether or not a labelled child exists
    yet: counters as ``_total``, histograms as ``_bucket`` / ``_sum`` / ``_count``."""
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_sum", "_count"),
        "gauge": ("",),
        "summary": ("", "_sum", "_count"),
        "info": ("_info",),
    }
    return {
        family.name + suffix for family in registry.collect() for suffix in suffixes[family.type]
    }


def split_top_level(expr: str) -> list[str]:
    """Split an expression on its top-level ``and`` / ``or`` / ``unless`` operators."""
    parts, depth, start = [], 0, 0
    i = 0
    while i < len(expr):
        ch = expr[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            match = re.match(r"\s(and|or|unless)\s", expr[i:])
            if match:
                parts.append(expr[start:i].strip())
                i += match.end()
                start = i
                continue
        i += 1
    parts.append(expr[start:].strip())
    return parts


def with_bool(clause: str) -> str:
    """The clause with its top-level comparison made a ``bool`` comparison, which returns
    0 or 1 for every series instead of dropping the series where it is false."""
    depth = 0
    for i, ch in enumerate(clause):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            for op in _COMPARISONS:
                if clause.startswith(op, i) and not clause.startswith("=~", i):
                    after = clause[i + len(op) :]
                    if after.lstrip().startswith("bool"):
                        return clause
                    return f"{clause[:i]}{op} bool{after}"
    raise ValueError(f"no top-level comparison in {clause!r}")
