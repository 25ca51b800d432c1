"""Where the time goes: a sampling profile (py-spy) folded into the engine's stages.

Two targets, both on the shipped defaults (every rule on):

- ``core``: ``Detector.process`` over the workload's first rows in 65,536-row batches,
  profiles applied first (the backtest path, one core). The stages are the batch's steps:
  decode (framing screen, JSON parse, contract checks), kernel columns (identifier hashes,
  reference lists), slots, kernels, constellation, evidence memory, alert building, ...
- ``worker``: the real ``protect worker`` draining the workload through the embedded
  broker, cross-customer stage and case assembly on. py-spy attaches when the worker
  starts consuming and stops with it; every thread is sampled, waiting included, so the
  table also shows how much of the time the event loop sat idle.

Each sample is given to the innermost frame that names a stage (:data:`STAGES`); a sample
no rule claims is ``other``. The table goes into ``benchmarks/RESULTS.md`` between the
target's markers and the figures into ``benchmarks/stages.json``.

Example::

    python -m benchmarks.stage_profile --target core --workload bank
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.workload import CACHE, ROOT, WORKLOADS, Workload, prepare, transactions_file

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
STAGES_JSON = ROOT / "benchmarks" / "stages.json"
RATE = 100  # samples per second: enough for 1 % resolution over a run of a minute

# A sample whose innermost frame is one of these is a thread waiting for work (``--idle``
# samples them too): the event loop in ``select``, an idle executor thread in its queue.
IDLE_LEAVES = (
    "select (selectors.py", "wait (threading.py", "_worker (concurrent/futures/thread.py",
    "sleep (",
)  # fmt: skip
IDLE = "waiting (idle)"

# (stage, patterns): a frame ``function (path:line)`` names the stage when it contains a
# pattern. Innermost match wins, so helpers shared by two stages are left unnamed and
# their callers decide (``by_distinct`` serves identifier hashes and reference lists).
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("decode: framing screen", ("_screen (", "_as_text (")),
    ("decode: JSON parse", ("_parse (engine/core/columnar.py",)),
    ("decode: contract checks", ("_checked (", "_rejoin (")),
    ("decode: per-row explanations", ("explain (engine/core/decode.py",)),
    ("decode: other", ("decode_transactions (",)),
    ("profiles", ("decode_profile (", "apply_profile (", "_reannounce (")),
    ("kernel columns: identifier hashes", ("per_distinct (", "hash_column (")),
    ("kernel columns: reference lists", ("ReferenceLists.flags (",)),
    ("kernel columns: other", ("transaction_columns (",)),
    ("slots and repeats", ("slots_for (", "drop_repeats (", "_grow (")),
    ("kernels", ("run_indicator (",)),
    ("constellation", ("Constellation.run (",)),
    ("evidence memory", ("PartitionState.remember (", "prune (", "live_refs (")),
    ("alert building", ("Detector._alert (", "_fire_snapshot (")),
    ("fire snapshots", ("Detector._snapshot (",)),
    ("party signals", ("Detector._party_signals (",)),
    ("cross-customer: party index", ("engine/crosscustomer/parties.py",)),
    ("cross-customer: identifier index", ("identifier_index.py", "crosscustomer/identifiers.py")),
    ("disclosure packages", ("engine/cases/disclosure/",)),
    ("case assembly", ("case_agents.py", "engine/cases/")),
    ("checkpoint", ("Firehose.checkpoint (", "PartitionState.save (")),
    ("produce", ("Firehose._publish (", "encode_alert (", "aiokafka/producer")),
    ("fetch", ("aiokafka/consumer", "faust/transport/", "Firehose._resume_caught_up (")),
    ("Faust tables and changelogs", ("faust/tables", "faust/stores")),
    ("detector: other", ("Detector.process (", "Detector.detect_columns (")),
    ("logging", ("logging/__init__.py",)),
)
# Generic layers every stack passes through: a sample is theirs only if no stage above
# claims any of its frames (a socket write under the fetcher is the fetch, not the loop).
FALLBACK_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("metrics and health endpoints", ("prometheus_client/", "Metrics.exposition (", "aiohttp/")),
    ("event loop and tasks", ("asyncio/", "mode/")),
)


def stage_of(stack: list[str]) -> str:
    """The stage of one sampled stack (outermost frame first)."""
    if stack and any(p in stack[-1] for p in IDLE_LEAVES):
        return IDLE
    for stages in (STAGES, FALLBACK_STAGES):
        for frame in reversed(stack):
            for stage, patterns in stages:
                if any(p in frame for p in patterns):
                    return stage
    return "other"


def fold(raw: Path, within: str | None = None) -> Counter[str]:
    """Samples per stage from py-spy's raw output; ``within``: only stacks through a frame
    containing that text (the timed part of a run)."""
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit() or (within and within not in stack):
            continue
        counts[stage_of(stack.split(";"))] += int(n)
    return counts


def table(counts: Counter[str], rate: int) -> dict:
    """Each busy stage's share of the busy samples and its thread-seconds (samples over the
    rate: with several threads they add up to more than the wall time); waiting apart."""
    busy = {stage: n for stage, n in counts.items() if stage != IDLE}
    total = sum(busy.values()) or 1
    return {
        "busy_thread_seconds": round(total / rate, 2),
        "idle_share": round(counts.get(IDLE, 0) / (sum(counts.values()) or 1), 4),
        "stages": [
            {"stage": stage, "share": round(n / total, 4), "seconds": round(n / rate, 2)}
            for stage, n in sorted(busy.items(), key=lambda item: -item[1])
        ],
    }


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: pip install -e '.[bench]'")
    return found


# ------------------------------------------------------------------------ core
def core_child(workload: Workload, transactions: int, result: Path, root: Path) -> None:
    """Runs inside the profiled process: warm up, then ``_timed_batches`` (what is folded)."""
    from benchmarks.core_throughput import chunks, messages, prepared_state
    from benchmarks.workload import read_lines
    from engine.config import Settings
    from engine.core.detector import Detector

    folder = prepare(workload, root)
    detector = Detector(Settings())
    detector.warm_up()
    profiles = messages(read_lines(folder / "profiles.jsonl"), "profiles")
    txns = messages(read_lines(transactions_file(folder, transactions)), "transactions")
    batches = chunks(txns, 65_536)
    detector.process(prepared_state(detector, profiles, []), [], txns[:2_000])
    state = prepared_state(detector, profiles, [])
    started = time.perf_counter()
    alerts = _timed_batches(detector, state, batches)
    seconds = time.perf_counter() - started
    result.write_text(json.dumps({"seconds": seconds, "transactions": len(txns), "alerts": alerts}))


def _timed_batches(detector, state, batches) -> int:
    return sum(len(detector.process(state, [], batch).alerts) for batch in batches)


def profile_core(
    workload: Workload, transactions: int, work: Path, root: Path = CACHE, rate: int = RATE
) -> dict:
    raw = work / "core.raw"
    child = [sys.executable, "-m", "benchmarks.stage_profile", "--child-core"]
    child += ["--workload", workload.name, "--transactions", str(transactions)]
    child += ["--child-result", str(work / "core.json"), "--root", str(root)]
    # --idle: while polars works on its own threads the main thread waits in native code;
    # those samples belong to the Python frame that called it.
    command = [py_spy(), "record", "--idle", "-r", str(rate), "-f", "raw", "-o", str(raw)]
    done = subprocess.run([*command, "--", *child], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"the profiled run failed:\n{done.stderr[-2000:]}")
    run = json.loads((work / "core.json").read_text())
    counts = fold(raw, within="_timed_batches (")
    return {
        "target": "core",
        "transactions": run["transactions"],
        "seconds": round(run["seconds"], 2),
        "transactions_per_second": round(run["transactions"] / run["seconds"]),
        "alerts": run["alerts"],
        "samples": sum(counts.values()),
        **table(counts, rate),
    }


# ---------------------------------------------------------------------- worker
def profile_worker(workload: Workload, transactions: int, work: Path) -> dict:
    from benchmarks import end_to_end as e2e

    raw = work / "worker.raw"
    folder = prepare(workload)
    txn_file = transactions_file(folder, transactions)
    spy: list[subprocess.Popen] = []

    def attach(worker: subprocess.Popen) -> None:
        command = [py_spy(), "record", "--idle", "--pid", str(worker.pid), "-r", str(RATE)]
        spy.append(subprocess.Popen([*command, "-f", "raw", "-o", str(raw)], cwd=work))

    tag = uuid.uuid4().hex[:8]
    with e2e.broker(None, work / "broker.log") as address:
        settings = e2e.bench_settings(address, tag, cross_customer=True)
        sent, _ = e2e.produce(settings, [folder / "profiles.jsonl", txn_file])
        n_txn = sent.get(settings.transactions_topic, 0)
        result = e2e.measure_worker(settings, n_txn, sum(sent.values()), work, on_consuming=attach)
    for p in spy:
        p.wait(timeout=120)
    counts = fold(raw)
    return {
        "target": "worker",
        "transactions": n_txn,
        "seconds": result["seconds"],
        "transactions_per_second": result["transactions_per_second"],
        "alerts": result["alerts"],
        "samples": sum(counts.values()),
        **table(counts, RATE),
    }


# ---------------------------------------------------------------------- report
def markdown(report: dict, workload: Workload) -> str:
    when = datetime.now(UTC).isoformat(timespec="seconds")
    head = (
        f"`python -m benchmarks.stage_profile --target {report['target']} --workload "
        f"{workload.name} --transactions {report['transactions']}` on {when}: "
        f"{report['transactions']:,} transactions of {workload.customers:,} customers, "
        f"{report['transactions_per_second']:,} tx/s over {report['seconds']} s, "
        f"{report['alerts']:,} alerts, {report['samples']:,} samples "
        f"({100 * report['idle_share']:.0f} % of them threads waiting for work, not counted "
        f"below; {report['busy_thread_seconds']} busy thread-seconds)."
    )
    rows = [
        f"| {s['stage']} | {100 * s['share']:.1f} % | {s['seconds']} |" for s in report["stages"]
    ]
    return "\n".join(
        [head, "", "| stage | share of busy samples | thread-seconds |", "|---|---:|---:|", *rows]
    )


def write(report: dict, workload: Workload) -> None:
    begin = f"<!-- stage-profile:{report['target']} -->"
    end = f"<!-- /stage-profile:{report['target']} -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    block = f"{begin}\n{markdown(report, workload)}\n{end}"
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        title = f"\n## Stage budget: {report['target']}\n\n"
        text = text.rstrip("\n") + "\n" + title + block + "\n"
    RESULTS.write_text(text)
    stored = json.loads(STAGES_JSON.read_text()) if STAGES_JSON.exists() else {}
    stored[report["target"]] = {"workload": workload.name, **report}
    STAGES_JSON.write_text(json.dumps(stored, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=("core", "worker"), default="core")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="bank")
    parser.add_argument("--transactions", type=int, default=400_000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md")
    parser.add_argument("--child-core", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=CACHE, help="where workloads are cached")
    args = parser.parse_args(argv)
    workload = WORKLOADS[args.workload]
    if args.child_core:
        core_child(workload, args.transactions, args.child_result, args.root)
        return 0
    work = ROOT / "out" / "stage-profile" / uuid.uuid4().hex[:8]
    work.mkdir(parents=True, exist_ok=True)
    print(f"stage profile: {args.target}, {args.transactions:,} transactions of {workload.name}")
    if args.target == "core":
        report = profile_core(workload, args.transactions, work, args.root)
    else:
        report = profile_worker(workload, args.transactions, work)
    print(markdown(report, workload))
    if not args.no_write:
        write(report, workload)
        print(f"written to {RESULTS.relative_to(ROOT)} and {STAGES_JSON.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
