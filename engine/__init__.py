"""Project Protect streaming engine: Kafka in, numba indicator core, alerts and cases out.

Layers, one direction of imports (STYLE item 5; tests/test_layers.py keeps it so)::

    engine.tools          the `protect` verbs: worker, backtest, evaluate, tune, demo, produce
    engine.web            the analyst view (auth, pages, charts, routes)
    engine.stream         Kafka / Faust adapters: app, firehose, feeds, case agents, broker
    engine.cases          case model, assembly, links, case index, disclosure packages
    engine.core           decode → Detector (kernels + constellation) → alerts; state
    engine.crosscustomer  the party index and identifier holders (pure; beside the core)
    engine.config / errors / metrics                                (used by every layer)
    indicators            one file per rule: spec + numba kernel
    schemas               the contract as msgspec structs
"""

__version__ = "0.1.0"
