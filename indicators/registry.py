"""Discover indicator modules and hold their specs (STYLE item 1: found, not listed).

Any module whose name starts with ``pp`` or ``pk`` and a two-digit number, in this package
or in a package named by the ``PROTECT_RULE_PACKAGES`` environment variable (comma
separated, importable module names), must define ``SPEC`` (an :class:`IndicatorSpec` with
a kernel, or a :class:`ProfileRuleSpec`); adding an indicator touches one file. A spec that
breaks a rule of :mod:`indicators.checks` (a duplicate id, kernel arguments out of spec
order, a bound its ring cannot hold, more than 64 masks bits) fails at import.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import pkgutil
import re
from collections.abc import Iterable

import numpy as np

from indicators import checks, inputs
from indicators.profile_spec import ProfileRuleSpec
from indicators.spec import IndicatorSpec, SpecError

_MODULE_NAME = re.compile(r"^p[pk]\d\d_")
RULE_PACKAGES_ENV = "PROTECT_RULE_PACKAGES"


def rule_packages() -> tuple[str, ...]:
    """``indicators`` and the extra rule packages the environment names, in that order."""
    extra = [name.strip() for name in os.environ.get(RULE_PACKAGES_ENV, "").split(",")]
    return ("indicators", *(name for name in extra if name and name != "indicators"))


def _rule_modules(package_name: str) -> Iterable[str]:
    try:
        package = importlib.import_module(package_name)
    except ImportError as exc:
        raise SpecError(
            f"{RULE_PACKAGES_ENV}: cannot import rule package {package_name!r}: {exc}"
        ) from exc
    names = sorted(info.name for info in pkgutil.iter_modules(getattr(package, "__path__", [])))
    yield from (f"{package_name}.{name}" for name in names if _MODULE_NAME.match(name))


Specs = tuple[dict[str, IndicatorSpec], dict[str, ProfileRuleSpec]]


def _discover(packages: Iterable[str]) -> Specs:
    kernels: dict[str, IndicatorSpec] = {}
    profile: dict[str, ProfileRuleSpec] = {}
    for module_name in (m for p in packages for m in _rule_modules(p)):
        spec = getattr(importlib.import_module(module_name), "SPEC", None)
        if not isinstance(spec, IndicatorSpec | ProfileRuleSpec):
            raise SpecError(f"{module_name} defines no SPEC (IndicatorSpec or ProfileRuleSpec)")
        checks.check_unique_id(spec.id, kernels.keys() | profile.keys(), module_name)
        if isinstance(spec, IndicatorSpec):
            checks.check_kernel_arguments(spec, bit_arguments(spec))
            checks.check_capacities(spec)
            kernels[spec.id] = spec
        else:
            profile[spec.id] = spec
    checks.check_mask_limit("kernel indicators", kernels)
    return dict(sorted(kernels.items())), dict(sorted(profile.items()))


def bit_arguments(spec: IndicatorSpec) -> list[str]:
    """Names of the kernel arguments that carry the spec's declared bits."""
    return [inputs.argument_name(kind, name) for kind, name in spec.bit_inputs]


def _layout(kernels: Iterable[IndicatorSpec], profile: Iterable[ProfileRuleSpec]) -> inputs.Layout:
    declared: list[tuple[str, tuple[str, ...]]] = [
        (kind, (name,)) for spec in kernels for kind, name in spec.bit_inputs
    ]
    declared += [("profile", spec.facts) for spec in profile]
    layout = inputs.allocate(declared)
    for kind in inputs.KINDS:
        checks.check_mask_limit(f"{kind} inputs", layout.names(kind))
    return layout


REGISTRY, PROFILE_REGISTRY = _discover(rule_packages())
"""Rules with kernels (every PP rule, and PK-07); profile-fact rules (the other PK rules)."""

LAYOUT = _layout(REGISTRY.values(), PROFILE_REGISTRY.values())
"""The bit of every reference list, profile fact and party signal a rule declares."""

PROFILE_REGISTRY = {  # each profile rule with the bits of its facts
    i: dataclasses.replace(s, flag_bit=LAYOUT.mask("profile", s.facts))
    for i, s in PROFILE_REGISTRY.items()
}


def bit_values(spec: IndicatorSpec) -> list[int]:
    """The kernel's bit arguments under :data:`LAYOUT`, in argument order."""
    return [LAYOUT.bit(kind, name) for kind, name in spec.bit_inputs]


def get(indicator_id: str) -> IndicatorSpec:
    try:
        return REGISTRY[indicator_id]
    except KeyError:
        raise SpecError(f"unknown indicator {indicator_id!r}; known: {list(REGISTRY)}") from None


def bit(indicator_id: str) -> int:
    """The indicator's bit in 64-bit masks (position in the sorted registry)."""
    return 1 << list(REGISTRY).index(indicator_id)


def select(ids: Iterable[str] | None) -> list[IndicatorSpec]:
    """Specs for ``ids`` (all when None), in registry order."""
    if ids is None:
        return list(REGISTRY.values())
    wanted = set(ids)
    unknown = wanted - REGISTRY.keys()
    if unknown:
        raise SpecError(f"unknown indicator(s) {sorted(unknown)}; known: {list(REGISTRY)}")
    return [s for i, s in REGISTRY.items() if i in wanted]


def allocate_state(spec: IndicatorSpec, customers: int) -> dict[str, np.ndarray]:
    """Fresh state arrays for ``customers`` slots, filled with each array's initial value."""
    return {s.name: np.full((customers, *s.tail), s.fill, dtype=s.dtype) for s in spec.state}
