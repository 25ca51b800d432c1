"""``protect worker``: the whole engine in one Faust worker process.

The composition root: the stream layer's app (firehose, identifier index, case assembly,
``/metrics``, ``/health``) with the analyst view (engine/web/) installed on it.
"""

from __future__ import annotations

import asyncio

import faust

from engine.config import Settings
from engine.stream.app import create_app
from engine.stream.kafka import ensure_topics
from engine.web.routes import install_analyst_view


def run_worker(settings: Settings) -> None:
    """Run until SIGTERM / SIGINT (Faust installs the handlers and stops services in order)."""
    # Create every topic with its partition count before Faust subscribes: a subscription to a
    # missing topic may auto-create it with the broker's default count, breaking co-partitioning.
    asyncio.run(ensure_topics(settings))
    app, _ = create_app(settings, extensions=[install_analyst_view])
    worker = faust.Worker(app, loglevel=settings.log_level.lower(), quiet=True)
    worker.execute_from_commandline()
