"""Run every benchmark, print a table, write ``benchmarks/results.json`` and ``RESULTS.md``.

Usage::

    python -m benchmarks.run_all            # 1M-row core, 500k end to end, 100k Faust baseline
    python -m benchmarks.run_all --quick    # small sizes, a smoke run; writes to out/bench-quick/

Rates are transactions per second. The machines are shared; the load average at the start
of each section is recorded next to its numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import core_throughput, end_to_end, faust_baseline
from benchmarks.workload import WORKLOADS

HERE = Path(__file__).resolve().parent
TARGETS = {"kernels_per_core": 1_000_000, "end_to_end": 50_000}


def machine() -> dict:
    import msgspec
    import numba
    import numpy
    import polars

    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numpy": numpy.__version__,
        "polars": polars.__version__,
        "msgspec": msgspec.__version__,
        "platform": platform.platform(),
    }


def load() -> float:
    return round(os.getloadavg()[0], 2)


def run(
    quick: bool = False,
    transactions: int | None = None,
    sample: int | None = None,
    bootstrap: str | None = None,
) -> dict:
    core_workload = WORKLOADS["quick" if quick else "1M"]
    stream_workload = core_workload
    transactions = transactions or (50_000 if quick else 500_000)
    sample = sample or (20_000 if quick else 100_000)
    started = time.perf_counter()
    results: dict = {
        "command": "python -m benchmarks.run_all" + (" --quick" if quick else ""),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "targets": TARGETS,
    }
    results["core"] = {"load_before": load(), **core_throughput.run(core_workload)}
    with end_to_end.broker(bootstrap) as address:
        results["end_to_end"] = {
            "load_before": load(),
            **end_to_end.run(stream_workload, transactions, address),
        }
        results["faust_baseline"] = {
            "load_before": load(),
            **faust_baseline.run(
                stream_workload, sample, address, check_rows=core_workload.transactions
            ),
        }
    engine_rate = results["end_to_end"]["transactions_per_second"]
    baseline_rate = results["faust_baseline"]["transactions_per_second"]
    kernel_rate = results["core"]["kernels"]["transactions_per_second_per_core"]
    results["ratios"] = {
        "end_to_end_over_faust_baseline": round(engine_rate / baseline_rate, 2),
        "kernels_per_core_over_faust_baseline": round(kernel_rate / baseline_rate, 1),
        "detector_process_over_baseline_in_process": round(
            results["core"]["detector_process"]["transactions_per_second"]
            / results["faust_baseline"]["in_process"]["transactions_per_second"],
            2,
        ),
    }
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def rows(r: dict) -> list[tuple[str, str, str]]:
    """(measure, value, note) lines shared by the console table and RESULTS.md."""
    core, e2e, base = r["core"], r["end_to_end"], r["faust_baseline"]
    k = core["kernels"]
    eq = base["equivalence"]
    return [
        (
            f"kernels, all {len(k['indicators'])} rules with kernels + constellation",
            f"{k['transactions_per_second_per_core']:,} tx/s",
            f"per core, {core['workload']['transactions']:,} rows, median of {k['repeats']}; "
            f"target {r['targets']['kernels_per_core']:,}",
        ),
        (
            "decode (msgspec + columns + slots)",
            f"{core['decode']['rows_per_second']:,} rows/s",
            "one core",
        ),
        (
            "Detector.process (backtest path)",
            f"{core['detector_process']['transactions_per_second']:,} tx/s",
            "one core, decode and alert building included; "
            f"{core['detector_process']['alerts']:,} alerts",
        ),
        (
            "end to end, worker via embedded broker",
            f"{e2e['transactions_per_second']:,} tx/s",
            f"{e2e['workload']['transactions']:,} tx, {e2e['workload']['partitions']} partitions, "
            f"{e2e['alerts']:,} alerts (backtest {e2e['alerts_backtest']:,}: "
            f"{e2e['alerts_missing_vs_backtest']} missing, "
            f"{e2e['alerts_extra_vs_backtest']} extra), {e2e['replayed']:,} records replayed; "
            f"target {r['targets']['end_to_end']:,}",
        ),
        (
            "Faust per-event baseline",
            f"{base['transactions_per_second']:,} tx/s",
            f"{base['events']:,} tx, {base['alerts']:,} alerts",
        ),
        (
            "baseline logic without Kafka/Faust",
            f"{base['in_process']['transactions_per_second']:,} tx/s",
            f"plain Python + orjson, in process, {base['in_process']['rows']:,} rows",
        ),
        (
            "ratio end to end / Faust baseline",
            f"{r['ratios']['end_to_end_over_faust_baseline']}x",
            "both through the broker, same worker machine",
        ),
        (
            "ratio Detector.process / baseline logic",
            f"{r['ratios']['detector_process_over_baseline_in_process']}x",
            "both in process on one core, decode included: compute only",
        ),
        (
            "ratio kernels / Faust baseline",
            f"{r['ratios']['kernels_per_core_over_faust_baseline']}x",
            "kernels alone vs the whole Faust path: headroom, not like for like",
        ),
        (
            "baseline alert ids = engine backtest's",
            f"{eq['same_alert_ids']:,} of {eq['engine_alerts']:,}",
            f"{eq['rows']:,} rows; baseline {eq['baseline_alerts']:,} alerts; "
            f"rows fired per indicator equal: {eq['fired_rows_equal']}",
        ),
        (
            "state per customer",
            f"{core['state']['bytes_per_customer']:,} B",
            f"{core['state']['projected_bytes_1M_customers'] / 1e9:.2f} GB for 1,000,000 customers",
        ),
    ]


def table(r: dict) -> str:
    lines = rows(r)
    w0 = max(len(a) for a, _, _ in lines)
    w1 = max(len(b) for _, b, _ in lines)
    m = r["machine"]
    out = [
        f"machine: {m['cores']} cores, {m['cpu']}, Python {m['python']}, numba {m['numba']}",
        f"load average before: core {r['core']['load_before']}, "
        f"end to end {r['end_to_end']['load_before']}, "
        f"baseline {r['faust_baseline']['load_before']}",
        "",
    ]
    out += [f"{a:<{w0}}  {b:>{w1}}  {c}" for a, b, c in lines]
    return "\n".join(out)


def markdown(r: dict) -> str:
    m = r["machine"]
    k = r["core"]["kernels"]["per_kernel_ns_per_row"]
    lines = [
        "# Benchmark results",
        "",
        f"`{r['command']}` on {r['date']}: {m['cores']} cores ({m['cpu']}), Python {m['python']}, "
        f"numba {m['numba']}, polars {m['polars']}, msgspec {m['msgspec']}. Shared machine: load "
        f"average {r['core']['load_before']} before the core run. Full numbers: `results.json`.",
        "",
        "| measure | rate | note |",
        "|---|---:|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows(r)],
        "",
        "- **kernels**: every enabled indicator kernel and the constellation kernel over rows "
        "decoded beforehand by the engine's own functions, 65,536-row chunks, state carried across "
        "chunks, "
        "after a warm-up on a separate state (JIT excluded). One thread.",
        "- **end to end**: the real worker (`protect worker`) consuming profiles and transactions "
        "from the embedded broker, from the first consumed message to the last transaction "
        "processed (read from its /metrics); broker, worker and scraper share the machine. Its "
        "alerts are compared with a backtest over the same file.",
        "- **Faust baseline**: the same six indicators and constellation as a plain Faust agent, "
        "one event at a time (`benchmarks/faust_baseline.py`, rules in "
        "`benchmarks/baseline_rules.py`), on the first rows of the same workload. Its rules are "
        "checked equal to the engine's (alert ids and rows fired per indicator) before timing.",
        "",
        "Kernel cost per row (ns): " + ", ".join(f"{name} {v}" for name, v in k.items()) + ".",
        "",
        "Reproduce (from the repository root):",
        "",
        "```",
        r["command"],
        "```",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument(
        "--transactions", type=int, help="end-to-end transactions (default 500,000)"
    )
    parser.add_argument("--sample", type=int, help="Faust baseline transactions (default 100,000)")
    parser.add_argument("--bootstrap", help="an existing Kafka (default: a fresh embedded broker)")
    parser.add_argument(
        "--out",
        type=Path,
        help="folder for results.json and RESULTS.md "
        "(default: benchmarks/, or out/bench-quick/ with --quick so a smoke run never "
        "overwrites the committed results)",
    )
    args = parser.parse_args(argv)
    args.out = args.out or (HERE.parent / "out" / "bench-quick" if args.quick else HERE)
    results = run(args.quick, args.transactions, args.sample, args.bootstrap)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "RESULTS.md").write_text(markdown(results))
    print()
    print(table(results))
    print(
        f"\nwrote {args.out / 'results.json'} and {args.out / 'RESULTS.md'} "
        f"({results['seconds']}s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
