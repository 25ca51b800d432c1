"""Rules every rule module obeys, checked by the registry at import: a bad spec never loads.

Each check raises :class:`SpecError` naming the rule it enforces, the indicator and the
offending values, so whoever adds a rule learns what to fix without reading the engine:

* ``unique id``: two modules may not claim one id;
* ``kernel arguments in spec order``: the kernel's parameters are exactly what
  :func:`indicators.runner.run_indicator` passes (inputs, state, parameters, input bits,
  outputs), by name, so a reordered spec cannot silently feed a column to the wrong argument;
* ``capacity``: a parameter's upper bound fits the state array that holds what it counts;
* ``64-bit masks``: indicator masks and each bit column hold at most 63 names (int64).
"""

from __future__ import annotations

import inspect
from collections.abc import Collection, Iterable

from indicators.spec import IndicatorSpec, SpecError

KERNEL_OUTPUTS = ("fired", "observed", "evidence", "touched")
MASK_BITS = 63  # masks and bit columns are int64: bit 63 is the sign


def check_unique_id(rule_id: str, known: Collection[str], module: str) -> None:
    if rule_id in known:
        raise SpecError(f"rule 'unique id': indicator {rule_id} in {module} is already defined")


def expected_kernel_arguments(spec: IndicatorSpec, bit_arguments: Iterable[str] = ()) -> list[str]:
    """The kernel's parameter names, in the order the runner passes them."""
    return [
        *spec.inputs,
        *(s.name for s in spec.state),
        *(p.name for p in spec.params),
        *bit_arguments,
        *KERNEL_OUTPUTS,
    ]


def check_kernel_arguments(spec: IndicatorSpec, bit_arguments: Iterable[str] = ()) -> None:
    function = getattr(spec.kernel, "py_func", spec.kernel)  # numba keeps the Python function
    got = list(inspect.signature(function).parameters)
    expected = expected_kernel_arguments(spec, bit_arguments)
    if got == expected:
        return
    at = next(
        (i for i, (g, e) in enumerate(zip(got, expected, strict=False)) if g != e),
        min(len(got), len(expected)),
    )
    raise SpecError(
        f"rule 'kernel arguments in spec order': indicator {spec.id}, kernel "
        f"{function.__name__}: argument {at} is {_at(got, at)}, the runner passes "
        f"{_at(expected, at)} (expected inputs, state, params, input bits, then outputs: "
        f"{expected})"
    )


def _at(names: list[str], i: int) -> str:
    return repr(names[i]) if i < len(names) else "nothing"


def check_capacities(spec: IndicatorSpec) -> None:
    arrays = {s.name: s for s in spec.state}
    for p in spec.params:
        if not p.capacity:
            continue
        array = arrays.get(p.capacity)
        if array is None or not array.tail:
            raise SpecError(
                f"rule 'capacity': indicator {spec.id}, parameter {p.name!r} names capacity "
                f"{p.capacity!r}, which is not a state array with slots; arrays: {list(arrays)}"
            )
        if p.hi + p.spare > array.tail[0]:
            raise SpecError(
                f"rule 'capacity': indicator {spec.id}, parameter {p.name!r} allows up to "
                f"{p.hi:g} (+{p.spare} spare) but state array {p.capacity!r} holds "
                f"{array.tail[0]}: raise the array's size or lower the bound"
            )


def check_mask_limit(what: str, names: Collection[str]) -> None:
    if len(names) > MASK_BITS:
        raise SpecError(
            f"rule '64-bit masks': {len(names)} {what} do not fit in one int64 mask "
            f"(at most {MASK_BITS}): {sorted(names)}"
        )
