"""Every kernel in the registry against its slow plain-Python oracle and in chunks (STYLE
items 12 and 13): one generic suite over the rule families in ``tests/rules/``.

Each family module ``tests/rules/test_<family>.py`` keeps its rules' oracles and hypothesis
cases next to its own scenarios, and exports what this suite runs:

* ``ORACLES``: rule id -> oracle (columns, params) -> rows, the reference the kernel must
  equal below ring capacity (same rows fire, same observed value, same evidence);
* ``draw_oracle_case(spec_id, data)`` -> (columns, params), and ``ORACLE_SETTINGS``;
* ``draw_chunk_case(spec_id, data)`` -> (columns, params, chunk bounds), and
  ``CHUNK_SETTINGS``: one batch must equal the same rows in chunks, state carried;
* optionally ``check_output(spec_id, columns, params, out)``, for what an oracle does not
  compare.

A kernel the families do not cover fails here: adding a rule means adding its oracle.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicators import registry
from tests.kernel_harness import (
    assert_chunk_invariant,
    assert_empty_batch_fires_nothing,
    assert_matches_oracle,
    note_firing,
)

RULES_DIR = Path(__file__).parent / "rules"
HOOKS = ("ORACLES", "ORACLE_SETTINGS", "CHUNK_SETTINGS", "draw_oracle_case", "draw_chunk_case")


def _families() -> dict[str, ModuleType]:
    """Rule id -> the family module that holds its oracle."""
    owners: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules([str(RULES_DIR)]), key=lambda i: i.name):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"tests.rules.{info.name}")
        missing = [h for h in HOOKS if not hasattr(module, h)]
        assert not missing, f"tests/rules/{info.name}.py lacks {missing}"
        for spec_id in module.ORACLES:
            assert spec_id not in owners, f"{spec_id} has oracles in two families"
            owners[spec_id] = module
    return owners


FAMILY = _families()
KERNEL_IDS = list(registry.REGISTRY)


def _family(spec_id: str) -> ModuleType:
    if spec_id not in FAMILY:
        pytest.fail(f"{spec_id} has no oracle: add it, and its cases, to a tests/rules/ family")
    return FAMILY[spec_id]


def test_every_kernel_has_an_oracle() -> None:
    assert sorted(set(registry.REGISTRY) - set(FAMILY)) == []
    assert sorted(set(FAMILY) - set(registry.REGISTRY)) == []


@pytest.mark.parametrize("spec_id", KERNEL_IDS)
def test_kernel_matches_oracle(spec_id: str) -> None:
    family = _family(spec_id)
    check = getattr(family, "check_output", None)

    @family.ORACLE_SETTINGS
    @given(data=st.data())
    def matches(data: st.DataObject) -> None:
        columns, params = family.draw_oracle_case(spec_id, data)
        out = assert_matches_oracle(spec_id, columns, params, family.ORACLES[spec_id])
        if check is not None:
            check(spec_id, columns, params, out)
        note_firing(out)

    matches()


@pytest.mark.parametrize("spec_id", KERNEL_IDS)
def test_chunked_run_equals_whole_run(spec_id: str) -> None:
    family = _family(spec_id)
    spec = registry.get(spec_id)

    @family.CHUNK_SETTINGS
    @given(data=st.data())
    def chunked(data: st.DataObject) -> None:
        columns, params, bounds = family.draw_chunk_case(spec_id, data)
        assert_chunk_invariant(spec, columns, params, bounds)

    chunked()


@pytest.mark.parametrize("spec_id", KERNEL_IDS)
def test_empty_batch_fires_nothing(spec_id: str) -> None:
    assert_empty_batch_fires_nothing(registry.get(spec_id))
