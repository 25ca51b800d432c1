"""Threshold tuning, "above and below the line": ``protect tune``.

Sweeps settings over a labelled data set and shows, for each setting, the alert volume
against recall and precision, then writes the chosen setting as a TOML file the worker
accepts (``protect worker --config tuned.toml``)::

    protect tune --transactions T --profiles P --labels labels.csv \\
        --sweep 'constellation.score_threshold=6,7,8,9' --sweep 'PP-16.min_senders=4,5,6' \\
        --out tuned.toml

Sweep keys:

* ``constellation.<field>``: ``window_days``, ``min_families``, ``score_threshold``,
  ``realert_days``;
* ``constellation.weights.<ID or FAMILY>``: a weight override (``[constellation.weights]``);
* ``<ID>.<parameter>`` (or ``indicators.<ID>.<parameter>``): an indicator parameter,
  validated against the spec's bounds;
* ``shared_identifier_min_holders``: the cross-customer stage's group size (PP-19).

``--mode grid`` (default) runs every combination; ``--mode one-at-a-time`` varies one key
at a time with the others at the base settings (``--config``, else the defaults), which
shows each parameter's own effect for a fraction of the runs.

The input is decoded once (:class:`engine.tools.backtest.DecodedInput`); each setting re-runs
the kernels, the constellation and alert building only. The choice: the highest
customer recall with at most ``--max-false-per-10k`` falsely alerted customers per 10,000
outside the rings; ties go to fewer false alerts, then fewer alerts. When no setting
meets the budget, the one with the fewest false alerts is chosen and a warning printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.config import ConstellationSettings, Settings
from engine.core.detector import Detector
from engine.errors import ConfigError
from engine.tools.backtest import DecodedInput
from engine.tools.evaluate import evaluate, format_report, lite, read_labels, write_report
from indicators.registry import REGISTRY

MAX_SETTINGS = 400
_CONSTELLATION_FIELDS = {f.name for f in dataclasses.fields(ConstellationSettings)} - {"weights"}
_TOP_LEVEL = ("shared_identifier_min_holders",)


def parse_sweep(text: str) -> tuple[str, list[float | int]]:
    """``'PP-16.min_senders=4,5,6'`` → ``('PP-16.min_senders', [4, 5, 6])``."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise ConfigError(
            f"--sweep {text!r}: expected KEY=V1,V2,... e.g. constellation.score_threshold=6,7,8"
        )
    out: list[float | int] = []
    for raw in values.split(","):
        raw = raw.strip()
        try:
            number = float(raw)
        except ValueError:
            raise ConfigError(f"--sweep {key}: {raw!r} is not a number") from None
        out.append(int(number) if number.is_integer() and "." not in raw else number)
    return key, out


def apply(base: Settings, assignment: dict[str, float | int]) -> Settings:
    """``base`` with the sweep keys of ``assignment`` set; validated (raises ConfigError)."""
    constellation: dict[str, Any] = {}
    weights = dict(base.constellation.weights)
    params = {k: dict(v) for k, v in base.indicator_params.items()}
    top: dict[str, Any] = {}
    for key, value in assignment.items():
        parts = key.split(".")
        if parts[0] == "indicators":
            parts = parts[1:]
        if parts[0] == "constellation" and len(parts) == 2 and parts[1] in _CONSTELLATION_FIELDS:
            constellation[parts[1]] = value
        elif parts[0] == "constellation" and len(parts) == 3 and parts[1] == "weights":
            weights[parts[2]] = float(value)
        elif len(parts) == 2 and parts[0] in REGISTRY:
            params.setdefault(parts[0], {})[parts[1]] = value
        elif len(parts) == 1 and parts[0] in _TOP_LEVEL:
            top[parts[0]] = value
        else:
            raise ConfigError(
                f"--sweep {key}: unknown key; use "
                f"constellation.<{'|'.join(sorted(_CONSTELLATION_FIELDS))}>, "
                "constellation.weights.<ID or FAMILY>, <ID>.<parameter> "
                f"(ids: {', '.join(REGISTRY)}) "
                f"or {', '.join(_TOP_LEVEL)}"
            )
    casts = {
        "window_days": int,
        "min_families": int,
        "realert_days": int,
        "score_threshold": float,
        "same_family_factor": float,
        "family_min_weight": float,
    }
    new_constellation = dataclasses.replace(
        base.constellation, weights=weights, **{k: casts[k](v) for k, v in constellation.items()}
    )
    extra: dict[str, Any] = {k: int(v) for k, v in top.items()}
    settings = dataclasses.replace(
        base, constellation=new_constellation, indicator_params=params, **extra
    )
    settings.validate()
    settings.check_detection()
    return settings


def settings_grid(
    sweeps: Sequence[tuple[str, list]], mode: str = "grid"
) -> list[dict[str, float | int]]:
    """Assignments to try: every combination, or one key at a time (others at base)."""
    keys = [k for k, _ in sweeps]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"--sweep: a key is given twice in {keys}")
    if mode == "grid":
        combos = [
            dict(zip(keys, values, strict=True))
            for values in itertools.product(*(v for _, v in sweeps))
        ]
    else:
        combos = [{}] + [{k: v} for k, values in sweeps for v in values]
    if len(combos) > MAX_SETTINGS:
        raise ConfigError(
            f"--sweep: {len(combos):,} settings to run (more than {MAX_SETTINGS}); "
            "use --mode one-at-a-time or fewer values"
        )
    return combos


def choose(rows: list[dict], max_false_per_10k: float) -> tuple[int, bool]:
    """Index of the chosen row, and whether it meets the false-alert budget."""
    within = [i for i, r in enumerate(rows) if r["falsely_alerted_per_10k"] <= max_false_per_10k]
    if within:
        best = max(
            within,
            key=lambda i: (
                rows[i]["recall"] or 0.0,
                -rows[i]["falsely_alerted_per_10k"],
                -rows[i]["alerts"],
                rows[i]["role_accuracy"] or 0.0,
            ),
        )
        return best, True
    best = min(
        range(len(rows)),
        key=lambda i: (rows[i]["falsely_alerted_per_10k"], -(rows[i]["recall"] or 0.0)),
    )
    return best, False


def summary_row(assignment: dict, report: dict, seconds: float) -> dict:
    return {
        "setting": assignment,
        "alerts": report["alerts"]["total"],
        "alerts_per_10k": report["alerts"]["per_10k_customers"],
        "alerted": report["customers"]["alerted"],
        "members_alerted": report["customers"]["ring_members_alerted"],
        "falsely_alerted": report["customers"]["falsely_alerted"],
        "recall": report["customers"]["recall"],
        "precision": report["customers"]["precision"],
        "falsely_alerted_per_10k": report["alerts"]["falsely_alerted_customers_per_10k_outside"]
        or 0.0,
        "role_accuracy": report["roles"]["accuracy"],
        "precision_at_prevalence": report["prevalence"]["precision_implied"],
        "rings_caught": report["rings"]["caught"],
        "rings": report["rings"]["total"],
        "seconds": round(seconds, 2),
    }


def _describe(assignment: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in assignment.items()) or "(base settings)"


def format_table(rows: list[dict], chosen: int, max_false: float) -> str:
    """Settings ordered by alert volume, with the false-alert budget drawn as a line."""
    width = max([len(_describe(r["setting"])) for r in rows] + [7])
    head = (
        f"{'setting':<{width}}  {'alerts':>7}  {'/10k':>7}  {'alerted':>7}  "
        f"{'recall':>6}  {'precis':>6}  "
        f"{'false/10k':>9}  {'roles':>5}  {'@1:2000':>7}  {'rings':>5}"
    )
    lines = [head, "-" * len(head)]
    order = sorted(
        range(len(rows)), key=lambda i: (rows[i]["falsely_alerted_per_10k"], rows[i]["alerts"])
    )
    drawn = False
    for i in order:
        r = rows[i]
        if not drawn and r["falsely_alerted_per_10k"] > max_false:
            lines.append(
                f"{'':-<{width}}  over the budget of {max_false:g} "
                "falsely alerted customers per 10,000 below this line"
            )
            drawn = True

        def pct(x):
            return "  n/a" if x is None else f"{100 * x:5.1f}%"

        lines.append(
            f"{_describe(r['setting']):<{width}}  {r['alerts']:>7,}  "
            f"{r['alerts_per_10k']:>7,.1f}  {r['alerted']:>7,}  "
            f"{pct(r['recall'])}  {pct(r['precision'])}  {r['falsely_alerted_per_10k']:>9.2f}  "
            f"{pct(r['role_accuracy'])}  {pct(r['precision_at_prevalence'])}  "
            f"{r['rings_caught']:>2}/{r['rings']:<2}" + ("  ◀ chosen" if i == chosen else "")
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- TOML
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def settings_toml(settings: Settings, header: Sequence[str] = ()) -> str:
    """The detection settings (what changes alerts) as a TOML file ``Settings.load`` accepts."""
    defaults = Settings()
    lines = [f"# {h}" for h in header]
    for name in _TOP_LEVEL + ("cross_customer",):
        value = getattr(settings, name)
        if value != getattr(defaults, name):
            lines.append(f"{name} = {_toml_value(value)}")
    c = settings.constellation
    lines += ["", "[constellation]"]
    lines += [
        f"{f.name} = {_toml_value(getattr(c, f.name))}"
        for f in dataclasses.fields(c)
        if f.name != "weights"
    ]
    if c.weights:
        lines += ["", "[constellation.weights]"]
        lines += [f"{k} = {_toml_value(float(v))}" for k, v in sorted(c.weights.items())]
    if settings.disabled_indicators:
        lines += [
            "",
            "[indicators]",
            f"disabled = {_toml_value(list(settings.disabled_indicators))}",
        ]
    if settings.indicator_params:
        for ind, params in sorted(settings.indicator_params.items()):
            if params:
                lines += ["", f"[indicators.{ind}]"]
                lines += [f"{k} = {_toml_value(v)}" for k, v in sorted(params.items())]
    return "\n".join(lines).lstrip("\n") + "\n"


# ---------------------------------------------------------------------------- run
def tune(
    decoded: DecodedInput,
    labels: dict,
    base: Settings,
    combos: list[dict],
    days: float | None = None,
    progress: bool = True,
) -> tuple[list[dict], list[dict]]:
    """Run every assignment over the decoded input; (summary rows, full reports)."""
    settings = [apply(base, c) for c in combos]  # all validated before the first run
    rows, reports = [], []
    steps = zip(combos, settings, strict=True)
    if progress:
        from tqdm import tqdm

        steps = tqdm(list(steps), desc="settings", unit="run")
    for combo, s in steps:
        started = time.perf_counter()
        result, _ = decoded.run(s, Detector(s, decoded.reference))
        report = evaluate(labels, lite(result.alerts), days=days)
        rows.append(summary_row(combo, report, time.perf_counter() - started))
        reports.append(report)
    return rows, reports


def run_tune(args: argparse.Namespace, base: Settings) -> int:
    sweeps = [parse_sweep(s) for s in args.sweep]
    combos = settings_grid(sweeps, args.mode)
    for c in combos:
        apply(base, c)  # fail on a bad key or value before decoding anything
    labels = read_labels(Path(args.labels))
    started = time.perf_counter()
    decoded = DecodedInput.load(
        Path(args.transactions),
        Path(args.profiles) if args.profiles else None,
        base,
        progress=not args.quiet,
    )
    decode_s = time.perf_counter() - started
    days = decoded.days()
    print(
        f"decoded {decoded.transactions:,} transactions once in {decode_s:,.1f}s "
        f"({decoded.dead:,} dead letters, {days:g} days); {len(combos)} settings ({args.mode})"
    )
    rows, reports = tune(decoded, labels, base, combos, days=days, progress=not args.quiet)
    chosen, met = choose(rows, args.max_false_per_10k)
    print()
    print(format_table(rows, chosen, args.max_false_per_10k))
    per_run = sum(r["seconds"] for r in rows) / len(rows)
    print(
        f"\n{per_run:,.1f}s per setting "
        f"({decoded.transactions / per_run:,.0f} transactions/s, detection only)"
    )
    best = apply(base, combos[chosen])
    header = [
        f"protect tune: chosen {_describe(combos[chosen])}",
        f"over {Path(args.transactions).name} ({decoded.transactions:,} transactions) "
        f"against {Path(args.labels).name}:",
        f"recall {rows[chosen]['recall']}, precision {rows[chosen]['precision']}, "
        f"{rows[chosen]['falsely_alerted_per_10k']} falsely alerted customers per 10,000 "
        "outside the rings, "
        f"role accuracy {rows[chosen]['role_accuracy']}",
        f"rule: highest recall with <= {args.max_false_per_10k:g} falsely alerted per 10,000"
        + ("" if met else " (NO setting met it: fewest false alerts chosen)"),
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(settings_toml(best, header))
    Settings.load(out, env={})  # what we wrote must load
    if not met:
        print(
            f"\nwarning: no setting had <= {args.max_false_per_10k:g} falsely alerted customers "
            "per 10,000; wrote the one with the fewest"
        )
    print(f"\nchosen: {_describe(combos[chosen])} → {out}")
    if args.report:
        folder = Path(args.report)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tune.json").write_text(
            json.dumps(
                {
                    "mode": args.mode,
                    "max_false_per_10k": args.max_false_per_10k,
                    "decode_seconds": round(decode_s, 2),
                    "chosen": chosen,
                    "met_budget": met,
                    "rows": rows,
                },
                indent=2,
            )
            + "\n"
        )
        write_report(reports[chosen], folder)
        print(f"report: {folder / 'tune.json'}, {folder / 'evaluation.html'} (chosen setting)")
        print()
        print(format_report(reports[chosen]))
    return 0
