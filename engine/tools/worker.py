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
    faust_worker(app, settings).execute_from_commandline()


def faust_worker(app: faust.App, settings: Settings) -> faust.Worker:
    """Faust's worker at the configured log level, without its terminal spinner.

    The spinner turns one character per log record, so Faust sets the root logger to DEBUG
    while it exists: every debug call in aiokafka and Faust (two per message sent) then
    builds a record that the handlers drop, measured at 4 % of a worker's busy time
    (``benchmarks.stage_profile --target worker``), and a record that holds message keys
    and values reaches every handler. Without the spinner the root logger keeps the level.
    """
    worker = faust.Worker(app, loglevel=settings.log_level.lower(), quiet=True)
    worker.spinner = None
    return worker
