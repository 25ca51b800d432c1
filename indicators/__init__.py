"""Project Protect indicators: one module per rule, each a spec and a numba kernel.

Kernels never touch Kafka, JSON or files; see :mod:`indicators.spec` for the calling
convention and :mod:`indicators.registry` for discovery.
"""
