"""Every worker serves the whole case queue (engine/cases/index.py).

Without Kafka: the index keeps the latest version of every case, bounds its package cache
and the queue merges the worker's own tables with it. With the real broker: the reader
follows every partition of `disclosures` and reads a package back from its offset; and two
workers, each holding a partition, each list every case of the cluster, render and export
a case the other holds, and a decision sent to the worker that does not hold the case is
applied by the one that does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import json
import re
import time
import urllib.parse

import msgspec
import pytest
from aiokafka import AIOKafkaProducer

from engine.cases.assembly import apply_alert, apply_disposition, package_for
from engine.cases.disclosure import validate_fintrac, validate_goaml
from engine.cases.disclosure.seal import HEADER, seal
from engine.cases.index import CaseIndex, merge
from engine.cases.model import CaseEntry, CaseSummary
from engine.config import Secret, Settings
from engine.stream.broker import free_port
from engine.stream.case_reader import DisclosuresReader
from engine.stream.kafka import ensure_topics
from engine.tools.backtest import backtest
from engine.tools.demo import scrape, start_worker, stop_worker, wait_until_healthy
from engine.tools.produce import produce_files
from engine.web.render import case_page, queue_page
from engine.web.routes import TOPIC_ORIGIN
from schemas import Profile
from tests.conftest import PACKAGE_KEY
from tests.helpers import wait_for
from tests.test_cases import disposition
from tests.test_integration import worker_env
from tests.test_pseudonyms import KEY as PSEUDONYM_KEY
from tests.test_pseudonyms import oracle_case_id
from tests.test_web import ANALYST, ANALYSTS, TOKEN, Analyst, get

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def cases(small_dataset):
    """Alerts of the generated population, and every subject's case entry after each alert."""
    result, _ = backtest(
        small_dataset / "transactions.jsonl", small_dataset / "profiles.jsonl", Settings()
    )
    decoder = msgspec.json.Decoder(Profile)
    with open(small_dataset / "profiles.jsonl", "rb") as f:
        profiles = {p.customer_id: p for p in (decoder.decode(line) for line in f if line.strip())}
    history: dict[str, list[CaseEntry]] = {}
    for alert in result.alerts:
        before = history.get(alert.customer_id, [CaseEntry()])[-1]
        entry = apply_alert(before, alert, profiles.get(alert.customer_id)).entry
        history.setdefault(alert.customer_id, []).append(entry)
    assert len(history) >= 4
    return result.alerts, profiles, history


def raw(entry, profiles) -> bytes:
    return msgspec.json.encode(package_for(entry, profiles))


# ---------------------------------------------------------------------- without Kafka
def test_the_index_keeps_the_latest_version_of_every_case(cases):
    _, profiles, history = cases
    index = CaseIndex()
    for n, versions in enumerate(history.values()):
        first = versions[0]
        assert index.fold(n % 2, n, first.case.case_id.encode(), raw(first, profiles)) == "new"
    assert len(index) == len(history)
    for versions in history.values():  # the queue row is what the worker's own table gives
        case = versions[0].case
        assert index.entry(case.case_id).summary == CaseSummary.of(case)

    versions = max(history.values(), key=len)
    assert len(versions) >= 2
    first, last = versions[0], versions[-1]
    case_id = first.case.case_id
    key = case_id.encode()
    assert index.fold(0, 100, key, raw(last, profiles)) == "updated"
    assert index.fold(0, 101, key, raw(first, profiles)) == "older"  # a late republish
    located = index.entry(case_id)
    assert (located.summary.version, located.offset) == (last.case.version, 100)
    assert msgspec.json.decode(index.cached(case_id))["version"] == last.case.version
    assert index.fold(0, 102, key, raw(last, profiles)) == "updated"  # the same version again
    assert index.entry(case_id).offset == 102

    decided = apply_disposition(last, disposition(last, "file")).entry
    index.fold(0, 103, key, raw(decided, profiles))
    assert index.entry(case_id).summary.status == "filed"

    assert index.fold(1, 104, b"junk", b"{not json") == "invalid" and index.invalid == 1
    assert index.fold(1, 105, b"junk", b'{"case_id": "X"}') == "invalid"
    assert index.fold(0, 106, key, None) == "removed"
    assert index.entry(case_id) is None and index.cached(case_id) is None
    assert len(index) == len(history) - 1 == len(index.summaries())


def test_the_package_cache_is_bounded_and_never_holds_an_older_version(cases):
    _, profiles, history = cases
    packages = [(v[0].case.case_id, raw(v[0], profiles)) for v in history.values()]
    assert len(packages) >= 3
    bound = len(packages[-1][1]) + len(packages[-2][1])  # room for the last two
    index = CaseIndex(cache_bytes=bound)
    for offset, (case_id, package) in enumerate(packages):
        index.fold(0, offset, case_id.encode(), package)
        assert index.cached_bytes <= bound
    assert len(index) == len(packages)  # every summary stays; only packages are evicted
    assert index.cached(packages[0][0]) is None and index.cached(packages[-1][0]) is not None

    case_id, package = packages[0]
    index.remember(case_id, 0, package)  # read back from its offset: cached again
    assert index.cached(case_id) == package
    index.fold(0, 50, case_id.encode(), package)  # a newer record while another read was slow
    index.remember(case_id, 0, package)
    assert index.cached(case_id) == package and index.entry(case_id).offset == 50
    index.fold(0, 51, case_id.encode(), package)
    assert index.cached(case_id) == package  # the new record is cached, not the one at 50
    index.remember(case_id, 50, b"stale")
    assert index.cached(case_id) == package

    tiny = CaseIndex(cache_bytes=10)  # a package larger than the whole cache is not kept
    tiny.fold(0, 0, case_id.encode(), package)
    assert tiny.cached(case_id) is None and tiny.cached_bytes == 0 and len(tiny) == 1


def test_the_queue_takes_the_fresher_copy_of_each_case():
    def row(case_id, version):
        return CaseSummary(case_id, "C1", None, "open", 1.0, "unknown", (), 1, version, "", "", "")

    local = [row("A", 3), row("B", 2), row("C", 2), row("D", 1)]
    cluster = [row("A", 2), row("B", 3), row("C", 2), row("E", 1)]
    summaries, own = merge(local, cluster)
    assert {s.case_id: s.version for s in summaries} == {"A": 3, "B": 3, "C": 2, "D": 1, "E": 1}
    assert own == {"A", "C", "D"}


def test_the_queue_page_says_where_cases_come_from(cases):
    _, profiles, history = cases
    summaries = [CaseSummary.of(v[-1].case) for v in history.values()]
    summaries[0] = dataclasses.replace(summaries[0], name=EVIL, customer_id=EVIL)
    local = frozenset(s.case_id for s in summaries[:2])
    text = queue_page(summaries, local=local)
    assert "<script" not in text and "&lt;script&gt;" in text
    assert f"{len(summaries)} of {len(summaries)} cases across the cluster" in text
    assert f"(2 from this worker's case tables, {len(summaries) - 2} read from the" in text
    assert text.count('data-source="local"') == 2
    assert text.count('data-source="topic"') == len(summaries) - 2
    assert "Still reading" not in text and "Still reading" in queue_page(summaries, complete=False)
    assert "across the cluster" not in queue_page(summaries)  # one worker's own cases only
    page = case_page(package_for(next(iter(history.values()))[-1], profiles), origin=EVIL)
    assert 'id="case-source"' in page and "&lt;script&gt;" in page and "<script" not in page


# ---------------------------------------------------------------------- with the broker
async def _produce(settings, messages, sealed=True) -> list[tuple[int, int]]:
    """Send (topic, key, value) messages, packages sealed as the engine seals them unless
    ``sealed`` is false; returns (partition, offset) of each."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, max_request_size=8_388_608)
    key = settings.package_key.reveal().encode()

    def headers(t, v):
        wanted = sealed and v and t == settings.disclosures_topic
        return [(HEADER, seal(key, v))] if wanted else None

    await producer.start()
    try:
        sent = [
            await producer.send_and_wait(t, v, key=k, headers=headers(t, v)) for t, k, v in messages
        ]
    finally:
        await producer.stop()
    return [(m.partition, m.offset) for m in sent]


async def _until(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.integration
def test_the_reader_follows_every_partition_of_the_topic(topics, cases):
    _, profiles, history = cases
    topic = topics.disclosures_topic

    async def scenario():
        await ensure_topics(topics)
        firsts = {v[0].case.case_id: raw(v[0], profiles) for v in history.values()}
        where = await _produce(topics, [(topic, k.encode(), v) for k, v in firsts.items()])
        assert {p for p, _ in where} == {0, 1}, "the cases should land on both partitions"
        reader = DisclosuresReader(topics, cache_bytes=0)  # every page read back from its offset
        task = asyncio.create_task(reader.run())
        try:
            await _until(
                lambda: reader.caught_up and len(reader.index) == len(firsts), what="every case"
            )
            for case_id, package in firsts.items():
                assert await reader.package(case_id) == msgspec.json.decode(package)
            assert await reader.package("CASE-NOPE") is None

            # following: a new version, then a late older one (ignored), then a tombstone
            versions = max(history.values(), key=len)
            case_id = versions[0].case.case_id
            newer = raw(versions[-1], profiles)
            await _produce(topics, [(topic, case_id.encode(), newer)])
            await _until(
                lambda: reader.index.entry(case_id).summary.version == versions[-1].case.version,
                what="the new version",
            )
            ((partition, older_at),) = await _produce(
                topics, [(topic, case_id.encode(), firsts[case_id])]
            )
            await _until(
                lambda: reader.next_offsets.get(partition, 0) > older_at, what="the late record"
            )
            assert reader.index.entry(case_id).summary.version == versions[-1].case.version
            assert await reader.package(case_id) == msgspec.json.decode(newer)
            # a forgery (unsealed, or sealed with another key) with version 2**62, and an
            # unsealed tombstone: refused, the real case stays
            forged = msgspec.json.decode(newer) | {"version": 2**62, "narrative": EVIL}
            other = dataclasses.replace(topics, package_key=Secret("x" * 40))
            forgeries = [(topic, case_id.encode(), msgspec.json.encode(forged))]
            await _produce(topics, forgeries, sealed=False)
            await _produce(other, forgeries)
            await _produce(topics, [(topic, case_id.encode(), None)])
            await _until(lambda: reader.refused == 3, what="the forgeries")
            assert reader.index.entry(case_id).summary.version == versions[-1].case.version
            assert await reader.package(case_id) == msgspec.json.decode(newer)
        finally:
            await reader.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())


def _queue(views, port) -> dict[str, str]:
    """The queue of the worker on ``port``: case id → where it was read from."""
    status, _, body = get(views[port], "/cases")
    assert status == 200
    row = r'<tr data-source="(local|topic)"><td><a href="/cases/([^"]+)"'
    rows = re.findall(row, body.decode())
    return {case_id: source for source, case_id in rows}


@pytest.mark.integration
def test_every_worker_serves_the_whole_queue_and_routes_decisions(
    topics, cases, small_dataset, tmp_path
):
    alerts, _, history = cases
    settings = dataclasses.replace(topics, case_republish_s=3600.0)
    env = worker_env(settings) | {
        "PROTECT_ANALYST_TOKEN": TOKEN,
        "PROTECT_ANALYSTS": ANALYSTS,
        "PROTECT_PACKAGE_KEY": PACKAGE_KEY,
        "PROTECT_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "PROTECT_CASE_REPUBLISH_S": "3600",
    }
    asyncio.run(ensure_topics(settings))
    ports = [free_port(), free_port()]
    views = {port: free_port() for port in ports}  # each worker's analyst view
    workers = [
        start_worker(
            settings.bootstrap,
            port,
            tmp_path / f"state-{n}",
            tmp_path / f"w{n}.log",
            env | {"PROTECT_ANALYST_PORT": str(views[port])},
        )
        for n, port in enumerate(ports)
    ]
    try:
        for port, worker in zip(ports, workers, strict=True):
            wait_until_healthy(port, worker)
        asyncio.run(produce_files(settings, [small_dataset / "profiles.jsonl"], progress=False))
        asyncio.run(
            _produce(
                settings,
                [
                    (settings.alerts_topic, a.customer_id.encode(), msgspec.json.encode(a))
                    for a in alerts
                ],
            )
        )
        # both workers name each case by the HMAC of its subject under their shared key
        case_ids = {
            oracle_case_id(PSEUDONYM_KEY, c.primary) + (f"-{c.generation}" if c.generation else "")
            for c in (v[-1].case for v in history.values())
        }
        assert case_ids.isdisjoint(v[-1].case.case_id for v in history.values())  # not demo ids

        # each worker lists every case of the cluster, whichever worker holds it
        wait_for(
            lambda: all(set(_queue(views, p)) == case_ids for p in ports),
            what="both queues to list every case",
        )

        # a case this worker does not hold: its page and its exports, read from the topic
        def remote_case():
            for port in ports:
                for case_id, source in _queue(views, port).items():
                    if source != "topic":
                        continue
                    status, _, body = get(views[port], f"/cases/{urllib.parse.quote(case_id)}")
                    if status == 200 and TOPIC_ORIGIN in html.unescape(body.decode()):
                        return port, case_id, body.decode()
            return None

        port, case_id, page = wait_for(remote_case, what="a case served from the topic")
        assert '<svg id="link-graph"' in page and 'id="disposition"' in page
        assert 'id="transactions"' in page
        status, headers, body = get(views[port], f"/cases/{case_id}/export?format=fintrac")
        assert status == 200 and "attachment" in headers["Content-Disposition"]
        validate_fintrac(json.loads(body))
        status, _, body = get(views[port], f"/cases/{case_id}/export?format=goaml")
        assert status == 200
        validate_goaml(body.decode())

        # without the token: refused, and no case data
        for path in ("/cases", f"/cases/{case_id}", f"/cases/{case_id}/export?format=goaml"):
            status, _, body = get(views[port], path, token=None)
            assert status == 401 and b"CASE-" not in body, path
        assert get(views[port], f"/cases/{case_id}", token="not-the-token-at-all-000")[0] == 401

        # a decision sent to this worker reaches the worker that holds the case, once
        analyst = Analyst(views[port])
        status, headers, _ = analyst.decide(
            case_id, action="escalate", reason="seen <i>elsewhere</i>"
        )
        assert status == 303 and headers["Location"].startswith(f"/cases/{case_id}")

        def decided(p):
            text = get(views[p], f"/cases/{case_id}")[2].decode()
            return 'badge st-escalated">escalated<' in text and text

        for p in ports:
            page = wait_for(lambda p=p: decided(p), what="the decision on both workers")
            assert "seen &lt;i&gt;elsewhere&lt;/i&gt;" in page
            assert page.count(ANALYST) == 1  # on the decision (a bearer reader has no sign-in)
        applied = [scrape(p).get(("protect_dispositions", 'action="escalate"'), 0) for p in ports]
        assert sum(applied) == 1, applied
    finally:
        codes = [stop_worker(w) for w in workers]
        logs = [(tmp_path / f"w{n}.log").read_text()[-3000:] for n in range(2)]
        assert codes == [0, 0], logs
