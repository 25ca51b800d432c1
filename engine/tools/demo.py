"""``protect demo``: the whole product on one machine, end to end, with a readable summary.

Embedded broker → synthetic population with planted rings → ``profiles`` and
``transactions`` topics → the engine as a real worker process → ``alerts`` topic →
``alerts.jsonl`` and a summary checked against the generator's labels.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from engine.config import Settings
from engine.errors import ProtectError
from engine.stream.broker import broker_binary, embedded_broker, free_port
from engine.tools.produce import produce_files

_SAMPLE = re.compile(r"^(protect_[a-z_]+?)(?:_total)?(?:\{([^}]*)\})? ([0-9.eE+-]+)$")


def scrape(port: int) -> dict[tuple[str, str], float]:
    """The worker's /metrics as ``{(name, labels): value}`` (``_total`` suffix dropped)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match:
            samples[(match[1], match[2] or "")] = float(match[3])
    return samples


def metric_sum(samples: dict[tuple[str, str], float], name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def start_worker(
    bootstrap: str,
    web_port: int,
    state_dir: Path,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen:
    env = {**os.environ, "PROTECT_LOG_LEVEL": "WARNING", **(extra_env or {})}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.tools.cli",
            "worker",
            "--bootstrap",
            bootstrap,
            "--web-port",
            str(web_port),
            "--checkpoint-dir",
            str(state_dir),
        ],
        stdout=open(log_path, "ab"),
        stderr=subprocess.STDOUT,
        env=env,  # noqa: SIM115
    )


def wait_until_healthy(port: int, worker: subprocess.Popen, timeout: float = 180.0) -> dict:
    """Poll /health until the worker reports ``ok`` (kernels compiled, group joined)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise ProtectError(f"the worker exited with code {worker.returncode}; see its log")
        with (
            contextlib.suppress(OSError, ValueError),
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response,
        ):
            health = json.loads(response.read())
            if health.get("status") == "ok":
                return health
        time.sleep(0.25)
    raise ProtectError(f"the worker was not healthy after {timeout:.0f}s")


def wait_until_consumed(
    port: int,
    expected: int,
    worker: subprocess.Popen,
    timeout: float = 900.0,
    progress: bool = True,
) -> tuple[dict, float]:
    """Poll /metrics until ``expected`` input messages were consumed; returns the last
    scrape and the seconds from the first to the last consumed message."""
    deadline = time.monotonic() + timeout
    first_seen = None
    samples: dict = {}
    with tqdm(
        total=expected, desc="engine", unit="msg", unit_scale=True, disable=not progress
    ) as bar:
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                raise ProtectError(f"the worker exited with code {worker.returncode}; see its log")
            with contextlib.suppress(OSError):
                samples = scrape(port)
            consumed = metric_sum(samples, "protect_input_messages")
            bar.update(int(consumed) - bar.n)
            if consumed and first_seen is None:
                first_seen = time.monotonic()
            if consumed >= expected:
                return samples, time.monotonic() - (first_seen or time.monotonic())
            time.sleep(0.25)
    raise ProtectError(
        f"the worker consumed {metric_sum(samples, 'protect_input_messages'):.0f} of {expected} "
        f"messages in {timeout:.0f}s"
    )


def stop_worker(worker: subprocess.Popen, timeout: float = 60.0) -> int:
    worker.send_signal(signal.SIGTERM)
    try:
        return worker.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        return worker.wait()


async def read_topic(
    bootstrap: str | Settings, topic: str, expected: int, timeout: float = 60.0
) -> list[bytes]:
    """Read ``expected`` messages from the start of ``topic`` (the embedded broker under-reports
    end offsets, so count what was produced rather than trusting them).

    ``bootstrap`` is the settings to connect with (their SASL / TLS too), or a bare
    ``HOST:PORT`` list for a plaintext broker such as the embedded one."""
    from aiokafka import AIOKafkaConsumer

    from engine.stream.kafka import client_security

    settings = bootstrap if isinstance(bootstrap, Settings) else Settings(bootstrap=bootstrap)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **client_security(settings),
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = time.monotonic() + timeout
        while len(values) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                values.extend(r.value for r in records)
    finally:
        await consumer.stop()
    return values


def run_demo(
    out: Path, customers: int = 2000, days: int = 30, seed: int = 7, bootstrap: str | None = None
) -> int:
    from engine.synthetic import generate

    if bootstrap is None:
        broker_binary()  # the `broker` extra missing: say so before generating anything
    out.mkdir(parents=True, exist_ok=True)
    data, state_dir = out / "data", out / "state"
    shutil.rmtree(state_dir, ignore_errors=True)  # a fresh broker has fresh topics
    print(f"1/4 generating {customers:,} customers over {days} days (seed {seed})")
    summary = generate(data, customers=customers, days=days, seed=seed)
    print(f"    {summary}")
    with contextlib.ExitStack() as stack:
        if bootstrap is None:
            bootstrap = stack.enter_context(embedded_broker(log=out / "broker.log"))
            print(f"2/4 embedded broker (Tansu) on {bootstrap}")
        else:
            print(f"2/4 using Kafka at {bootstrap}")
        settings = Settings.load(bootstrap=bootstrap)
        sent = asyncio.run(
            produce_files(settings, [data / "profiles.jsonl", data / "transactions.jsonl"])
        )
        expected = sum(sent.values())
        web_port = free_port()
        print(
            f"3/4 engine worker (Faust) consuming; metrics on http://127.0.0.1:{web_port}/metrics"
        )
        worker = start_worker(bootstrap, web_port, state_dir, out / "worker.log")
        try:
            print(
                "    starting: the first start compiles the numba kernels (about a minute), "
                "later ones load them"
            )
            wait_until_healthy(web_port, worker, timeout=600)
            samples, busy_s = wait_until_consumed(web_port, expected, worker)
            time.sleep(1.0)
            samples = scrape(web_port)
        finally:
            code = stop_worker(worker)
        if code != 0:
            raise ProtectError(f"the worker stopped with code {code}; see {out / 'worker.log'}")
        n_alerts = int(metric_sum(samples, "protect_alerts"))
        values = asyncio.run(read_topic(settings, settings.alerts_topic, n_alerts))
    alerts = [json.loads(v) for v in values]
    alerts_path = out / "alerts.jsonl"
    alerts_path.write_bytes(b"".join(v + b"\n" for v in values))
    report = summarise(samples, busy_s, alerts, data / "labels.csv")
    (out / "summary.json").write_text(json.dumps(report, indent=2) + "\n")
    print("4/4 done\n")
    print(format_summary(report, alerts_path))
    return 0


def summarise(samples: dict, busy_s: float, alerts: list[dict], labels_path: Path) -> dict:
    processed = metric_sum(samples, "protect_transactions_processed")
    with open(labels_path, newline="") as handle:
        labels = {row["customer_id"]: row for row in csv.DictReader(handle)}
    ring = {c for c, row in labels.items() if row["role"] in ("victim", "trafficker", "collector")}
    alerted = {a["customer_id"] for a in alerts}
    caught = alerted & ring
    roles_right = sum(
        1
        for a in alerts
        if a["customer_id"] in ring
        and _role_matches(a["role_hypothesis"], labels[a["customer_id"]]["role"])
    )
    outside = len(labels) - len(ring)
    return {
        "transactions_processed": int(processed),
        "dead_letters": int(metric_sum(samples, "protect_dead_letters")),
        "seconds": round(busy_s, 2),
        "transactions_per_second": round(processed / busy_s) if busy_s else None,
        "alerts": len(alerts),
        "customers_alerted": len(alerted),
        "alerts_by_indicator": dict(
            Counter(i["id"] for a in alerts for i in a["indicators"]).most_common()
        ),
        "alerts_by_family": dict(Counter(f for a in alerts for f in a["families"]).most_common()),
        "alerts_by_role": dict(Counter(a["role_hypothesis"] for a in alerts).most_common()),
        "ring_members": len(ring),
        "ring_members_alerted": len(caught),
        "customers_outside_rings_alerted": len(alerted - ring),
        "false_alerted_per_10k": round(10_000 * len(alerted - ring) / outside, 2)
        if outside
        else 0.0,
        "ring_alerts_with_right_role": roles_right,
        "ring_alerts": sum(1 for a in alerts if a["customer_id"] in ring),
    }


def _role_matches(hypothesis: str, role: str) -> bool:
    return {
        "victim": "possible_victim",
        "trafficker": "suspected_trafficker",
        "collector": "collector_nominee",
    }.get(role) == hypothesis


def format_summary(r: dict, alerts_path: Path) -> str:
    lines = [
        f"transactions processed   {r['transactions_processed']:>10,}   "
        f"({r['transactions_per_second'] or 0:,.0f}/s through the broker, {r['seconds']}s)",
        f"dead letters             {r['dead_letters']:>10,}",
        f"alerts                   {r['alerts']:>10,}   for {r['customers_alerted']:,} customers",
        f"ring members alerted     {r['ring_members_alerted']:>10,}   "
        f"of {r['ring_members']:,} (labels.csv)",
        f"others alerted           {r['customers_outside_rings_alerted']:>10,}   "
        f"({r['false_alerted_per_10k']} per 10,000 customers outside the rings)",
        "",
        "alerts by family:     " + ", ".join(f"{k} {v}" for k, v in r["alerts_by_family"].items()),
        "alerts by indicator:  "
        + ", ".join(f"{k} {v}" for k, v in r["alerts_by_indicator"].items()),
        "role hypotheses:      " + ", ".join(f"{k} {v}" for k, v in r["alerts_by_role"].items()),
        "",
        f"alerts:  {alerts_path}",
        f"summary: {alerts_path.parent / 'summary.json'}",
    ]
    return "\n".join(lines)
