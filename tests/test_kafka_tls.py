"""The engine's Kafka clients over real TLS with a client certificate (issue #15 item 2).

The embedded broker (Tansu) speaks plaintext only, so a TLS-terminating proxy stands in
front of it: the proxy serves a certificate for ``localhost`` signed by a test CA and
requires a client certificate from that CA (mutual TLS), and the broker advertises the
proxy's address, so every connection a client makes (bootstrap, then the partition
leaders) goes through TLS. Nothing here is mocked: real handshakes, a real broker, the
engine's own client configuration (engine/stream/kafka.py), and a whole ``protect worker``
(Faust app, firehose, feeds, case agents) that must run over it.

SASL is not exercised: Tansu has no SASL users in its in-memory storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import ssl
import subprocess
import threading

import pytest

from engine.config import Settings
from engine.errors import BrokerError
from engine.stream.broker import free_port, start_broker
from engine.stream.kafka import ensure_topics
from engine.tools.demo import metric_sum, read_topic
from engine.tools.produce import produce_files
from tests.test_integration import run_worker_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA; a server certificate for localhost / 127.0.0.1 and a client one it signed; and
    a second CA that signed nothing the proxy trusts."""
    out = tmp_path_factory.mktemp("tls")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=out, check=True, capture_output=True)

    for ca in ("ca", "other-ca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key",
            "-out", f"{ca}.pem", "-days", "2", "-subj", f"/CN=protect-test-{ca}")  # fmt: skip
    for name, extra in (
        ("server", ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]),
        ("client", []),
    ):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", f"/CN=protect-{name}", *extra)  # fmt: skip
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-copy_extensions", "copy", "-out", f"{name}.pem",
            "-days", "2")  # fmt: skip
    return out


class TlsProxy:
    """Terminates mutual TLS on ``port`` and relays the bytes to the broker, in a thread."""

    def __init__(self, port: int, upstream: int, pki) -> None:
        self.port, self.upstream = port, upstream
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=pki / "ca.pem")
        self.context.load_cert_chain(pki / "server.pem", pki / "server.key")
        self.context.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no connection
        self.handshakes = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> TlsProxy:
        self.thread.start()
        assert self.ready.wait(10), "the TLS proxy did not start"
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._relay, "127.0.0.1", self.port, ssl=self.context)
        )
        self.ready.set()
        try:
            self.loop.run_forever()
        finally:
            server.close()

    async def _relay(self, client_in, client_out) -> None:
        self.handshakes += 1
        broker_in, broker_out = await asyncio.open_connection("127.0.0.1", self.upstream)

        async def pipe(reader, writer) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        await asyncio.gather(pipe(client_in, broker_out), pipe(broker_in, client_out))


@pytest.fixture(scope="module")
def tls_broker(pki, tmp_path_factory):
    """A broker reachable only through mutual TLS at localhost:PORT."""
    broker_port, proxy_port = free_port(), free_port()
    log = tmp_path_factory.mktemp("tls-broker") / "broker.log"
    process = start_broker(broker_port, log, advertised=f"localhost:{proxy_port}")
    try:
        with TlsProxy(proxy_port, broker_port, pki) as proxy:
            yield proxy
    finally:
        process.terminate()
        process.wait(10)


def tls_settings(topics: Settings, proxy: TlsProxy, pki, **overrides) -> Settings:
    tls = {
        "bootstrap": f"localhost:{proxy.port}",
        "security_protocol": "SSL",
        "ssl_cafile": pki / "ca.pem",
        "ssl_certfile": pki / "client.pem",
        "ssl_keyfile": pki / "client.key",
    }
    settings = dataclasses.replace(topics, **(tls | overrides))
    settings.validate()
    return settings


def test_engine_clients_produce_and_read_over_mutual_tls(topics, tls_broker, pki, tmp_path):
    settings = tls_settings(topics, tls_broker, pki)
    rows = [{"n": n} for n in range(25)]
    source = tmp_path / "rows.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    before = tls_broker.handshakes
    asyncio.run(ensure_topics(settings))
    sent = asyncio.run(
        produce_files(settings, [source], topic=settings.alerts_topic, progress=False)
    )
    assert sum(sent.values()) == len(rows)
    read = asyncio.run(read_topic(settings, settings.alerts_topic, len(rows), timeout=30))
    assert sorted(json.loads(v)["n"] for v in read) == list(range(25))
    assert tls_broker.handshakes > before  # every connection went through the proxy's TLS


@pytest.mark.parametrize(
    "wrong",
    [
        pytest.param({"ssl_cafile": "other-ca.pem"}, id="broker-certificate-not-from-our-ca"),
        pytest.param({"ssl_certfile": None, "ssl_keyfile": None}, id="no-client-certificate"),
    ],
)
def test_a_client_that_fails_the_handshake_gets_nothing(topics, tls_broker, pki, wrong):
    files = {k: (pki / v if isinstance(v, str) else v) for k, v in wrong.items()}
    settings = tls_settings(topics, tls_broker, pki, **files)
    with pytest.raises(BrokerError, match="cannot reach Kafka"):
        asyncio.run(asyncio.wait_for(ensure_topics(settings), timeout=20))
    # the broker and the proxy are up: the same call with the right files goes through
    asyncio.run(ensure_topics(tls_settings(topics, tls_broker, pki)))


def test_a_whole_worker_runs_over_mutual_tls(topics, tls_broker, pki, small_dataset, tmp_path):
    """The Faust app (agents, tables, changelogs), the firehose and the feeds all connect
    through TLS with the client certificate: the worker consumes everything and alerts."""
    settings = tls_settings(topics, tls_broker, pki)
    asyncio.run(ensure_topics(settings))
    paths = [small_dataset / "profiles.jsonl", small_dataset / "transactions.jsonl"]
    produced = sum(asyncio.run(produce_files(settings, paths, progress=False)).values())
    env = {
        "PROTECT_SECURITY_PROTOCOL": "SSL",
        "PROTECT_SSL_CAFILE": str(pki / "ca.pem"),
        "PROTECT_SSL_CERTFILE": str(pki / "client.pem"),
        "PROTECT_SSL_KEYFILE": str(pki / "client.key"),
    }
    samples = run_worker_until(settings, tmp_path, produced, extra_env=env)
    alerts = metric_sum(samples, "protect_alerts")
    assert alerts > 0
    read = asyncio.run(read_topic(settings, settings.alerts_topic, int(alerts), timeout=60))
    assert len(read) == alerts
