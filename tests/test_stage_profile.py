"""The stage budget: samples are folded into the engine's stages, and a real profiled run
of ``Detector.process`` yields a table (no timing assertions: the machines are noisy)."""

from __future__ import annotations

from benchmarks import stage_profile
from benchmarks.workload import WORKLOADS


def test_the_innermost_frame_that_names_a_stage_decides(tmp_path):
    raw = tmp_path / "samples.raw"
    process = "Detector.process (engine/core/detector.py:120)"
    raw.write_text(
        "\n".join(
            [
                # a shared helper (by_distinct) is claimed by its caller
                f"<module> (x.py:1);_timed_batches (s.py:2);{process};"
                "transaction_columns (engine/core/kernel_columns.py:40);"
                "ReferenceLists.flags (engine/core/reference.py:90);"
                "by_distinct (engine/core/distinct.py:30) 7",
                f"<module> (x.py:1);_timed_batches (s.py:2);{process};"
                "decode_transactions (engine/core/columnar.py:110);"
                "_parse (engine/core/columnar.py:230);read_ndjson (polars/io.py:9) 3",
                f"<module> (x.py:1);_timed_batches (s.py:2);{process} 2",
                "<module> (x.py:1);warm_up (engine/core/detector.py:80) 50",  # outside: dropped
                "<module> (x.py:1);_timed_batches (s.py:2);mystery (m.py:3) 1",
                "<module> (x.py:1);_timed_batches (s.py:2);select (selectors.py:4) 4",
            ]
        )
    )
    counts = stage_profile.fold(raw, within="_timed_batches (")
    assert counts == {
        "kernel columns: reference lists": 7,
        "decode: JSON parse": 3,
        "detector: other": 2,
        "other": 1,
        "waiting (idle)": 4,
    }
    budget = stage_profile.table(counts, rate=10)
    rows = budget["stages"]
    assert [r["stage"] for r in rows][0] == "kernel columns: reference lists"
    assert abs(sum(r["share"] for r in rows) - 1) < 1e-3 and rows[0]["seconds"] == 0.7
    assert budget["idle_share"] == round(4 / 17, 4) and budget["busy_thread_seconds"] == 1.3


def test_a_profiled_run_gives_a_budget_over_the_engines_stages(tmp_path):
    report = stage_profile.profile_core(
        WORKLOADS["quick"], 20_000, tmp_path, root=tmp_path / "data", rate=500
    )
    assert report["transactions"] == 20_000 and report["transactions_per_second"] > 0
    stages = {r["stage"] for r in report["stages"]}
    known = {name for name, _ in stage_profile.STAGES} | {"other"}
    assert report["samples"] > 0 and stages <= known
    assert abs(sum(r["share"] for r in report["stages"]) - 1) < 0.01
    assert "decode: JSON parse" in stages or "kernels" in stages
