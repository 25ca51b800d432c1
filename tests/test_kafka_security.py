"""Kafka client security from one place (issue #15 item 2).

Every aiokafka client the engine builds passes ``**client_security(settings)``
(engine/stream/kafka.py), and the Faust app gets every bootstrap host and
``broker_credentials`` from the same settings and TLS context. These check the
configuration each client is handed; tests/test_kafka_tls.py connects for real through
mutual TLS (a TLS-terminating proxy in front of the embedded broker). SASL is checked only
here: Tansu 0.6 cannot be given a SASL user in memory storage.
"""

from __future__ import annotations

import ast
import ssl
import subprocess
from pathlib import Path

import faust
import pytest

from engine.config import Settings
from engine.errors import ConfigError
from engine.stream.app import create_app
from engine.stream.kafka import client_security, faust_broker, faust_credentials

ENGINE = Path(__file__).resolve().parents[1] / "engine"
CLIENTS = {"AIOKafkaConsumer", "AIOKafkaProducer", "AIOKafkaAdminClient"}
SASL = {
    "security_protocol": "SASL_SSL",
    "sasl_mechanism": "SCRAM-SHA-512",
    "sasl_username": "protect-worker",
    "sasl_password": "s3cret-password",
    "bootstrap": "kafka-1:9093,kafka-2:9093,kafka-3:9093",
}


# ------------------------------------------------------------------ the source
def _called(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _constructions(name: set[str]):
    for path in sorted(ENGINE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called(node) in name:
                yield f"{path.relative_to(ENGINE.parent)}:{node.lineno}", node


def _passes_security(node: ast.Call) -> bool:
    return any(
        kw.arg is None and isinstance(kw.value, ast.Call) and _called(kw.value) == "client_security"
        for kw in node.keywords
    )


def test_every_kafka_client_in_the_engine_takes_the_shared_security():
    found = list(_constructions(CLIENTS))
    assert len(found) >= 6, found  # admin, producer, consumer, feeds, case reader x2, demo
    missing = [where for where, node in found if not _passes_security(node)]
    assert not missing, f"clients built without **client_security(settings): {missing}"


def test_the_faust_app_takes_the_shared_broker_list_and_credentials():
    found = [
        (where, node)
        for where, node in _constructions({"App"})
        if isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") == "faust"
    ]
    assert found
    for where, node in found:
        given = {kw.arg: kw.value for kw in node.keywords}
        assert "broker_credentials" in given, where
        assert _called(given["broker"]) == "faust_broker", where
        assert _called(given["broker_credentials"]) == "faust_credentials", where


# ------------------------------------------------------------------ the configuration
@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, and a client certificate and key it signed (openssl)."""
    out = tmp_path_factory.mktemp("pki")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=out, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
        "ca.pem", "-days", "2", "-subj", "/CN=protect-test-ca")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr",
        "-subj", "/CN=protect-worker")  # fmt: skip
    run("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "client.pem", "-days", "2")  # fmt: skip
    return out


def test_plaintext_is_the_default_and_carries_no_credentials():
    assert client_security(Settings()) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(Settings()) is None


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl_kwargs_carry_the_mechanism_the_user_and_a_verifying_context(mechanism, pki):
    settings = Settings.build({**SASL, "sasl_mechanism": mechanism, "ssl_cafile": pki / "ca.pem"})
    options = client_security(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == mechanism
    assert options["sasl_plain_username"] == "protect-worker"
    assert options["sasl_plain_password"] == "s3cret-password"
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert any(
        dict(x[0] for x in c["subject"]).get("commonName") == "protect-test-ca"
        for c in context.get_ca_certs()
    )


def test_sasl_plaintext_has_no_tls_context():
    options = client_security(Settings.build({**SASL, "security_protocol": "SASL_PLAINTEXT"}))
    assert options["security_protocol"] == "SASL_PLAINTEXT" and "ssl_context" not in options


def test_ssl_with_a_client_certificate_and_the_hostname_check_off(pki):
    settings = Settings.build(
        {
            "security_protocol": "SSL",
            "ssl_cafile": pki / "ca.pem",
            "ssl_certfile": pki / "client.pem",
            "ssl_keyfile": pki / "client.key",
            "ssl_check_hostname": "false",
        }
    )
    options = client_security(settings)
    assert set(options) == {"security_protocol", "ssl_context"}
    context = options["ssl_context"]
    assert not context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    credentials = faust_credentials(settings)
    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials.protocol.value == "SSL" and not credentials.context.check_hostname


@pytest.mark.parametrize(
    "values, message",
    [
        ({**SASL, "sasl_mechanism": "GSSAPI"}, "sasl_mechanism"),
        ({**SASL, "sasl_password": ""}, "sasl_password"),
        ({"ssl_cafile": "ca.pem"}, "does not use TLS"),
        ({"security_protocol": "SSL", "ssl_cafile": "missing.pem"}, "does not exist"),
        ({"security_protocol": "SSL", "ssl_keyfile": "client.key"}, "needs ssl_certfile"),
        ({"security_protocol": "SSL", "ssl_cafile": "client.csr"}, "ssl_cafile"),  # not a CA
        ({"security_protocol": "SSL", "ssl_check_hostname": "maybe"}, "ssl_check_hostname"),
    ],
)
def test_bad_security_settings_are_refused_with_the_setting_named(values, message, pki):
    resolved = {
        k: (pki / v if k.startswith("ssl_") and k != "ssl_check_hostname" else v)
        for k, v in values.items()
    }
    with pytest.raises(ConfigError, match=message):
        Settings.build(resolved)


def test_faust_gets_every_bootstrap_host():
    assert (
        faust_broker(Settings(bootstrap="a:9092, b:9093,c:9094")) == "kafka://a:9092;b:9093;c:9094"
    )


def test_the_faust_app_built_from_sasl_ssl_settings_has_all_hosts_and_credentials(tmp_path, pki):
    settings = Settings.build({**SASL, "ssl_cafile": pki / "ca.pem", "checkpoint_dir": tmp_path})
    app, _ = create_app(settings)  # built, not started
    hosts = [(url.host, url.port) for url in app.conf.broker]
    assert hosts == [("kafka-1", 9093), ("kafka-2", 9093), ("kafka-3", 9093)]
    credentials = app.conf.broker_credentials
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.username == "protect-worker"
    assert credentials.password == "s3cret-password"
    assert credentials.ssl_context.verify_mode == ssl.CERT_REQUIRED
    # what Faust's aiokafka driver hands its own consumer and producer
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    auth = credentials_to_aiokafka_auth(credentials)
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert auth["sasl_plain_password"] == "s3cret-password"
    assert auth["ssl_context"].get_ca_certs()
