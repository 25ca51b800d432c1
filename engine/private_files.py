"""Files that hold personal data (checkpoints, alerts, packages and reports) are 0600.

The process umask usually leaves new files world-readable (0644); these files name
customers, so only the engine's own user may read them. ``fchmod`` also narrows a file that
already existed with wider permissions (a stale temporary file, a report written over).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

PRIVATE = 0o600


def open_private(path: Path | str) -> BinaryIO:
    """``open(path, "wb")``, but readable and writable by the owner only."""
    handle = open(path, "wb", opener=lambda p, flags: os.open(p, flags, PRIVATE))  # noqa: SIM115
    os.fchmod(handle.fileno(), PRIVATE)
    return handle


def write_private(path: Path | str, data: bytes) -> None:
    with open_private(path) as handle:
        handle.write(data)
