# Two commands (README): `make demo` installs everything into .venv and runs the demo;
# `make test` runs the test suite (CI calls it through .ci/run).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test check lint typecheck bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,bench,dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/protect demo

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m benchmarks.run_all

# `make check`: what a change must pass before it lands (.ci/run runs it before the suite).
SOURCES := engine indicators schemas tests benchmarks
# mypy --strict on the core, the cross-customer index, the contract and the rule framework
# (pyproject.toml [tool.mypy] has the settings). --cache-dir=/dev/null: with
# orjson installed mypy's cache writer rejects the FNV constants (> 2**63) in engine/core/hashing.py.
# The rule framework is strict; the kernels and window helpers (numba functions over arrays,
# not yet annotated) are not in the list yet.
TYPED_INDICATORS := $(addprefix indicators/,__init__.py catalogue.py checks.py columns.py \
	examples.py jit.py profile_rules.py profile_spec.py spec.py)
TYPED := engine/core engine/crosscustomer schemas $(TYPED_INDICATORS)
check: lint typecheck
	$(PY) -m pytest -q -m "not integration"

lint: $(STAMP)
	$(VENV)/bin/ruff check $(SOURCES)
	$(VENV)/bin/ruff format --check $(SOURCES)

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict --cache-dir=/dev/null $(TYPED)

clean:
	rm -rf $(VENV) out state .pytest_cache .hypothesis
