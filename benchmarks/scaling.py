"""Scaling: end-to-end throughput with 1 and with 2 worker processes in one consumer group.

The workload's profiles and first N transactions (default 300,000) are produced once to
fresh topics with 4 partitions on the embedded broker; then, for each worker count, a new
consumer group reads them from the start: the workers (``protect worker``, each with its
own web port and checkpoint directory, as on separate machines) are started together and
polled every 0.1 s until every transaction is processed and they have gone idle.

Reported per run:

* ``transactions_per_second``: distinct transactions over the span from the first
  consumed message to the last processed one: group formation, rebalances and any replay
  included (what an operator sees when a backlog is worked off);
* ``steady_transactions_per_second``: the group's rate once the assignment is final and
  while every worker is still busy (the capacity of the group);
* CPU seconds of each worker and of the broker (``/proc/<pid>/stat``) from the first
  consumed message to the end, hence transactions per worker CPU-second, the per-core
  rate the sizing guide in docs/OPERATIONS.md uses.

Each worker count is run ``--repeats`` times (alternating, a new group each time) and the
median run by overall rate is reported beside all of them: the machine is shared.

Every process shares the machine's cores: on 2 cores, two workers and the broker compete,
so the 2-worker figure is a lower bound of what two machines would do.

Example::

    python -m benchmarks.scaling --transactions 300000 --workers 1 2
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import time
import uuid
from pathlib import Path

from benchmarks.end_to_end import RUNS, bench_settings, child_env, produce, worker_env
from benchmarks.workload import ROOT, WORKLOADS, prepare, transactions_file
from engine.errors import ProtectError
from engine.stream.broker import free_port, start_broker
from engine.tools.demo import metric_sum, scrape, start_worker, stop_worker

PARTITIONS = 4
RESULTS = ROOT / "benchmarks" / "scaling.json"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_group(
    settings,
    workers: int,
    transactions: int,
    messages: int,
    work: Path,
    broker_pid: int,
    timeout: float = 900.0,
    idle: float = 2.0,
    poll: float = 0.1,
) -> dict:
    """Start ``workers`` workers in one new group, follow them until done, stop them."""
    ports = [free_port() for _ in range(workers)]
    env = {**worker_env(settings), **child_env()}
    procs = []
    for i, port in enumerate(ports):
        folder = work / f"worker-{i}"
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.chdir(folder):  # Faust writes its data dir into the working directory
            procs.append(
                start_worker(settings.bootstrap, port, folder / "state", folder / "worker.log", env)
            )
    timeline: list[tuple[float, list[float], list[float], list[float]]] = []
    started = time.monotonic()
    first = last_change = None
    seen = -1.0
    cpu0: list[float] = [0.0] * workers
    broker_cpu0 = 0.0
    try:
        while True:
            for proc in procs:
                if proc.poll() is not None:
                    raise ProtectError(f"a worker exited with code {proc.returncode}; see {work}")
            if time.monotonic() - started > timeout:
                raise ProtectError(f"the workers did not finish in {timeout:.0f}s; see {work}")
            samples = []
            for port in ports:
                try:
                    samples.append(scrape(port))
                except OSError:
                    samples.append({})
            now = time.monotonic()
            consumed = [metric_sum(s, "protect_input_messages") for s in samples]
            done = [
                metric_sum(s, "protect_transactions_processed")
                + metric_sum(s, "protect_dead_letters")
                for s in samples
            ]
            assigned = [metric_sum(s, "protect_partitions_assigned") for s in samples]
            timeline.append((now, done, assigned, consumed))
            if sum(consumed) and first is None:
                # CPU from here on: start-up (imports, kernel compilation) is not throughput.
                first = now
                cpu0 = [cpu_seconds(p.pid) for p in procs]
                broker_cpu0 = cpu_seconds(broker_pid)
            if sum(done) != seen:
                seen, last_change = sum(done), now
            if (
                sum(done) >= transactions
                and sum(consumed) >= messages
                and now - last_change >= idle
            ):
                break
            time.sleep(poll)
        cpu = [cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0, strict=True)]
        broker_cpu = cpu_seconds(broker_pid) - broker_cpu0
        final = [scrape(port) for port in ports]
    finally:
        codes = [stop_worker(p) for p in procs]
    if any(codes):
        raise ProtectError(f"a worker stopped with code {codes}; see {work}")
    seconds = max(last_change - first, 1e-9)
    processed = [metric_sum(s, "protect_transactions_processed") for s in final]
    consumed = sum(metric_sum(s, "protect_input_messages") for s in final)
    steady = steady_rate(timeline)
    return {
        "workers": workers,
        "transactions_per_second": round(transactions / seconds),
        "steady_transactions_per_second": steady["rate"],
        "steady_window_seconds": steady["seconds"],
        "seconds": round(seconds, 2),
        "startup_seconds": round(first - started, 2),
        "transactions_processed": int(sum(processed)),
        "processed_by_worker": [int(p) for p in processed],
        "replayed": int(
            consumed - messages
        ),  # records read more than once (rebalance, no checkpoint)
        "worker_cpu_seconds": [round(c, 2) for c in cpu],
        "broker_cpu_seconds": round(broker_cpu, 2),
        "transactions_per_worker_cpu_second": round(transactions / max(sum(cpu), 1e-9)),
        "transactions_per_broker_cpu_second": round(transactions / max(broker_cpu, 1e-9)),
        "alerts": int(sum(metric_sum(s, "protect_alerts") for s in final)),
        # What a checkpoint costs at this state size (sizing: checkpoints rewrite all state).
        "state_customers": int(sum(metric_sum(s, "protect_state_customers") for s in final)),
        "state_bytes": int(sum(metric_sum(s, "protect_state_bytes") for s in final)),
        "checkpoint_bytes": int(sum(metric_sum(s, "protect_checkpoint_bytes") for s in final)),
        "checkpoint_seconds_mean": round(
            sum(metric_sum(s, "protect_checkpoint_seconds_sum") for s in final)
            / max(sum(metric_sum(s, "protect_checkpoint_seconds_count") for s in final), 1),
            4,
        ),
    }


def steady_rate(timeline) -> dict:
    """The group's rate after its last assignment change and while every worker that holds
    partitions is still making progress (before the first one runs out of input)."""
    stable_from = 0
    for i in range(1, len(timeline)):
        if timeline[i][2] != timeline[i - 1][2]:
            stable_from = i
    while stable_from < len(timeline) - 1 and not sum(timeline[stable_from][1]):
        stable_from += 1  # profiles load first: the window opens with the first transactions
    busy = [w for w, n in enumerate(timeline[-1][2]) if n > 0]
    end = len(timeline) - 1
    for w in busy:  # the last time worker w's count moved
        moves = [
            i
            for i in range(stable_from + 1, len(timeline))
            if timeline[i][1][w] != timeline[i - 1][1][w]
        ]
        if moves:
            end = min(end, moves[-1])
    t0, d0 = timeline[stable_from][0], sum(timeline[stable_from][1])
    t1, d1 = timeline[end][0], sum(timeline[end][1])
    if t1 - t0 < 1.0:
        return {"rate": None, "seconds": round(t1 - t0, 2)}
    return {"rate": round((d1 - d0) / (t1 - t0)), "seconds": round(t1 - t0, 2)}


def run(
    transactions: int = 300_000,
    workers: tuple[int, ...] = (1, 2),
    partitions: int = PARTITIONS,
    workload: str = "1M",
    repeats: int = 3,
    log=print,
) -> dict:
    load_before = round(os.getloadavg()[0], 2)
    folder = prepare(WORKLOADS[workload])
    txn_file = transactions_file(folder, transactions)
    tag = uuid.uuid4().hex[:8]
    work = RUNS / f"scaling-{tag}"
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    broker = start_broker(port, work / "broker.log")
    runs = []
    try:
        settings = bench_settings(f"127.0.0.1:{port}", tag, partitions)
        sent, produce_rate = produce(settings, [folder / "profiles.jsonl", txn_file])
        n_txn = sent[settings.transactions_topic]
        log(
            f"scaling: produced {sum(sent.values()):,} messages ({produce_rate:,.0f}/s) "
            f"to {partitions} partitions"
        )
        for r in range(repeats):
            for k in workers:
                group = dataclasses.replace(
                    settings, group_id=f"scaling-{tag}-{k}w-{r}"
                )  # reads from the start
                result = run_group(
                    group, k, n_txn, sum(sent.values()), work / f"{k}w-{r}", broker.pid
                )
                runs.append(result)
                log(
                    f"scaling: {k} worker(s): {result['transactions_per_second']:,} tx/s overall, "
                    f"steady {result['steady_transactions_per_second'] or 0:,} tx/s, "
                    f"{result['replayed']:,} replayed, "
                    f"{result['transactions_per_worker_cpu_second']:,} tx per worker CPU-second"
                )
    finally:
        broker.terminate()
        broker.wait(timeout=10)
        for state in work.glob("*/worker-*/state"):
            shutil.rmtree(state, ignore_errors=True)
    median = {}
    for k in workers:
        mine = sorted(
            (r for r in runs if r["workers"] == k), key=lambda r: r["transactions_per_second"]
        )
        median[str(k)] = mine[len(mine) // 2]
    base = median[str(workers[0])]["transactions_per_second"]
    return {
        "command": f"python -m benchmarks.scaling --transactions {transactions} --workers "
        + " ".join(map(str, workers))
        + f" --repeats {repeats}",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cores": os.cpu_count(),
        "load_average_before": load_before,
        "workload": {
            "name": workload,
            "transactions": n_txn,
            "profiles": sent.get(settings.profiles_topic, 0),
            "partitions": partitions,
        },
        "producer_messages_per_second": round(produce_rate),
        "median": median,
        "speedup": {k: round(m["transactions_per_second"] / base, 2) for k, m in median.items()},
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=300_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--partitions", type=int, default=PARTITIONS)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="1M")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS), help="JSON results file")
    args = parser.parse_args(argv)
    report = run(
        args.transactions, tuple(args.workers), args.partitions, args.workload, args.repeats
    )
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
