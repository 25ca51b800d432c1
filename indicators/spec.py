"""What an indicator declares about itself (STYLE items 1, 2 and 8).

An :class:`IndicatorSpec` is to this engine what a Sigma rule is to a SIEM: detection
metadata an analyst can read (sources, false positives, status), parameters with bounds
that configuration is validated against, examples that must and must not fire, and the
numba kernel that computes it. Alerts inherit the id, title, family and sources.

Kernel calling convention (the engine builds the argument list from the spec)::

    kernel(*inputs, *state_arrays, *param_values, fired, observed, evidence, touched)

``inputs`` are batch columns or profile columns (``indicators.columns``) by name; state
arrays are per-customer (first axis = customer slot) and updated in place; ``fired[i]``
(uint8), ``observed[i]`` (float64) and ``evidence[i, :]`` (int64 refs) are written for rows
where the indicator fires; ``touched[i]`` is set for rows the kernel keeps in its state, so
the engine can remember their transaction ids for later evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from indicators.columns import BATCH_COLUMNS, PROFILE_COLUMNS
from schemas import FAMILIES

STATUSES = ("experimental", "test", "stable")
SEVERITIES = ("low", "medium", "high")
ROLE_SIGNALS = ("victim", "trafficker", "collector", "context")


class SpecError(ValueError):
    """An indicator module declares something inconsistent (raised at import, not at run time)."""


class ParameterError(ValueError):
    """A configured parameter value is outside the bounds its indicator declares."""


@dataclass(frozen=True)
class Param:
    """A tunable parameter with its default and inclusive bounds."""

    name: str
    default: float
    lo: float
    hi: float
    doc: str
    integer: bool = False
    # The state array whose first axis holds what this parameter counts (a ring, a keyed
    # table, day buckets), and how many of its slots the kernel needs beyond ``hi``: the
    # registry refuses a bound the array cannot hold, since a saturated ring hides counts.
    capacity: str = ""
    spare: int = 0

    def validate(self, indicator_id: str, value: Any) -> float | int:
        """Return ``value`` checked against the bounds, or raise a message naming everything."""
        where = f"indicator {indicator_id}, parameter {self.name!r}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(f"{where}: expected a number, got {value!r}")
        if not np.isfinite(value):
            raise ParameterError(f"{where}: expected a finite number, got {value!r}")
        if self.integer and float(value) != int(value):
            raise ParameterError(f"{where}: expected an integer, got {value!r}")
        if not self.lo <= value <= self.hi:
            raise ParameterError(
                f"{where}: {value!r} is outside the allowed range [{self.lo}, {self.hi}] "
                f"(default {self.default})"
            )
        return int(value) if self.integer else float(value)


@dataclass(frozen=True)
class StateArray:
    """A per-customer state array: shape ``(customers, *tail)``, initialised to ``fill``.

    Arrays whose name ends in ``_ref`` hold event refs; the engine keeps the transaction
    ids of those events alive for evidence.
    """

    name: str
    tail: tuple[int, ...]
    dtype: type
    fill: float | int | np.number[Any]  # np.int64 for EMPTY_TS and other int64 sentinels

    @property
    def bytes_per_customer(self) -> int:
        return int(np.prod(self.tail, dtype=np.int64)) * np.dtype(self.dtype).itemsize


@dataclass(frozen=True)
class Example:
    """A small scenario for the conformance suite: contract-format rows and an expectation."""

    name: str
    transactions: tuple[Mapping[str, Any], ...]
    profile: Mapping[str, Any] | None = None
    # Signals other customers announced to the party index
    # (engine/crosscustomer/parties.py) before the
    # example runs: {"signal": "adv_lodge" | "escort_emt" | "alerted", "customer_id": ...,
    # "counterparty_id" or "counterparty_email": how the example's rows name that customer}.
    parties: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class IndicatorSpec:
    """One Project Protect rule: metadata, parameters, state layout and kernel."""

    id: str
    title: str
    description: str
    family: str
    sources: tuple[str, ...]
    status: str
    severity: str
    weight: float
    role_signal: str
    window: str
    threshold_param: str
    false_positives: tuple[str, ...]
    required_fields: tuple[str, ...]
    inputs: tuple[str, ...]
    state: tuple[StateArray, ...]
    params: tuple[Param, ...]
    kernel: Callable[..., None]
    must_fire: tuple[Example, ...] = ()
    must_not_fire: tuple[Example, ...] = ()
    coverage: str = "full"
    coverage_note: str = ""
    # What the kernel reads from the bit columns, by name (indicators/inputs.py): each name
    # becomes a kernel argument after the parameters, in this order.
    reference_lists: tuple[str, ...] = field(default=())
    profile_facts: tuple[str, ...] = ()
    party_signals: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        if self.family not in FAMILIES:
            problems.append(f"family {self.family!r} not in {FAMILIES}")
        if self.status not in STATUSES:
            problems.append(f"status {self.status!r} not in {STATUSES}")
        if self.severity not in SEVERITIES:
            problems.append(f"severity {self.severity!r} not in {SEVERITIES}")
        if self.role_signal not in ROLE_SIGNALS:
            problems.append(f"role_signal {self.role_signal!r} not in {ROLE_SIGNALS}")
        known = BATCH_COLUMNS.keys() | PROFILE_COLUMNS.keys()
        problems += [f"unknown input column {name!r}" for name in self.inputs if name not in known]
        names = [p.name for p in self.params]
        if self.threshold_param not in names:
            problems.append(f"threshold_param {self.threshold_param!r} is not a parameter")
        for p in self.params:
            if not p.lo <= p.default <= p.hi:
                problems.append(
                    f"parameter {p.name!r} default {p.default} outside [{p.lo}, {p.hi}]"
                )
        if not self.sources:
            problems.append("no FINTRAC source items")
        if problems:
            raise SpecError(f"indicator {self.id}: " + "; ".join(problems))

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ParameterError(
            f"indicator {self.id} has no parameter {name!r}; valid: {[p.name for p in self.params]}"
        )

    def resolve_params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, float | int]:
        """Defaults updated with ``overrides``, each validated against its bounds."""
        overrides = dict(overrides or {})
        values = {}
        for p in self.params:
            values[p.name] = p.validate(self.id, overrides.pop(p.name, p.default))
        if overrides:
            raise ParameterError(
                f"indicator {self.id}: unknown parameter(s) {sorted(overrides)}; "
                f"valid: {[p.name for p in self.params]}"
            )
        return values

    @property
    def bit_inputs(self) -> tuple[tuple[str, str], ...]:
        """``(kind, name)`` of every declared bit input, in kernel-argument order."""
        return (
            *(("reference", n) for n in self.reference_lists),
            *(("profile", n) for n in self.profile_facts),
            *(("party", n) for n in self.party_signals),
        )

    @property
    def state_bytes_per_customer(self) -> int:
        return sum(s.bytes_per_customer for s in self.state)
