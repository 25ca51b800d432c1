"""What a worker does with a checkpoint it cannot use (issue #12 item 5): rebuild the
partition from the topic (the default, counted and logged) or, with
``on_bad_checkpoint = "refuse"``, stop with a clear message and leave the file alone."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from engine.config import ConfigError, Settings
from engine.stream.broker import free_port
from engine.stream.kafka import ensure_topics
from engine.tools.demo import metric_sum, start_worker
from engine.tools.produce import produce_files
from tests.test_integration import run_worker_until, worker_env

pytestmark = pytest.mark.integration
DAMAGED = b"PK\x03\x04 this is not a checkpoint"


def damage(settings, state_dir):
    state_dir.mkdir(parents=True, exist_ok=True)
    paths = [state_dir / f"{settings.transactions_topic}-{p}.ckpt" for p in range(2)]
    for path in paths:
        path.write_bytes(DAMAGED)
    return paths


def test_refuse_stops_the_worker_and_leaves_the_file(topics, tmp_path):
    asyncio.run(ensure_topics(topics))
    paths = damage(topics, tmp_path / "state")
    log = tmp_path / "worker.log"
    env = worker_env(topics) | {"PROTECT_ON_BAD_CHECKPOINT": "refuse"}
    worker = start_worker(topics.bootstrap, free_port(), tmp_path / "state", log, env)
    try:
        code = worker.wait(timeout=120)
    except subprocess.TimeoutExpired:
        worker.kill()
        raise AssertionError("the worker kept running on a damaged checkpoint") from None
    assert code != 0
    text = log.read_text()
    assert "on_bad_checkpoint = 'refuse'" in text and "cannot be read" in text, text[-2000:]
    assert all(p.read_bytes() == DAMAGED for p in paths)


def test_rebuild_counts_the_partitions_and_detects_from_the_topic(topics, small_dataset, tmp_path):
    asyncio.run(ensure_topics(topics))
    damage(topics, tmp_path / "state")
    paths = [small_dataset / "profiles.jsonl", small_dataset / "transactions.jsonl"]
    produced = sum(asyncio.run(produce_files(topics, paths, progress=False)).values())
    samples = run_worker_until(topics, tmp_path, produced)
    assert metric_sum(samples, "protect_checkpoints_rebuilt") == 2
    assert metric_sum(samples, "protect_alerts") > 0
    assert (tmp_path / "state" / f"{topics.transactions_topic}-0.ckpt").read_bytes() != DAMAGED


def test_the_setting_takes_only_its_two_values():
    assert Settings.load(env={"PROTECT_ON_BAD_CHECKPOINT": "refuse"}).on_bad_checkpoint == "refuse"
    with pytest.raises(ConfigError, match="on_bad_checkpoint: expected 'rebuild' or 'refuse'"):
        Settings.load(env={"PROTECT_ON_BAD_CHECKPOINT": "ignore"})
