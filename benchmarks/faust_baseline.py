"""(c) Baseline: the same six indicators and constellation as a plain per-event Faust agent.

What a competent team would write first with Faust: ``@app.agent(topic)`` iterating
``async for event in stream`` one event at a time, Faust's JSON codec decoding each value
into a dict (orjson when installed, as here), per-customer state in dicts and deques
(:mod:`benchmarks.baseline_rules`), and alerts sent to an output topic. No batching, no
numba, no columnar decode. It does less input validation than the engine (no contract
check beyond the fields it reads), which favours the baseline.

Before timing, :func:`check_equivalence` runs the same rules in process and compares their
alert ids and rows fired per indicator with the engine's backtest on the same data, so the
ratio compares two implementations of the same detection.

Profiles are loaded from the profiles topic by a start-up task before the first
transaction is handled (the engine applies profiles before the transactions of a batch).
A Faust table would be the idiomatic store, but its changelog recovery relies on end
offsets, which the embedded broker under-reports (DESIGN, quirks).

Example::

    python -m benchmarks.faust_baseline --workload quick --sample 20000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchmarks.baseline_rules import IDS, Baseline, engine_settings
from benchmarks.end_to_end import RUNS, bench_settings, broker, child_env, produce
from benchmarks.workload import WORKLOADS, Workload, prepare, read_lines, shown, transactions_file
from engine.errors import ProtectError
from engine.tools.demo import read_topic, stop_worker


# ---------------------------------------------------------------------- Faust app
def create_app(cfg: dict):
    """The baseline as a Faust app; ``cfg`` names the broker, topics, counts and progress file."""
    import faust
    from aiokafka import AIOKafkaConsumer, TopicPartition

    app = faust.App(
        cfg["app_id"],
        broker=f"kafka://{cfg['bootstrap']}",
        store="memory://",
        web_enabled=False,
        autodiscover=False,
        topic_partitions=cfg["partitions"],
        consumer_auto_offset_reset="earliest",
        datadir=cfg["datadir"],
    )
    transactions = app.topic(cfg["transactions_topic"], value_serializer="json")
    alerts = app.topic(cfg["alerts_topic"], value_serializer="json")
    detector = Baseline()
    ready = asyncio.Event()
    progress = Path(cfg["progress"])
    stats = {"events": 0, "alerts": 0, "first": None, "last": None, "profiles": 0}

    def report(done: bool = False) -> None:
        tmp = progress.with_suffix(".tmp")
        tmp.write_text(json.dumps({**stats, "done": done, "skipped": detector.skipped}))
        os.replace(tmp, progress)

    @app.task
    async def load_profiles() -> None:
        # Read every profile before the first transaction (count what was produced: the
        # embedded broker under-reports end offsets).
        consumer = AIOKafkaConsumer(bootstrap_servers=cfg["bootstrap"], enable_auto_commit=False)
        await consumer.start()
        try:
            parts = [TopicPartition(cfg["profiles_topic"], p) for p in range(cfg["partitions"])]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            while stats["profiles"] < cfg["profiles"]:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for r in records:
                        detector.profile(json.loads(r.value))
                        stats["profiles"] += 1
        finally:
            await consumer.stop()
        report()
        ready.set()

    @app.agent(transactions)
    async def detect(stream):
        async for event in stream:
            if not ready.is_set():
                await ready.wait()
            if stats["first"] is None:
                stats["first"] = time.time()
            alert = detector.transaction(event)
            if alert is not None:
                await alerts.send(key=alert["customer_id"], value=alert)
                stats["alerts"] += 1
            stats["events"] += 1
            stats["last"] = time.time()
            if stats["events"] % 5_000 == 0 or stats["events"] >= cfg["expected"]:
                report(stats["events"] >= cfg["expected"])

    return app


def _worker_main() -> int:
    cfg = json.loads(os.environ["BENCH_BASELINE"])
    app = create_app(cfg)
    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn"]
    app.main()
    return 0


# ---------------------------------------------------------------------- measuring
def run_in_process(
    profiles: list[bytes], transactions: list[bytes]
) -> tuple[dict, list[dict], dict]:
    """The baseline logic without Kafka or Faust (decode + detect per event): its ceiling."""
    import orjson

    detector = Baseline()
    for line in profiles:
        detector.profile(orjson.loads(line))
    alerts = []
    started = time.perf_counter()
    for line in transactions:
        alert = detector.transaction(orjson.loads(line))
        if alert is not None:
            alerts.append(alert)
    seconds = time.perf_counter() - started
    return (
        {
            "transactions_per_second": round(len(transactions) / seconds),
            "seconds": round(seconds, 3),
            "alerts": len(alerts),
            "skipped": detector.skipped,
        },
        alerts,
        detector.fired,
    )


def check_equivalence(
    folder: Path, txn_file: Path, alerts: list[dict], fired: dict[str, int]
) -> dict:
    """Compare alert ids and rows fired per indicator with the engine's backtest, same data."""
    from engine.tools.backtest import backtest

    expected, _ = backtest(txn_file, folder / "profiles.jsonl", engine_settings(), chunk=65_536)
    want = {a.alert_id for a in expected.alerts}
    got = {a["alert_id"] for a in alerts}
    both = len(want & got)
    engine_fired = {i: expected.fired.get(i, 0) for i in IDS}
    return {
        "engine_alerts": len(want),
        "baseline_alerts": len(got),
        "same_alert_ids": both,
        "jaccard": round(both / len(want | got), 4) if want | got else 1.0,
        "fired_rows_engine": engine_fired,
        "fired_rows_baseline": fired,
        "fired_rows_equal": engine_fired == fired,
    }


def measure_worker(cfg: dict, work: Path, timeout: float = 1800.0) -> dict:
    """Run the baseline as a Faust worker subprocess until it has handled every event."""
    env = {**os.environ, **child_env(), "BENCH_BASELINE": json.dumps(cfg)}
    log = open(work / "baseline-worker.log", "ab")  # noqa: SIM115 - owned by the child
    worker = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.faust_baseline", "--worker"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=work,
    )
    progress = Path(cfg["progress"])
    deadline = time.monotonic() + timeout
    stats: dict = {}
    try:
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                raise ProtectError(
                    f"the baseline worker exited with code {worker.returncode}; "
                    f"see {work / 'baseline-worker.log'}"
                )
            if progress.exists():
                stats = json.loads(progress.read_text())
                if stats.get("done"):
                    break
            time.sleep(0.2)
        else:
            raise ProtectError(
                f"the baseline handled {stats.get('events', 0)} of {cfg['expected']} "
                f"events in {timeout:.0f}s"
            )
    finally:
        stop_worker(worker)
        log.close()
    seconds = max(stats["last"] - stats["first"], 1e-9)
    return {
        "transactions_per_second": round(stats["events"] / seconds),
        "seconds": round(seconds, 2),
        "events": stats["events"],
        "alerts": stats["alerts"],
        "skipped": stats.get("skipped", 0),
    }


def run(
    workload: Workload,
    sample: int = 100_000,
    bootstrap: str | None = None,
    partitions: int = 4,
    check_rows: int | None = None,
    log=print,
) -> dict:
    """Produce the workload's profiles and first ``sample`` transactions to fresh topics and run
    the Faust baseline over them. First, the same rules run in process over the first
    ``check_rows`` transactions (default: the sample) and are checked against the engine's
    backtest; a larger check covers indicators that fire only later in the data."""
    folder = prepare(workload)
    txn_file = transactions_file(folder, sample)
    check_file = transactions_file(folder, check_rows or sample)
    profile_lines = read_lines(folder / "profiles.jsonl")
    check_lines = read_lines(check_file)
    inproc, inproc_alerts, fired = run_in_process(profile_lines, check_lines)
    inproc["rows"] = len(check_lines)
    log(
        f"baseline: plain Python in process {inproc['transactions_per_second']:,} tx/s "
        f"over {len(check_lines):,} rows"
    )
    equivalence = check_equivalence(folder, check_file, inproc_alerts, fired)
    eq = equivalence
    log(
        f"baseline: vs engine backtest: {eq['same_alert_ids']:,} of {eq['engine_alerts']:,} alert "
        f"ids equal ({eq['baseline_alerts']:,} from the baseline); rows fired per indicator "
        f"equal: {eq['fired_rows_equal']}"
    )
    if check_file != txn_file:
        inproc_alerts = run_in_process(profile_lines, read_lines(txn_file))[1]
    tag = uuid.uuid4().hex[:8]
    work = RUNS / f"baseline-{tag}"
    work.mkdir(parents=True, exist_ok=True)
    with broker(bootstrap, work / "broker.log") as address:
        settings = bench_settings(address, f"base-{tag}", partitions)
        sent, produce_rate = produce(settings, [folder / "profiles.jsonl", txn_file])
        cfg = {
            "app_id": f"bench-baseline-{tag}",
            "bootstrap": address,
            "partitions": partitions,
            "transactions_topic": settings.transactions_topic,
            "profiles_topic": settings.profiles_topic,
            "alerts_topic": settings.alerts_topic,
            "expected": sent[settings.transactions_topic],
            "profiles": sent[settings.profiles_topic],
            "progress": str(work / "progress.json"),
            "datadir": str(work / "faust-data"),
        }
        result = measure_worker(cfg, work)
        shutil.rmtree(cfg["datadir"], ignore_errors=True)
        streamed = asyncio.run(
            read_topic(address, settings.alerts_topic, result["alerts"], timeout=30)
        )
    faust_ids = {json.loads(v)["alert_id"] for v in streamed}
    log(
        f"baseline: Faust agent {result['transactions_per_second']:,} tx/s "
        f"over {result['seconds']}s, "
        f"{result['alerts']:,} alerts"
    )
    return {
        "workload": {
            "name": workload.name,
            "transactions": cfg["expected"],
            "profiles": cfg["profiles"],
            "partitions": partitions,
        },
        **result,
        "in_process": inproc,
        "equivalence": {
            **equivalence,
            "rows": inproc["rows"],
            "faust_alerts_equal_in_process": faust_ids == {a["alert_id"] for a in inproc_alerts},
        },
        "log": shown(work / "baseline-worker.log"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="1M")
    parser.add_argument("--sample", type=int, default=100_000)
    parser.add_argument("--bootstrap", help="an existing Kafka (default: a fresh embedded broker)")
    args = parser.parse_args(argv)
    if args.worker:
        return _worker_main()
    print(json.dumps(run(WORKLOADS[args.workload], args.sample, args.bootstrap), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
