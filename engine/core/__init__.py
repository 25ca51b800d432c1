"""The detection core: contract messages to kernel columns, per-partition state, the
Detector that runs every rule and the constellation over a batch. No Kafka, Faust or HTTP:
the worker, the backtest and the tests all drive it the same way."""
