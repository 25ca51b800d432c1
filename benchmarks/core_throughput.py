"""(a) Core throughput: the indicator kernels alone, per core, and what surrounds them.

The transactions are decoded once with the engine's own functions, exactly as
``Detector.process`` prepares a batch (``decode_transactions`` → ``transaction_columns`` →
``PartitionState.slots_for``). Then only the kernels are timed: every enabled indicator
through ``indicators.runner.run_indicator`` and the constellation kernel, over chunks of
65,536 rows with state carried from chunk to chunk, after a warm-up pass on a separate
state (JIT compilation excluded). The kernels run on one thread, so the rate is per core.

Reported separately: the decode rate (columnar decode + kernel columns + slots), the
rate of the whole ``Detector.process`` (the backtest path, decode and alert building
included), and the state size per customer.

Example::

    python -m benchmarks.core_throughput --workload bank
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.workload import CACHE, WORKLOADS, Workload, generator_version, prepare, read_lines
from engine.config import Settings
from engine.core import hashing
from engine.core.columnar import decode_transactions
from engine.core.decode import Message
from engine.core.detector import Detector
from engine.core.kernel_columns import transaction_columns
from engine.core.state import PartitionState
from indicators.runner import run_indicator

CHUNK = 65_536


def messages(lines: list[bytes], topic: str) -> list[Message]:
    """File lines as messages; the line number is the offset (as in ``engine.tools.backtest``)."""
    return [Message(topic, 0, i, None, line) for i, line in enumerate(lines)]


def chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def prepared_state(
    detector: Detector, profiles: list[Message], customer_ids: list[str]
) -> PartitionState:
    """A fresh state with the profiles applied and the customers in the given slot order."""
    state = detector.new_state()
    detector.process(state, profiles, [])
    state.slots_for(customer_ids)
    return state


def decode_all(
    detector: Detector, state: PartitionState, batches: list[list[Message]]
) -> tuple[list[dict], dict]:
    """Decode every batch into kernel columns (``cust`` included), timing each step."""
    timing = {"decode_s": 0.0, "columns_s": 0.0, "slots_s": 0.0}
    decoded: list[dict] = []
    dead = 0
    for batch in batches:
        t0 = time.perf_counter()
        out = decode_transactions(batch)
        t1 = time.perf_counter()
        columns = transaction_columns(out, detector.reference)
        t2 = time.perf_counter()
        customer_ids = out.customer_ids
        columns["cust"] = state.slots_for(customer_ids)
        columns["cp_flags"] = detector.parties.counterparty_flags(
            customer_ids, columns, detector._cp_bits
        )
        t3 = time.perf_counter()
        timing["decode_s"] += t1 - t0
        timing["columns_s"] += t2 - t1
        timing["slots_s"] += t3 - t2
        dead += len(out.dead)
        decoded.append(columns)
    timing["dead_letters"] = dead
    return decoded, timing


def reader_rates(lines: list[bytes], repeats: int = 3) -> dict[str, int]:
    """Rows/s of the two columnar JSON readers on the same batch with the contract's
    schema (issue #11: measure both, keep the faster): polars' ``read_ndjson``, which the
    engine uses, and pyarrow's ``json.read_json``."""
    import io

    import polars as pl
    import pyarrow as pa
    import pyarrow.json as pa_json

    from engine.core.columnar import MONEY, SCHEMA

    data = b"\n".join(lines)

    def arrow_type(name: str, kind: object) -> pa.DataType:
        if kind == pl.Boolean:
            return pa.bool_()
        # pyarrow does not coerce a JSON number into a string column (polars does): money
        # as numbers, as the generator writes it; a batch mixing both fails to parse there.
        return pa.float64() if name in MONEY else pa.string()

    arrow_schema = pa.schema([(name, arrow_type(name, kind)) for name, kind in SCHEMA.items()])
    options = pa_json.ParseOptions(explicit_schema=arrow_schema, unexpected_field_behavior="ignore")
    readers = {
        "polars_read_ndjson": lambda: pl.read_ndjson(io.BytesIO(data), schema=SCHEMA),
        "pyarrow_read_json": lambda: pa_json.read_json(io.BytesIO(data), parse_options=options),
    }
    rates = {}
    for name, read in readers.items():
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            read()
            best = min(best, time.perf_counter() - t0)
        rates[name] = round(len(lines) / best)
    return rates


def run_kernels(detector: Detector, state: PartitionState, decoded: list[dict]) -> dict:
    """Every enabled indicator kernel, then the constellation, over each batch in order.

    Mirrors the kernel part of ``Detector._detect``: the same calls with the same arrays;
    evidence memory, fire snapshots and alert objects (Python) are left out.
    """
    specs = detector.specs
    per_kernel = {spec.id: 0.0 for spec in specs}
    per_kernel["constellation"] = 0.0
    alerts = 0
    fired_rows = {spec.id: 0 for spec in specs}
    started = time.perf_counter()
    for columns in decoded:
        n = len(columns["cust"])
        inputs = {**columns, **state.profile}
        touched = np.zeros(n, dtype=np.uint8)
        fired = np.zeros((n, max(len(specs), 1)), dtype=np.uint8)
        for k, spec in enumerate(specs):
            t0 = time.perf_counter()
            out = run_indicator(
                spec, inputs, state.indicators[spec.id], detector.params[spec.id], touched
            )
            per_kernel[spec.id] += time.perf_counter() - t0
            fired[:, k] = out.fired
            fired_rows[spec.id] += int(out.fired.sum())
        alert = np.zeros(n, dtype=np.uint8)
        score = np.zeros(n, dtype=np.float64)
        active = np.zeros(n, dtype=np.int64)
        t0 = time.perf_counter()
        detector.constellation.run(
            columns["cust"], columns["ts"], fired, state, alert, score, active
        )
        per_kernel["constellation"] += time.perf_counter() - t0
        alerts += int(alert.sum())
    return {
        "seconds": time.perf_counter() - started,
        "per_kernel_s": per_kernel,
        "alerts": alerts,
        "fired_rows": fired_rows,
    }


def run(
    workload: Workload,
    chunk: int = CHUNK,
    repeats: int = 3,
    settings: Settings | None = None,
    log=print,
    root: Path = CACHE,
) -> dict:
    """Measure the workload; returns the report (rates in rows per second)."""
    folder = prepare(workload, root)
    settings = settings or Settings()
    detector = Detector(settings)
    detector.warm_up()
    profiles = messages(read_lines(folder / "profiles.jsonl"), "profiles")
    txns = messages(
        read_lines(folder / "transactions.jsonl", workload.transactions), "transactions"
    )
    batches = chunks(txns, chunk)
    n = len(txns)
    log(
        f"core: {n:,} transactions, {len(profiles):,} profiles, "
        f"{len(batches)} chunks of <= {chunk:,}"
    )

    # Decode once; the slot order of this state is reused by every later state. A small
    # warm-up first, so one-off initialisation (polars, msgspec) is not counted.
    decode_all(detector, prepared_state(detector, profiles, []), [txns[:1_000]])
    hashing._MEMO.clear()  # string hashes are memoised; both timed passes start cold
    decode_state = prepared_state(detector, profiles, [])
    t0 = time.perf_counter()
    decoded, decode_timing = decode_all(detector, decode_state, batches)
    decode_s = time.perf_counter() - t0
    rows = sum(len(c["cust"]) for c in decoded)
    customers = len(decode_state.customer_ids)
    log(f"core: decoded {rows:,} rows in {decode_s:.2f}s ({rows / decode_s:,.0f} rows/s)")
    readers = reader_rates([m.value for m in batches[0]])  # type: ignore[misc]
    log(f"core: JSON readers on one batch, rows/s: {readers}")

    # Warm-up on a separate state (compiles anything warm_up missed, touches the caches).
    run_kernels(
        detector, prepared_state(detector, profiles, decode_state.customer_ids), decoded[:2]
    )
    runs = []
    for _ in range(repeats):
        state = prepared_state(detector, profiles, decode_state.customer_ids)
        runs.append(run_kernels(detector, state, decoded))
    seconds = [r["seconds"] for r in runs]
    median = statistics.median(seconds)
    kernels = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]  # the median run
    log(
        f"core: kernels {rows / median:,.0f} rows/s per core "
        f"(median of {repeats}, best {rows / min(seconds):,.0f})"
    )

    # The whole backtest path: decode, kernels, evidence memory, snapshots, alert objects.
    state = prepared_state(detector, profiles, [])
    hashing._MEMO.clear()
    alerts = 0
    t0 = time.perf_counter()
    for batch in batches:
        alerts += len(detector.process(state, [], batch).alerts)
    process_s = time.perf_counter() - t0
    log(f"core: Detector.process {n / process_s:,.0f} rows/s, {alerts:,} alerts")

    per_customer = state.bytes_per_customer()
    return {
        "workload": {
            "name": workload.name,
            "customers": workload.customers,
            "days": workload.days,
            "seed": workload.seed,
            "transactions": n,
            "profiles": len(profiles),
            "customers_seen": customers,
            "chunk": chunk,
            "generator": generator_version(),
        },
        "kernels": {
            "transactions_per_second_per_core": round(rows / median),
            "best_transactions_per_second": round(rows / min(seconds)),
            "seconds_median": round(median, 4),
            "repeats": repeats,
            "per_kernel_ns_per_row": {
                k: round(1e9 * v / rows, 1) for k, v in kernels["per_kernel_s"].items()
            },
            "alerts": kernels["alerts"],
            "fired_rows": kernels["fired_rows"],
            "indicators": [s.id for s in detector.specs],
        },
        "decode": {
            "rows_per_second": round(rows / decode_s),
            "seconds": round(decode_s, 3),
            "decode_rows_per_second": round(rows / decode_timing["decode_s"]),
            "columns_rows_per_second": round(rows / decode_timing["columns_s"]),
            "share_decode": round(decode_timing["decode_s"] / decode_s, 3),
            "share_columns": round(decode_timing["columns_s"] / decode_s, 3),
            "share_slots": round(decode_timing["slots_s"] / decode_s, 3),
            "dead_letters": decode_timing["dead_letters"],
            "json_readers_rows_per_second": readers,
        },
        "detector_process": {
            "transactions_per_second": round(n / process_s),
            "seconds": round(process_s, 3),
            "alerts": alerts,
            "evidence_entries": len(state.evidence),
            "snapshots": len(state.snapshots),
        },
        "state": {
            "bytes_per_customer": per_customer,
            "allocated_bytes": state.nbytes(),
            "customers": len(state.customer_ids),
            "projected_bytes_1M_customers": per_customer * 1_000_000,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="bank")
    parser.add_argument("--chunk", type=int, default=CHUNK)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    report = run(WORKLOADS[args.workload], args.chunk, args.repeats)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
