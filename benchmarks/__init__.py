"""Benchmarks: seeded workloads, rates and ratios (STYLE item 14).

``python -m benchmarks.run_all`` measures three things and writes ``benchmarks/results.json``
and ``benchmarks/RESULTS.md``:

* :mod:`benchmarks.core_throughput`: the numba kernels alone over 1M decoded transactions,
  per core (JIT excluded), plus the decode rate, the whole ``Detector.process`` rate and
  the state size per customer;
* :mod:`benchmarks.end_to_end`: the real worker through the embedded broker;
* :mod:`benchmarks.faust_baseline`: the same six indicators and constellation written as a
  plain per-event Faust agent (rules in :mod:`benchmarks.baseline_rules`, checked equal to the
  engine's), on the same data and broker, for the engine/baseline ratio.

Workloads (:mod:`benchmarks.workload`) are generated once per size and seed into
``out/bench-data/`` and regenerated when the generator's source changes.

Results are rates (transactions per second), never pass/fail timings: the machines are shared.
"""
