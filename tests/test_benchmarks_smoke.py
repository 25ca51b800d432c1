"""The core-throughput benchmark runs end to end on a tiny workload and reports rates.

No timing assertions: the machines are shared and noisy (STYLE item 14); the benchmark's
numbers live in ``benchmarks/results.json``, not in tests.
"""

from __future__ import annotations

from benchmarks import core_throughput
from benchmarks.workload import WORKLOADS


def test_core_throughput_reports_positive_rates_on_a_tiny_workload(tmp_path):
    # Small chunks, so state is carried across several of them.
    report = core_throughput.run(
        WORKLOADS["tiny"], chunk=1_024, repeats=1, log=lambda *_: None, root=tmp_path
    )

    assert set(report) == {"workload", "kernels", "decode", "detector_process", "state"}
    assert report["workload"]["transactions"] > 1_024
    assert report["kernels"]["transactions_per_second_per_core"] > 0
    assert report["decode"]["rows_per_second"] > 0
    assert report["detector_process"]["transactions_per_second"] > 0
    assert set(report["kernels"]["per_kernel_ns_per_row"]) == {
        *report["kernels"]["indicators"],
        "constellation",
    }
    # Timing only the kernels computes the same thing as the whole pipeline.
    assert report["kernels"]["alerts"] == report["detector_process"]["alerts"]
    state = report["state"]
    assert state["bytes_per_customer"] > 0
    assert state["projected_bytes_1M_customers"] == state["bytes_per_customer"] * 1_000_000
