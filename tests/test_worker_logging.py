"""The worker logs at the configured level: Faust's spinner must not turn the root logger
to DEBUG (every aiokafka debug call would then build a record holding message values)."""

from __future__ import annotations

import logging

from engine.config import Settings
from engine.stream.app import create_app
from engine.tools.worker import faust_worker


def test_the_root_logger_keeps_the_configured_level(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the Faust app's data directory
    settings = Settings.build({"log_level": "WARNING", "checkpoint_dir": str(tmp_path)})
    app, _ = create_app(settings)
    worker = faust_worker(app, settings)
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    try:
        worker._setup_logging()  # what the worker does first when it starts
        assert root.level == logging.WARNING
        assert not logging.getLogger("aiokafka.producer.producer").isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
