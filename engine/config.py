"""One frozen, validated settings object (STYLE item 7).

Sources, later ones win: built-in defaults < a TOML file (``--config`` or
``PROTECT_CONFIG``) < environment variables ``PROTECT_<NAME>`` < command-line flags.
Everything is validated once at start-up; a bad value stops the process with a message
that names the setting, shows the value and says what is allowed. Secrets are
:class:`Secret` values that never print.

TOML layout::

    bootstrap = "kafka-1:9092"
    partitions = 8
    [constellation]
    score_threshold = 8.0
    [indicators]
    disabled = ["PP-12"]
    [indicators.PP-01]
    min_payments = 4
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import __version__
from engine.errors import ConfigError
from schemas import FAMILIES
from schemas.limits import InputLimits

if TYPE_CHECKING:
    import ssl

# SASL mechanisms every client here supports (aiokafka and Faust alike); GSSAPI and
# OAUTHBEARER need more than a user name and password, which settings do not carry.
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class Secret(str):
    """A string that does not show itself in logs, reprs or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('**********')" if self else "Secret('')"

    __str__ = __repr__

    def reveal(self) -> str:
        return str.__str__(self)


# Indicators of exploitation and of the laundering of proceeds (docs/calibration.md): money
# passed on within hours (PP-17), third-party control (PK-04), identifiers shared with other
# subjects (PP-19), business pass-through (PP-21), VC or gambling funded by many senders
# (PP-25, PP-27), lifestyle beyond declared income (PP-29), several rents (PP-30), adverse
# media and reported addresses (PK-01, PK-02). Ads, short stays, late-night cash and client
# e-transfers show the sex trade, which an independent adult worker shows too; a candidate
# needs one of these as well.
NEXUS = ("PP-17", "PK-04", "PP-19", "PP-21", "PP-25", "PP-27", "PP-29", "PP-30", "PK-01", "PK-02")


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/protect``, or ``~/.local/state/protect`` (the XDG default)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "protect"


@dataclass(frozen=True)
class ConstellationSettings:
    """When fired indicators become an alert (INDICATORS.md conventions; calibrated on
    generated data, docs/calibration.md)."""

    window_days: int = 30
    min_families: int = 4
    score_threshold: float = 8.0
    realert_days: int = 30
    # At least one active indicator from ``nexus`` (ids or families); empty: no requirement.
    nexus: tuple[str, ...] = NEXUS
    # With a nexus: escort-referenced e-transfers collected and passed on, without the
    # subject's own ad or lodging spend (the collector / nominee of F21-G29), count as one.
    collector_nexus: bool = True
    # Profile rules that raise a candidate with a transaction rule weighing at least
    # ``family_min_weight``, whatever the score: direct observation of third-party control
    # (INDICATORS.md, FinCEN FIN-2020-A008).
    strong_rules: tuple[str, ...] = ("PK-04",)
    # Several active indicators of one family describe one behaviour: the score takes the
    # family's largest weight plus this share of the others (1.0 adds them all up).
    same_family_factor: float = 1.0
    # A family counts towards ``min_families`` only when one of its active indicators
    # weighs at least this much (0: every active family counts).
    family_min_weight: float = 1.5
    # Weight overrides by indicator id (``PP-16``) or family (``FUNNEL``: every member of it);
    # an id beats its family. TOML: ``[constellation.weights]`` then ``PP-16 = 3.0``.
    weights: Mapping[str, float] = field(default_factory=dict)

    def validate(self) -> None:
        _check_range("constellation.window_days", self.window_days, 1, 365)
        _check_range("constellation.min_families", self.min_families, 1, 12)
        _check_range("constellation.score_threshold", self.score_threshold, 0.5, 100.0)
        _check_range("constellation.realert_days", self.realert_days, 1, 365)
        _check_range("constellation.same_family_factor", self.same_family_factor, 0.0, 1.0)
        _check_range("constellation.family_min_weight", self.family_min_weight, 0.0, 20.0)
        for key, weight in self.weights.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise ConfigError(f"constellation.weights.{key}: expected a number, got {weight!r}")
            _check_range(f"constellation.weights.{key}", weight, 0.0, 20.0)

    def check_ids(self) -> None:
        """Every id named is a registered rule or a family.

        See :meth:`Settings.check_detection`.
        """
        from indicators.registry import PROFILE_REGISTRY, REGISTRY

        known = set(REGISTRY) | set(PROFILE_REGISTRY) | set(FAMILIES)
        for key in self.nexus:
            if key not in known:
                raise ConfigError(
                    f"constellation.nexus: unknown indicator or family {key!r}; valid: "
                    f"{sorted(REGISTRY) + sorted(PROFILE_REGISTRY)} or a family {list(FAMILIES)}"
                )
        for key in self.strong_rules:
            if key not in PROFILE_REGISTRY:
                raise ConfigError(
                    f"constellation.strong_rules: {key!r} is not a profile rule; valid: "
                    f"{sorted(PROFILE_REGISTRY)}"
                )
        for key in self.weights:
            if key not in known:
                raise ConfigError(
                    f"constellation.weights: unknown indicator or family {key!r}; valid: "
                    f"{sorted(REGISTRY) + sorted(PROFILE_REGISTRY)} or a family {list(FAMILIES)}"
                )


@dataclass(frozen=True)
class Settings:
    bootstrap: str = "127.0.0.1:9092"
    transactions_topic: str = "transactions"
    profiles_topic: str = "profiles"
    reference_topic: str = "reference"
    alerts_topic: str = "alerts"
    dead_letter_topic: str = "dead-letters"
    identifiers_topic: str = "identifier-observations"
    findings_topic: str = "findings"
    party_signals_topic: str = "party-signals"
    disclosures_topic: str = "disclosures"
    dispositions_topic: str = "dispositions"
    # The analyst web view (/cases): off until `analysts` or this token is set. The token is
    # a read-only bearer for tools (Authorization: Bearer); analysts sign in with sessions.
    analyst_token: Secret = Secret("")
    # HMAC key of the packages on `disclosures` (engine/cases/disclosure/seal.py): readers
    # show only packages the engine sealed with it. Required with the analyst view on.
    package_key: Secret = Secret("")
    # --- analyst sessions and pseudonyms (issue #15 items 3 and 6; docs/SECURITY.md) ---
    # Per-analyst logins: ``name:scrypt$n$r$p$salt$hash`` entries from `protect
    # analyst-hash` (env PROTECT_ANALYSTS: comma-separated). Any entry turns the view on.
    analysts: tuple[Secret, ...] = ()
    # Server-side sessions end after this long without a request, and this long after login.
    session_idle_s: float = 1800.0
    session_max_s: float = 43_200.0
    # Session cookies are `Secure` (sent over HTTPS only). Off only for a plain-http view on
    # localhost (tests, `protect demo`); a browser behind a TLS proxy needs it on.
    cookie_secure: bool = True
    # Who viewed, exported, decided what and when: one JSON record per action.
    audit_topic: str = "audit"
    # HMAC-SHA256 key of case ids and identifier digests; empty: the public demo key
    # (engine/pseudonyms.py), with a warning at every worker start.
    pseudonym_key: Secret = Secret("")
    # --- end of analyst sessions and pseudonyms ---
    case_republish_s: float = 3600.0
    cross_customer: bool = True
    shared_identifier_min_holders: int = 3
    group_id: str = "protect-engine"
    # Static group membership (KIP-345): set a stable id per worker (e.g. the pod name) so a
    # rolling restart keeps its partitions, and with them its local checkpoints.
    group_instance_id: str = ""
    partitions: int = 4
    replication_factor: int = 1
    # /metrics and /health (Faust's web server, for probes and Prometheus; no case data)
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    # The analyst view (/cases) on a server of its own, so that the port the cluster's
    # probes and scrapers reach never serves case data, and each can be bound apart.
    analyst_host: str = "127.0.0.1"
    analyst_port: int = 6080
    # Checkpoints hold per-customer state: by default in the user's state directory
    # (XDG_STATE_HOME, else ~/.local/state), never inside a source tree where git could
    # pick them up. Deployments set it (the image: /var/lib/protect).
    checkpoint_dir: Path = field(default_factory=default_state_dir)
    checkpoint_interval_s: float = 10.0
    # A checkpoint the worker cannot use (another format, rule set or profile-fact layout;
    # a damaged file): "rebuild" the partition's state from the start of the retained
    # topics (logged, protect_checkpoints_rebuilt_total), or "refuse" to run, leaving the
    # file for the operator (where a rebuild would take longer than the retention allows).
    on_bad_checkpoint: str = "rebuild"
    max_batch: int = 20_000
    poll_timeout_ms: int = 200
    session_timeout_ms: int = 10_000
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: Secret = Secret("")
    # TLS to the brokers (security_protocol SSL or SASL_SSL): a private CA's bundle, and a
    # client certificate + key where the cluster authenticates clients by certificate.
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_check_hostname: bool = True
    reference_file: Path | None = None
    log_level: str = "INFO"
    disabled_indicators: tuple[str, ...] = ()
    indicator_params: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    constellation: ConstellationSettings = field(default_factory=ConstellationSettings)
    limits: InputLimits = field(default_factory=InputLimits)  # [limits]: schemas/limits.py

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(
        cls, file: Path | str | None = None, env: Mapping[str, str] | None = None, **flags: Any
    ) -> Settings:
        """Defaults < file < environment < flags (flags that are None are ignored)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        file = file or env.get("PROTECT_CONFIG")
        if file:
            values.update(_from_toml(Path(file)))
        for f in fields(cls):
            raw = env.get(f"PROTECT_{f.name.upper()}")
            if raw is not None and f.name not in ("indicator_params", "constellation"):
                values[f.name] = raw
        values.update({k: v for k, v in flags.items() if v is not None})
        return cls.build(values)

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> Settings:
        known = {f.name: f for f in fields(cls)}
        unknown = set(values) - known.keys()
        if unknown:
            raise ConfigError(f"unknown setting(s) {sorted(unknown)}; valid: {sorted(known)}")
        coerced = {name: _coerce(name, known[name].type, value) for name, value in values.items()}
        settings = cls(**coerced)
        settings.validate()
        return settings

    def validate(self) -> None:
        _check_range("partitions", self.partitions, 1, 10_000)
        if self.on_bad_checkpoint not in ("rebuild", "refuse"):
            raise ConfigError(
                f"on_bad_checkpoint: expected 'rebuild' or 'refuse', got {self.on_bad_checkpoint!r}"
            )
        _check_range("replication_factor", self.replication_factor, 1, 10)
        _check_range("web_port", self.web_port, 0, 65_535)
        _check_range("analyst_port", self.analyst_port, 0, 65_535)
        if self.analyst_port and self.analyst_port == self.web_port:
            raise ConfigError(f"analyst_port: {self.analyst_port} is web_port too; use another")
        _check_range("checkpoint_interval_s", self.checkpoint_interval_s, 0.1, 3600)
        _check_range("max_batch", self.max_batch, 1, 1_000_000)
        _check_range("poll_timeout_ms", self.poll_timeout_ms, 1, 60_000)
        _check_range("session_timeout_ms", self.session_timeout_ms, 1_000, 600_000)
        _check_range("shared_identifier_min_holders", self.shared_identifier_min_holders, 2, 100)
        _check_range("case_republish_s", self.case_republish_s, 1.0, 7 * 86_400)
        if self.package_key and len(self.package_key.reveal()) < 32:
            raise ConfigError("package_key: use at least 32 characters (`openssl rand -hex 32`)")
        self._validate_analyst_view()
        for host_port in self.bootstrap.split(","):
            host, _, port = host_port.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ConfigError(
                    f"bootstrap: expected HOST:PORT[,HOST:PORT...], got {self.bootstrap!r}"
                )
        protocols = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
        if self.security_protocol not in protocols:
            raise ConfigError(
                f"security_protocol: {self.security_protocol!r} is not one of {protocols}"
            )
        if self.security_protocol.startswith("SASL") and not (
            self.sasl_mechanism and self.sasl_username
        ):
            raise ConfigError("security_protocol SASL_* needs sasl_mechanism and sasl_username")
        self._validate_kafka_security()
        levels = ("DEBUG", "INFO", "WARNING", "ERROR")
        if self.log_level.upper() not in levels:
            raise ConfigError(f"log_level: {self.log_level!r} is not one of {levels}")
        if self.reference_file is not None and not Path(self.reference_file).is_file():
            raise ConfigError(f"reference_file: {str(self.reference_file)!r} does not exist")
        self.constellation.validate()

    def check_detection(self) -> Settings:
        """Check the ``[indicators]`` section against the rule registry; returns ``self``.

        Separate from :meth:`validate` because the registry imports every rule module and
        numba: reading settings (``protect produce``, ``protect export``) loads neither. Every
        command that detects (worker, backtest, tune, demo) calls it at start-up, and so does
        :class:`engine.core.detector.Detector`.
        """
        from indicators.registry import REGISTRY

        unknown = [i for i in self.disabled_indicators if i not in REGISTRY]
        if unknown:
            raise ConfigError(
                f"indicators.disabled: unknown id(s) {unknown}; known: {list(REGISTRY)}"
            )
        self.constellation.check_ids()
        self.resolved_params()  # raises on any bad override
        return self

    # ------------------------------------------------------------------ derived
    @property
    def enabled_indicators(self) -> list[str]:
        from indicators.registry import REGISTRY

        return [i for i in REGISTRY if i not in self.disabled_indicators]

    def resolved_params(self) -> dict[str, dict[str, float | int]]:
        from indicators.registry import REGISTRY
        from indicators.spec import ParameterError

        unknown = [i for i in self.indicator_params if i not in REGISTRY]
        if unknown:
            raise ConfigError(f"indicators: unknown id(s) {unknown}; known: {list(REGISTRY)}")
        try:
            return {
                i: REGISTRY[i].resolve_params(self.indicator_params.get(i))
                for i in self.enabled_indicators
            }
        except ParameterError as exc:
            raise ConfigError(str(exc)) from exc

    def detection_dict(self) -> dict[str, Any]:
        """Everything that changes what is detected (goes into ``config_hash``)."""
        return {
            "engine_version": __version__,
            "indicators": self.resolved_params(),
            "constellation": dataclasses.asdict(self.constellation),
        }

    def config_hash(self, reference_digest: str) -> str:
        canonical = json.dumps(
            {**self.detection_dict(), "reference": reference_digest}, sort_keys=True
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def analyst_view_on(self) -> bool:
        """The view listens with a bearer token (tools) or analyst logins (browsers)."""
        return bool(self.analyst_token or self.analysts)

    def _validate_analyst_view(self) -> None:
        from engine.analysts import parse_analysts
        from engine.pseudonyms import MIN_KEY_CHARS

        if self.analyst_token and len(self.analyst_token.reveal()) < 32:
            raise ConfigError(
                "analyst_token: use at least 32 characters (e.g. `openssl rand -hex 24`)"
            )
        parse_analysts(self.analysts)  # raises ConfigError naming the bad entry
        _check_range("session_idle_s", self.session_idle_s, 60.0, 86_400.0)
        _check_range("session_max_s", self.session_max_s, self.session_idle_s, 7 * 86_400.0)
        key = self.pseudonym_key.reveal()
        if key and len(key) < MIN_KEY_CHARS:
            raise ConfigError(
                f"pseudonym_key: use at least {MIN_KEY_CHARS} characters (`openssl rand -hex 32`)"
            )
        # No pseudonym_key is not refused here (deployments predating it keep starting);
        # the worker warns at every start instead (engine/pseudonyms.py configure).
        if self.analyst_view_on and not self.package_key:
            which = "analyst_token" if self.analyst_token else "analysts"
            raise ConfigError(
                f"package_key: required with {which} (the view shows only "
                "packages sealed with it); e.g. `openssl rand -hex 32`"
            )

    def _validate_kafka_security(self) -> None:
        sasl = self.security_protocol.startswith("SASL")
        tls = self.security_protocol.endswith("SSL")
        if sasl:
            if self.sasl_mechanism not in SASL_MECHANISMS:
                raise ConfigError(
                    f"sasl_mechanism: {self.sasl_mechanism!r} is not one of {SASL_MECHANISMS}"
                )
            if not self.sasl_password:
                raise ConfigError("sasl_password: required with security_protocol SASL_*")
        files = {
            "ssl_cafile": self.ssl_cafile,
            "ssl_certfile": self.ssl_certfile,
            "ssl_keyfile": self.ssl_keyfile,
        }
        given = [name for name, path in files.items() if path is not None]
        if given and not tls:
            # a file set under a plaintext protocol would read as "TLS is on" while it is not
            raise ConfigError(
                f"{', '.join(given)}: set, but security_protocol "
                f"{self.security_protocol} does not use TLS (use SSL or SASL_SSL)"
            )
        for name, path in files.items():
            if path is not None and not Path(path).is_file():
                raise ConfigError(f"{name}: {str(path)!r} does not exist")
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise ConfigError("ssl_keyfile: needs ssl_certfile (the client certificate)")
        if tls:
            import ssl

            try:  # here, so a bad bundle or key fails at start-up with the setting's name
                self.kafka_ssl_context()
            except (ssl.SSLError, OSError) as exc:
                raise ConfigError(f"ssl_cafile / ssl_certfile / ssl_keyfile: {exc}") from exc

    def kafka_ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of every Kafka client (None without TLS); the clients' keyword
        arguments are built from it in :func:`engine.stream.kafka.client_security`."""
        if not self.security_protocol.endswith("SSL"):
            return None
        import ssl

        cafile = str(self.ssl_cafile) if self.ssl_cafile else None
        context = ssl.create_default_context(cafile=cafile)
        if self.ssl_certfile is not None:
            keyfile = str(self.ssl_keyfile) if self.ssl_keyfile else None
            context.load_cert_chain(str(self.ssl_certfile), keyfile)
        # Off only for brokers whose certificates do not name them; the chain is still
        # verified against the CA (verify_mode stays CERT_REQUIRED).
        context.check_hostname = self.ssl_check_hostname
        return context


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r}: {exc}") from None
    values = dict(document)
    indicators = values.pop("indicators", {}) or {}
    if not isinstance(indicators, dict):
        raise ConfigError(f"config file {str(path)!r}: [indicators] must be a table")
    disabled = indicators.pop("disabled", [])
    if disabled:
        values["disabled_indicators"] = disabled
    if indicators:
        values["indicator_params"] = indicators
    return values


def _coerce(name: str, annotation: Any, value: Any) -> Any:
    """Turn file/env/flag values into the field's type, with a message naming the setting."""
    kind = str(annotation)
    try:
        if name == "constellation":
            if isinstance(value, ConstellationSettings):
                return value
            if not isinstance(value, Mapping):
                raise TypeError("expected a table")
            allowed = {f.name for f in fields(ConstellationSettings)}
            extra = set(value) - allowed
            if extra:
                raise ConfigError(
                    f"constellation: unknown key(s) {sorted(extra)}; valid: {sorted(allowed)}"
                )
            cast = {
                f.name: type(f.default)
                for f in fields(ConstellationSettings)
                if f.name != "weights"
            }
            values = {
                k: _cast_constellation(k, cast[k], v) for k, v in value.items() if k != "weights"
            }
            if "weights" in value:
                if not isinstance(value["weights"], Mapping):
                    raise ConfigError(
                        "constellation.weights: expected a table of indicator id or family = weight"
                    )
                values["weights"] = {str(k): v for k, v in value["weights"].items()}
            return ConstellationSettings(**values)
        if name == "limits":
            return _limits(value)
        if name == "indicator_params":
            if not isinstance(value, Mapping):
                raise TypeError("expected a table of tables")
            return {str(k): dict(v) for k, v in value.items()}
        if name == "disabled_indicators":
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(i.strip() for i in items if i.strip())
        if name == "analysts":  # an entry's hash has no comma or whitespace; hashes never print
            items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
            return tuple(Secret(str(i).strip()) for i in items if str(i).strip())
        if name in ("sasl_password", "analyst_token", "package_key", "pseudonym_key"):
            return Secret(str(value))
        if kind.startswith("Path"):
            return None if value in (None, "") else Path(value)
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("1", "true", "yes", "on"):
                return True
            if str(value).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        return str(value)
    except ConfigError:
        raise
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: cannot use {value!r} (expected {kind})") from None


def _limits(value: Any) -> InputLimits:
    if isinstance(value, InputLimits):
        return value
    if not isinstance(value, Mapping):
        raise TypeError("expected a table")
    kinds = {f.name: type(f.default) for f in fields(InputLimits)}
    extra = set(value) - set(kinds)
    if extra:
        raise ConfigError(f"limits: unknown key(s) {sorted(extra)}; valid: {sorted(kinds)}")
    limits = InputLimits(**{k: kinds[k](v) for k, v in value.items()})
    for name in kinds:
        _check_range(f"limits.{name}", getattr(limits, name), 1, 1e15)
    return limits


def _cast_constellation(name: str, kind: type, value: Any) -> Any:
    if kind is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ConfigError(f"constellation.{name}: expected a list of ids, got {value!r}")
        return tuple(str(i).strip() for i in items if str(i).strip())
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"constellation.{name}: expected true or false, got {value!r}")
        return value
    return kind(value)


def _check_range(name: str, value: float, lo: float, hi: float) -> None:
    if not lo <= value <= hi:
        raise ConfigError(f"{name}: {value!r} is outside the allowed range [{lo}, {hi}]")
