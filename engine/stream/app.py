"""The Faust application: worker process, web server (/metrics, /health) and services.

The firehose runs as a Faust service inside the worker; Faust owns the event loop,
signal handling (SIGTERM stops services in order, so the firehose checkpoints before
exit), logging and the web server. Lower-rate streams (cases, dispositions) join here as
Faust agents in later stages.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import faust
import mode

from engine import __version__
from engine.config import Settings
from engine.metrics import Metrics
from engine.stream.case_agents import CaseStore, install_case_assembly
from engine.stream.firehose import Firehose
from engine.stream.identifier_index import install_identifier_index
from engine.stream.kafka import faust_broker, faust_credentials

log = logging.getLogger(__name__)


# Installs more on the app over the worker's case store (the analyst view: engine/web/).
Extension = Callable[[faust.App, Settings, CaseStore], None]


def only_our_pages(app: faust.App) -> None:
    """Drop the blueprints no setting turns off (with statistics off, Faust mounts a status
    index at ``/``), so that the pages routed here are all this server serves."""
    blueprints = app.web.blueprints
    blueprints._enabled = [(p, bp) for p, bp in blueprints._enabled if not _faust_own(bp)]


def _faust_own(blueprint) -> bool:
    return isinstance(blueprint, str) and blueprint.startswith("faust.web.apps.")


def create_app(
    settings: Settings, metrics: Metrics | None = None, extensions: Sequence[Extension] = ()
) -> tuple[faust.App, Firehose]:
    """The worker's Faust app: the firehose service, the identifier index, case assembly,
    ``/metrics`` and ``/health``, then each of ``extensions``."""
    metrics = metrics or Metrics()
    firehose = Firehose(settings, metrics)
    datadir = Path(settings.checkpoint_dir) / "faust"  # Faust's own files, beside our checkpoints
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        f"{settings.group_id}-app",
        # every bootstrap host, and the same SASL / TLS as the engine's own clients
        # (engine/stream/kafka.py): Faust's consumer and producer carry the case streams
        broker=faust_broker(settings),
        broker_credentials=faust_credentials(settings),
        web_enabled=True,
        # Faust's own endpoints off: /table reads any table key (whole cases) and /router
        # shows the cluster; this server carries only /metrics and /health (the analyst
        # view has its own: engine/web/routes.py). The settings exist from faust-streaming
        # 0.15 (pyproject's floor).
        web_tables_enabled=False,
        web_router_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        web_metrics_enabled=False,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        autodiscover=False,
        datadir=str(datadir),
        store="memory://",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        broker_session_timeout=settings.session_timeout_ms / 1000,
        broker_heartbeat_interval=max(0.3, settings.session_timeout_ms / 4000),
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # a large case (hundreds of evidence transactions) is a package of a few hundred kB;
        # set here, not later: Faust's producer reads it when the first topic is declared
        producer_max_request_size=8_388_608,
    )

    only_our_pages(app)
    if settings.cross_customer:
        install_identifier_index(app, settings)
    # cases, dispositions, the analyst view (/cases); related subjects from the party index
    parties = firehose.detector.parties if settings.cross_customer else None
    store = install_case_assembly(app, settings, metrics, parties)
    for extend in extensions:
        extend(app, settings, store)

    @app.service
    class FirehoseService(mode.Service):
        """Runs the firehose inside the Faust worker's lifecycle."""

        async def on_start(self) -> None:
            await firehose.start()

        @mode.Service.task
        async def _consume(self) -> None:
            try:
                await firehose.run()
            except Exception as exc:
                log.exception("firehose failed; stopping the worker")
                await self.crash(exc)  # stops the worker with a non-zero exit

        async def on_stop(self) -> None:
            await firehose.stop()

    @app.page("/metrics")
    async def metrics_view(web, request):
        return web.bytes(metrics.exposition(), content_type="text/plain")

    @app.page("/health")
    async def health_view(web, request):
        ok = firehose.started
        outbox = firehose.outbox
        # Degraded, not failing: the worker is alive and resumes by itself once the broker
        # acknowledges again (a liveness probe must not restart it for the broker's outage).
        waiting = outbox.waiting_since if outbox is not None else None
        status = "starting" if not ok else "degraded" if waiting is not None else "ok"
        body = {
            "status": status,
            "version": __version__,
            "config_hash": firehose.detector.config_hash,
            "partitions": sorted(firehose.states),
            "seconds_since_last_batch": round(time.time() - firehose.last_batch_at, 1)
            if firehose.last_batch_at
            else None,
        }
        if waiting is not None and outbox is not None:
            body["unacknowledged_records"] = len(outbox)
            body["waiting_for_broker_s"] = round(time.monotonic() - waiting, 1)
        return web.bytes(
            json.dumps(body).encode(), content_type="application/json", status=200 if ok else 503
        )

    return app, firehose
