"""Named yes/no inputs rules read from the engine's bit columns, and the bits they get.

Three int64 columns carry facts a kernel tests with ``&``:

* ``ref_flags`` (per row): the reference lists a row matched, by list name as in
  ``schemas/reference/default_lists.json`` (``escort_ad_platforms``, ...), and the pattern
  ``bracket_alias``;
* ``profile_flags`` (per customer): facts about the profile (``entity``,
  ``travel_occupation``, a flag type such as ``adverse_media``, ...) and the
  cross-customer finding ``shared_identifier``;
* ``cp_flags`` (per row): signals the row's counterparty showed (``adv_lodge``,
  ``escort_emt``, ``alerted``).

A spec names what it reads (``reference_lists``, ``profile_facts``, ``party_signals``;
a profile rule its ``facts``). The registry allocates one bit per name, in the order names
are first declared over the registry (so no table is kept by hand), and the engine sets the
columns from that :class:`Layout`. A kernel receives each declared bit as an argument, after
its parameters, named ``ref_<list>``, ``fact_<fact>`` and ``signal_<signal>``: arguments,
not module constants, because numba's on-disk cache would keep a constant from an older
layout when another rule file changes the allocation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

KINDS = {"reference": "ref", "profile": "fact", "party": "signal"}  # kind -> argument prefix


@dataclass(frozen=True)
class Layout:
    """Bit of every declared name, per kind; a name nobody declares has no bit (0)."""

    reference: Mapping[str, int]
    profile: Mapping[str, int]
    party: Mapping[str, int]

    def bit(self, kind: str, name: str) -> int:
        table: Mapping[str, int] = getattr(self, kind)
        return table.get(name, 0)

    def mask(self, kind: str, names: Iterable[str]) -> int:
        mask = 0
        for name in names:
            mask |= self.bit(kind, name)
        return mask

    def names(self, kind: str) -> list[str]:
        """Names of ``kind`` by bit position (what a checkpoint records of the layout)."""
        return list(getattr(self, kind))


def allocate(declarations: Iterable[tuple[str, Iterable[str]]]) -> Layout:
    """A layout from ``(kind, names)`` declarations; a name keeps its first bit."""
    bits: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    for kind, names in declarations:
        table = bits[kind]
        for name in names:
            table.setdefault(name, 1 << len(table))
    return Layout(**bits)


def argument_name(kind: str, name: str) -> str:
    return f"{KINDS[kind]}_{name}"
