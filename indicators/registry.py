"""Discover indicator modules and hold their specs (STYLE item 1: found, not listed).

Any module in this package whose name starts with ``pp`` or ``pk`` and a two-digit number
must define ``SPEC``; adding an indicator touches one file. A duplicate id fails at import.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable

import numpy as np

import indicators
from indicators.spec import IndicatorSpec, SpecError

_MODULE_NAME = re.compile(r"^p[pk]\d\d_")


def _discover() -> dict[str, IndicatorSpec]:
    found: dict[str, IndicatorSpec] = {}
    for info in pkgutil.iter_modules(indicators.__path__):
        if not _MODULE_NAME.match(info.name):
            continue
        module = importlib.import_module(f"indicators.{info.name}")
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, IndicatorSpec):
            raise SpecError(f"indicators.{info.name} defines no SPEC of type IndicatorSpec")
        if spec.id in found:
            raise SpecError(f"duplicate indicator id {spec.id} in indicators.{info.name}")
        found[spec.id] = spec
    return dict(sorted(found.items()))


REGISTRY: dict[str, IndicatorSpec] = _discover()


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
