"""Errors of the disclosure layer, children of the engine's root error.

ProtectError (engine.errors)
└── DisclosureError
    ├── CaseError               an operation a case cannot take (closed case, foreign subject)
    ├── CodeTableError          a FINTRAC / goAML code mapping that is incomplete or invalid
    └── ExportValidationError   an export that fails its official schema (lists every path)
"""

from __future__ import annotations

from engine.errors import ProtectError


class DisclosureError(ProtectError):
    """Root of the disclosure-package and export errors."""


class CaseError(DisclosureError):
    """A case operation that cannot be applied (e.g. an alert for a subject not in the case)."""


class CodeTableError(DisclosureError):
    """A code mapping file or object is missing entries or holds values the schema rejects."""


class ExportValidationError(DisclosureError):
    """An export does not validate; ``problems`` holds one ``path: message`` line per failure."""

    def __init__(self, fmt: str, problems: list[str]):
        self.fmt = fmt
        self.problems = problems
        shown = "\n  ".join(problems[:25])
        more = f"\n  ... and {len(problems) - 25} more" if len(problems) > 25 else ""
        super().__init__(
            f"{fmt} export fails its official schema ({len(problems)} problems):\n  {shown}{more}"
        )
