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
from typing import Any

from engine import __version__
from engine.errors import ConfigError
from indicators.registry import REGISTRY
from indicators.spec import ParameterError


class Secret(str):
    """A string that does not show itself in logs, reprs or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('**********')" if self else "Secret('')"

    __str__ = __repr__

    def reveal(self) -> str:
        return str.__str__(self)


@dataclass(frozen=True)
class ConstellationSettings:
    """When fired indicators become an alert (INDICATORS.md, conventions)."""

    window_days: int = 30
    min_families: int = 3
    score_threshold: float = 8.0
    realert_days: int = 30

    def validate(self) -> None:
        _check_range("constellation.window_days", self.window_days, 1, 365)
        _check_range("constellation.min_families", self.min_families, 1, 12)
        _check_range("constellation.score_threshold", self.score_threshold, 0.5, 100.0)
        _check_range("constellation.realert_days", self.realert_days, 1, 365)


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
    cross_customer: bool = True
    shared_identifier_min_holders: int = 3
    group_id: str = "protect-engine"
    # Static group membership (KIP-345): set a stable id per worker (e.g. the pod name) so a
    # rolling restart keeps its partitions, and with them its local checkpoints.
    group_instance_id: str = ""
    partitions: int = 4
    replication_factor: int = 1
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    checkpoint_dir: Path = Path("state")
    checkpoint_interval_s: float = 10.0
    max_batch: int = 20_000
    poll_timeout_ms: int = 200
    session_timeout_ms: int = 10_000
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: Secret = Secret("")
    reference_file: Path | None = None
    log_level: str = "INFO"
    disabled_indicators: tuple[str, ...] = ()
    indicator_params: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    constellation: ConstellationSettings = field(default_factory=ConstellationSettings)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, file: Path | str | None = None, env: Mapping[str, str] | None = None,
             **flags: Any) -> Settings:
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
        _check_range("replication_factor", self.replication_factor, 1, 10)
        _check_range("web_port", self.web_port, 0, 65_535)
        _check_range("checkpoint_interval_s", self.checkpoint_interval_s, 0.1, 3600)
        _check_range("max_batch", self.max_batch, 1, 1_000_000)
        _check_range("poll_timeout_ms", self.poll_timeout_ms, 1, 60_000)
        _check_range("session_timeout_ms", self.session_timeout_ms, 1_000, 600_000)
        _check_range("shared_identifier_min_holders", self.shared_identifier_min_holders, 2, 100)
        for host_port in self.bootstrap.split(","):
            host, _, port = host_port.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ConfigError(f"bootstrap: expected HOST:PORT[,HOST:PORT...], got {self.bootstrap!r}")
        protocols = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
        if self.security_protocol not in protocols:
            raise ConfigError(f"security_protocol: {self.security_protocol!r} is not one of {protocols}")
        if self.security_protocol.startswith("SASL") and not (self.sasl_mechanism and self.sasl_username):
            raise ConfigError("security_protocol SASL_* needs sasl_mechanism and sasl_username")
        levels = ("DEBUG", "INFO", "WARNING", "ERROR")
        if self.log_level.upper() not in levels:
            raise ConfigError(f"log_level: {self.log_level!r} is not one of {levels}")
        if self.reference_file is not None and not Path(self.reference_file).is_file():
            raise ConfigError(f"reference_file: {str(self.reference_file)!r} does not exist")
        unknown = [i for i in self.disabled_indicators if i not in REGISTRY]
        if unknown:
            raise ConfigError(f"indicators.disabled: unknown id(s) {unknown}; known: {list(REGISTRY)}")
        self.constellation.validate()
        self.resolved_params()  # raises on any bad override

    # ------------------------------------------------------------------ derived
    @property
    def enabled_indicators(self) -> list[str]:
        return [i for i in REGISTRY if i not in self.disabled_indicators]

    def resolved_params(self) -> dict[str, dict[str, float | int]]:
        unknown = [i for i in self.indicator_params if i not in REGISTRY]
        if unknown:
            raise ConfigError(f"indicators: unknown id(s) {unknown}; known: {list(REGISTRY)}")
        try:
            return {i: REGISTRY[i].resolve_params(self.indicator_params.get(i)) for i in self.enabled_indicators}
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
        canonical = json.dumps({**self.detection_dict(), "reference": reference_digest}, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def kafka_security(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka clients."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.security_protocol.startswith("SASL"):
            options.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password.reveal(),
            )
        if self.security_protocol.endswith("SSL"):
            import ssl

            options["ssl_context"] = ssl.create_default_context()
        return options


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
                raise ConfigError(f"constellation: unknown key(s) {sorted(extra)}; valid: {sorted(allowed)}")
            cast = {f.name: type(f.default) for f in fields(ConstellationSettings)}
            return ConstellationSettings(**{k: cast[k](v) for k, v in value.items()})
        if name == "indicator_params":
            if not isinstance(value, Mapping):
                raise TypeError("expected a table of tables")
            return {str(k): dict(v) for k, v in value.items()}
        if name == "disabled_indicators":
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(i.strip() for i in items if i.strip())
        if name == "sasl_password":
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


def _check_range(name: str, value: float, lo: float, hi: float) -> None:
    if not lo <= value <= hi:
        raise ConfigError(f"{name}: {value!r} is outside the allowed range [{lo}, {hi}]")
