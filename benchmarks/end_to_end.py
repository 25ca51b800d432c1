"""(b) End to end: the real worker process consuming from the embedded broker.

Profiles and N transactions (default 500,000) are produced to fresh topics with 4
partitions; then the worker (``protect worker``, as ``engine.tools.demo`` starts it) is started
and the rate is taken from the first consumed message to the last transaction processed,
read from the worker's own ``/metrics``. The embedded broker under-reports end offsets
(DESIGN, quirks), so completion is judged by counting what was produced, never by lag.

Example::

    python -m benchmarks.end_to_end --workload quick --transactions 50000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec

from benchmarks.workload import CACHE, ROOT, WORKLOADS, Workload, prepare, shown, transactions_file
from engine.config import Settings
from engine.errors import ProtectError
from engine.stream.broker import embedded_broker, free_port
from engine.tools.backtest import backtest
from engine.tools.demo import metric_sum, read_topic, scrape, start_worker, stop_worker
from engine.tools.produce import produce_files

PARTITIONS = 4
RUNS = CACHE.parent / "bench-runs"


def bench_settings(
    bootstrap: str, tag: str, partitions: int = PARTITIONS, cross_customer: bool = False
) -> Settings:
    """Settings with topic and group names unique to this run (a shared broker is fine).
    The cross-customer stage is eventually consistent, so it is off unless asked for: with
    it off the stream's alerts must equal the backtest's."""
    return Settings.build(
        {
            "bootstrap": bootstrap,
            "transactions_topic": f"bench-{tag}-transactions",
            "profiles_topic": f"bench-{tag}-profiles",
            "reference_topic": f"bench-{tag}-reference",
            "alerts_topic": f"bench-{tag}-alerts",
            "dead_letter_topic": f"bench-{tag}-dead-letters",
            "identifiers_topic": f"bench-{tag}-identifiers",
            "findings_topic": f"bench-{tag}-findings",
            "cross_customer": cross_customer,
            "group_id": f"bench-{tag}",
            "partitions": partitions,
            "session_timeout_ms": 6000,
        }
    )


def worker_env(settings: Settings) -> dict[str, str]:
    """``PROTECT_*`` variables that make the worker use ``settings``' topics and group."""
    keys = (
        "transactions_topic",
        "profiles_topic",
        "reference_topic",
        "alerts_topic",
        "dead_letter_topic",
        "identifiers_topic",
        "findings_topic",
        "cross_customer",
        "group_id",
        "partitions",
        "session_timeout_ms",
        "checkpoint_interval_s",
    )
    return {f"PROTECT_{k.upper()}": str(getattr(settings, k)) for k in keys}


def child_env() -> dict[str, str]:
    """Lets a worker started in a run folder import this repository's packages."""
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


@contextlib.contextmanager
def broker(bootstrap: str | None = None, log: Path | None = None) -> Iterator[str]:
    """The given Kafka, or a fresh embedded broker for the duration of the block."""
    if bootstrap:
        yield bootstrap
        return
    with embedded_broker(log=log) as address:
        yield address


def produce(settings: Settings, paths: list[Path]) -> tuple[dict[str, int], float]:
    """Send the files; returns messages per topic and the producer's rate (messages/s)."""
    started = time.perf_counter()
    sent = asyncio.run(produce_files(settings, paths, progress=False))
    return sent, sum(sent.values()) / (time.perf_counter() - started)


def measure_worker(
    settings: Settings,
    transactions: int,
    messages: int,
    work: Path,
    timeout: float = 1800.0,
    idle: float = 2.0,
    poll: float = 0.1,
    on_consuming: Callable[[subprocess.Popen], None] | None = None,
) -> dict:
    """Start the worker, wait until it has handled every transaction and gone idle, stop it.

    The end is the last time the processed count moved, not the moment it reached
    ``transactions``: if the worker reads some records twice (it can, see ``replayed``),
    reaching the count early would overstate the rate. The headline rate is the produced
    (distinct) transactions over that span, so replays only ever lower it. ``on_consuming``
    is called with the worker process once it has started consuming (a profiler attaches).
    """
    port = free_port()
    # Started from the run folder: the Faust app writes its data dir into the working directory.
    with contextlib.chdir(work):
        worker = start_worker(
            settings.bootstrap,
            port,
            work / "state",
            work / "worker.log",
            {**worker_env(settings), **child_env()},
        )
    started = time.monotonic()
    first = last_change = None
    seen = -1.0
    samples: dict = {}
    try:
        deadline = started + timeout
        while True:
            if worker.poll() is not None:
                raise ProtectError(
                    f"the worker exited with code {worker.returncode}; see {work / 'worker.log'}"
                )
            if time.monotonic() > deadline:
                raise ProtectError(
                    f"the worker did not finish in {timeout:.0f}s; see {work / 'worker.log'}"
                )
            with contextlib.suppress(OSError):
                samples = scrape(port)
            now = time.monotonic()
            consumed = metric_sum(samples, "protect_input_messages")
            done = metric_sum(samples, "protect_transactions_processed") + metric_sum(
                samples, "protect_dead_letters"
            )
            if consumed and first is None:
                first = now
                if on_consuming:
                    on_consuming(worker)
            if done != seen:
                seen, last_change = done, now
            if done >= transactions and consumed >= messages and now - last_change >= idle:
                break
            time.sleep(poll)
        samples = scrape(port)
    finally:
        code = stop_worker(worker)
    if code != 0:
        raise ProtectError(f"the worker stopped with code {code}; see {work / 'worker.log'}")
    seconds = max(last_change - first, 1e-9)
    processed = metric_sum(samples, "protect_transactions_processed")
    consumed = metric_sum(samples, "protect_input_messages")
    return {
        "transactions_per_second": round(transactions / seconds),
        "processed_per_second": round(processed / seconds),
        "seconds": round(seconds, 2),
        "startup_seconds": round(first - started, 2),
        "transactions_processed": int(processed),
        "messages_consumed": int(consumed),
        "replayed": int(consumed - messages),  # records consumed more than once (0 when correct)
        "dead_letters": int(metric_sum(samples, "protect_dead_letters")),
        "alerts": int(metric_sum(samples, "protect_alerts")),
        "poll_resolution_s": poll,
    }


def run(
    workload: Workload,
    transactions: int = 500_000,
    bootstrap: str | None = None,
    partitions: int = PARTITIONS,
    log=print,
    cross_customer: bool = False,
) -> dict:
    """Produce the workload's profiles and first ``transactions`` rows, then measure the worker.
    ``cross_customer``: the shipped defaults; the alerts are then compared with the backtest
    too, but may differ from it until the cross-customer stage is deterministic (#14)."""
    folder = prepare(workload)
    txn_file = transactions_file(folder, transactions)
    tag = uuid.uuid4().hex[:8]
    work = RUNS / f"e2e-{tag}"
    work.mkdir(parents=True, exist_ok=True)
    with broker(bootstrap, work / "broker.log") as address:
        settings = bench_settings(address, tag, partitions, cross_customer)
        sent, produce_rate = produce(settings, [folder / "profiles.jsonl", txn_file])
        n_txn = sent.get(settings.transactions_topic, 0)
        log(
            f"e2e: produced {sum(sent.values()):,} messages ({produce_rate:,.0f}/s) "
            f"to {partitions} partitions"
        )
        result = measure_worker(settings, n_txn, sum(sent.values()), work)
        shutil.rmtree(work / "state", ignore_errors=True)  # checkpoints: only the log is kept
        streamed = asyncio.run(
            read_topic(address, settings.alerts_topic, result["alerts"], timeout=30)
        )
    # What the stream should have emitted: the backtest over the same file (DESIGN: same
    # answer in batch and stream, whatever the batch boundaries).
    expected, _ = backtest(txn_file, folder / "profiles.jsonl", settings, chunk=65_536)
    want = {a.alert_id for a in expected.alerts}
    got = {msgspec.json.decode(v)["alert_id"] for v in streamed}
    result["alerts_backtest"] = len(want)
    result["alerts_missing_vs_backtest"] = len(want - got)
    result["alerts_extra_vs_backtest"] = len(got - want)
    log(
        f"e2e: worker {result['transactions_per_second']:,} tx/s over {result['seconds']}s, "
        f"{result['alerts']:,} alerts (backtest {len(want):,}; {len(want - got)} missing, "
        f"{len(got - want)} extra), {result['replayed']:,} records replayed"
    )
    return {
        "workload": {
            "name": workload.name,
            "transactions": n_txn,
            "profiles": sent.get(settings.profiles_topic, 0),
            "partitions": partitions,
            "cross_customer": cross_customer,
        },
        "producer_messages_per_second": round(produce_rate),
        **result,
        "log": shown(work / "worker.log"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="1M")
    parser.add_argument("--transactions", type=int, default=500_000)
    parser.add_argument("--bootstrap", help="an existing Kafka (default: a fresh embedded broker)")
    parser.add_argument("--partitions", type=int, default=PARTITIONS)
    parser.add_argument(
        "--cross-customer", action="store_true", help="the shipped defaults: second stage on"
    )
    args = parser.parse_args(argv)
    report = run(
        WORKLOADS[args.workload],
        args.transactions,
        args.bootstrap,
        args.partitions,
        cross_customer=args.cross_customer,
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
