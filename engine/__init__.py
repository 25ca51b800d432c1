"""Project Protect streaming engine: Kafka in, numba indicator core, alerts out.

Layers, one direction (STYLE item 5)::

    engine.firehose / engine.app     Kafka and Faust adapters (consumer, producer, web)
        └─ engine.pipeline           batch orchestration: decode → kernels → alerts
             ├─ engine.decode        contract messages → columns (+ dead letters)
             ├─ engine.state         per-partition customer state, checkpoints
             └─ indicators.*         pure numba kernels over columns and state
"""

__version__ = "0.1.0"
