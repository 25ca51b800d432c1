"""The ``protect`` command and what its verbs run: worker, backtest, evaluate, tune, demo,
produce, offline cases."""
