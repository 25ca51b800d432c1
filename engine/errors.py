"""The engine's exception tree. Each message names the item, shows the value, lists options.

    ProtectError
    ├── ConfigError          settings that fail validation at start-up
    ├── ReferenceListError   a reference list file or message that cannot be used
    ├── CheckpointError      a checkpoint that cannot be read or does not match the config
    └── BrokerError          the embedded broker cannot start or Kafka is unreachable

Bad *input messages* never raise: they become dead letters with a reason (engine.core.decode).
Indicator metadata and parameter errors live with the specs (indicators.spec).
"""


class ProtectError(Exception):
    """Root of every error the engine raises on purpose."""


class ConfigError(ProtectError):
    """A setting is missing, malformed or out of range."""


class ReferenceListError(ProtectError):
    """A reference list cannot be loaded or applied."""


class CheckpointError(ProtectError):
    """A checkpoint is unreadable or was written by an incompatible configuration."""


class BrokerError(ProtectError):
    """The Kafka broker (embedded or remote) cannot be started or reached."""
