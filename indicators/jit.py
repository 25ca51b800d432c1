"""numba policy, in one place (STYLE item 4).

Every kernel and helper is compiled the same way: nopython, no GIL (the engine runs
batches on a worker thread while the event loop keeps serving heartbeats and /metrics),
cached on disk so a restart does not recompile. Kernels are compiled eagerly at
start-up by :func:`indicators.registry.warm_up` so the first Kafka batch pays no JIT pause.
Argument checks live in the Python wrappers, never in kernels.
"""

from __future__ import annotations

import numba

kernel = numba.njit(cache=True, nogil=True, fastmath=False, boundscheck=False)
"""Decorator for a whole-batch kernel: rows in order, state arrays updated in place."""

helper = numba.njit(cache=True, nogil=True, inline="always")
"""Decorator for small functions that kernels call per row (window rings, tables)."""

cold = numba.njit(cache=True, nogil=True)
"""Decorator for helpers that run only on the rows that fire (evidence selection): a call,
not inlined, so the kernels' per-row loops stay small (inlined, the evidence selector made
some kernels up to a fifth slower on rows that never reach it)."""
