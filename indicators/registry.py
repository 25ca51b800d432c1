"""Discover indicator modules and hold their specs (STYLE item 1: found, not listed).

Any module in this package whose name starts with ``pp`` or ``pk`` and a two-digit number
must define ``SPEC`` (an :class:`IndicatorSpec` with a kernel, or a :class:`ProfileRuleSpec`);
adding an indicator touches one file. A duplicate id fails at import.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable

import numpy as np

import indicators
from indicators.profile_spec import ProfileRuleSpec
from indicators.spec import IndicatorSpec, SpecError

_MODULE_NAME = re.compile(r"^p[pk]\d\d_")


def _discover() -> tuple[dict[str, IndicatorSpec], dict[str, ProfileRuleSpec]]:
    kernels: dict[str, IndicatorSpec] = {}
    profile: dict[str, ProfileRuleSpec] = {}
    for info in pkgutil.iter_modules(indicators.__path__):
        if not _MODULE_NAME.match(info.name):
            continue
        module = importlib.import_module(f"indicators.{info.name}")
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, IndicatorSpec | ProfileRuleSpec):
            raise SpecError(f"indicators.{info.name} defines no SPEC (IndicatorSpec or ProfileRuleSpec)")
        if spec.id in kernels or spec.id in profile:
            raise SpecError(f"duplicate indicator id {spec.id} in indicators.{info.name}")
        (kernels if isinstance(spec, IndicatorSpec) else profile)[spec.id] = spec  # type: ignore[index]
    return dict(sorted(kernels.items())), dict(sorted(profile.items()))


REGISTRY, PROFILE_REGISTRY = _discover()
"""Rules with kernels (every PP rule, and PK-07); profile-fact rules (the other PK rules)."""


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
    return {
        s.name: np.full((customers, *s.tail), s.fill, dtype=s.dtype) for s in spec.state
    }
