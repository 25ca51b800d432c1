"""numba policy, in one place (STYLE item 4).

Every kernel and helper is compiled the same way: nopython, no GIL (the engine runs
batches on a worker thread while the event loop keeps serving heartbeats and /metrics),
cached on disk so a restart does not recompile. Kernels are compiled eagerly at
start-up by :func:`indicators.registry.warm_up` so the first Kafka batch pays no JIT pause.
Argument checks live in the Python wrappers, never in kernels.

For the type checker each decorator returns the function it decorates, so a kernel keeps
its annotated signature (numba ignores annotations: it types arguments from the values of
the first call). At run time the result is a numba dispatcher, which is called the same
way; code that needs the dispatcher itself (``py_func``) reads it with ``getattr``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

F = TypeVar("F", bound=Callable[..., Any])

Int64 = int | np.int64
"""An int64 scalar outside an array (an event time, a ref, a key, a window width): a Python
int, or an ``np.int64`` such as ``EMPTY_TS`` or a kernel's ``np.int64(days * DAY)``. numba
types both as int64. (numpy's stubs type an array element as ``Any``.)"""


def _njit(**options: Any) -> Callable[[F], F]:
    return cast("Callable[[F], F]", numba.njit(**options))


kernel = _njit(cache=True, nogil=True, fastmath=False, boundscheck=False)
"""Decorator for a whole-batch kernel: rows in order, state arrays updated in place."""

helper = _njit(cache=True, nogil=True, inline="always")
"""Decorator for small functions that kernels call per row (window rings, tables)."""

cold = _njit(cache=True, nogil=True)
"""Decorator for helpers that run only on the rows that fire (evidence selection): a call,
not inlined, so the kernels' per-row loops stay small (inlined, the evidence selector made
some kernels up to a fifth slower on rows that never reach it)."""
