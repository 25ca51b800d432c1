"""One conformance suite for every indicator in the registry (STYLE item 12)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from engine.config import Settings
from engine.core.detector import Detector
from engine.core.state import PartitionState
from engine.crosscustomer.parties import PartyIndex, example_signals
from engine.errors import ConfigError
from indicators import catalogue
from indicators.columns import BATCH_COLUMNS, PROFILE_COLUMNS
from indicators.registry import PROFILE_REGISTRY, REGISTRY, allocate_state
from indicators.runner import run_indicator
from indicators.spec import ParameterError
from schemas import FAMILIES
from tests.helpers import run_rows

SPECS = list(REGISTRY.values())
IDS = [s.id for s in SPECS]


def only(spec) -> Detector:
    """A detector with just this indicator enabled, so the example tests it alone."""
    return Detector(Settings.build({"disabled_indicators": [i for i in REGISTRY if i != spec.id]}))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_metadata_is_complete(spec):
    assert re.match(r"^P[PK]-\d\d$", spec.id) and spec.title and len(spec.description) > 40
    assert spec.family in FAMILIES
    assert spec.sources and all(
        s.split()[0].startswith(("FINTRAC", "FIN-", "AUSTRAC")) for s in spec.sources
    )
    assert spec.false_positives and spec.required_fields and spec.params
    assert spec.must_fire and spec.must_not_fire
    assert re.match(r"^\d+[dh]\b", spec.window)
    assert spec.weight > 0


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_examples_fire_and_do_not_fire(spec):
    detector = only(spec)
    for example in spec.must_fire:
        result = run_example(example, detector)
        assert not result.dead, [d.reason for d in result.dead]
        assert result.fired[spec.id] > 0, f"{spec.id} must fire on {example.name!r}"
    for example in spec.must_not_fire:
        result = run_example(example, detector)
        assert not result.dead, [d.reason for d in result.dead]
        assert result.fired[spec.id] == 0, f"{spec.id} must not fire on {example.name!r}"


def run_example(example, detector):
    """The example alone: its own profile and the party-index entries it declares, nothing else."""
    detector.parties = PartyIndex()
    detector.parties.add_all(example_signals(example.parties))
    result, _, _ = run_rows(
        example.transactions, [example.profile] if example.profile else (), detector
    )
    return result


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_empty_batch_changes_nothing(spec):
    detector = only(spec)
    state = detector.new_state()
    before = {k: v.copy() for k, v in state.indicators[spec.id].items()}
    result = detector.process(state, [], [])
    assert result.transactions == 0 and not result.alerts
    for name, array in state.indicators[spec.id].items():
        np.testing.assert_array_equal(array, before[name])


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_all_missing_optional_columns(spec):
    """Rows with every optional field absent (NaN amounts, zero hashes) never fire or crash."""
    n = 50
    columns = {
        "cust": np.zeros(n, np.int64),
        "seq": np.arange(n, dtype=np.int64),
        "ts": np.arange(n, dtype=np.int64) * 3600 + 1_700_000_000,
        "local_day": np.full(n, 19_700, np.int32),
        "local_tod": np.full(n, 12 * 3600, np.int32),
        "txn_type": (np.arange(n) % 22).astype(np.int8),
        "channel": np.zeros(n, np.int8),
        "amount": np.full(n, np.nan),
        "balance": np.full(n, np.nan),
        "mcc": np.full(n, -1, np.int16),
        "city": np.zeros(n, np.int64),
        "province": np.zeros(n, np.int64),
        "location": np.zeros(n, np.int64),
        "merchant": np.zeros(n, np.int64),
        "counterparty": np.zeros(n, np.int64),
        "ref_flags": np.zeros(n, np.int64),
        "attempted": np.zeros(n, np.int8),
        "home_city": np.zeros(1, np.int64),
        "profile_flags": np.zeros(1, np.int64),
        "declared_income": np.full(1, np.nan),
    }
    for name, (dtype, missing, _) in {**BATCH_COLUMNS, **PROFILE_COLUMNS}.items():
        columns.setdefault(name, np.full(n if name in BATCH_COLUMNS else 1, missing, dtype=dtype))
    state = allocate_state(spec, 1)
    out = run_indicator(spec, columns, state, spec.resolve_params(), np.zeros(n, np.uint8))
    assert out.fired.sum() == 0


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_parameter_bounds_are_enforced(spec):
    param = spec.params[0]
    with pytest.raises(ParameterError, match=rf"{spec.id}.*{param.name}.*outside"):
        spec.resolve_params({param.name: param.hi + 1})
    with pytest.raises(ParameterError, match="unknown parameter"):
        spec.resolve_params({"no_such_parameter": 1})
    with pytest.raises(ConfigError, match=spec.id):
        Settings.build(
            {"indicator_params": {spec.id: {param.name: param.lo - 1}}}
        ).check_detection()


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_examples_are_deterministic_and_chunk_invariant(spec):
    rows = [r for ex in spec.must_fire for r in ex.transactions]
    rows = [dict(r, txn_id=f"R{i}") for i, r in enumerate(rows)]
    detector = only(spec)
    whole, _, _ = run_rows(rows, detector=detector)
    again, _, _ = run_rows(rows, detector=detector)
    assert whole.fired == again.fired
    state = detector.new_state()
    fired = 0
    for row in rows:  # one row per batch
        result, _, _ = run_rows([row], detector=detector, state=state)
        fired += result.fired[spec.id]
    assert fired == whole.fired[spec.id]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_state_save_restore_round_trip(spec, tmp_path):
    rows = [
        dict(r, txn_id=f"R{i}")
        for i, r in enumerate(r for ex in spec.must_fire for r in ex.transactions)
    ]
    detector = only(spec)
    straight, _, _ = run_rows(rows, detector=detector)
    half = len(rows) // 2
    first, state, _ = run_rows(rows[:half], detector=detector)
    state.prune(state.newest_event_ts(), 30 * 86_400)  # as every checkpoint does
    state.save(tmp_path / "p.ckpt", detector.config_hash)
    restored = PartitionState.load(tmp_path / "p.ckpt", detector.specs)
    for name, array in state.indicators[spec.id].items():
        np.testing.assert_array_equal(
            restored.indicators[spec.id][name][: len(state.customer_ids)],
            array[: len(state.customer_ids)],
        )
    second, _, _ = run_rows(rows[half:], detector=detector, state=restored)
    assert first.fired[spec.id] + second.fired.get(spec.id, 0) == straight.fired[spec.id]


# ----------------------------------------------------------------- profile rules and catalogue
PROFILE_SPECS = list(PROFILE_REGISTRY.values())


@pytest.mark.parametrize("spec", PROFILE_SPECS, ids=[s.id for s in PROFILE_SPECS])
def test_profile_rule_metadata_is_complete(spec):
    assert re.match(r"^P[PK]-\d\d$", spec.id) and spec.title and len(spec.description) > 40
    assert (
        spec.family in FAMILIES and spec.sources and spec.false_positives and spec.required_fields
    )
    assert spec.weight > 0


def test_every_fintrac_rule_id_is_listed_with_its_coverage():
    listed = catalogue.specs()
    assert set(catalogue.EXPECTED_IDS) <= set(listed)
    text = catalogue.catalogue_text()
    for rule_id in catalogue.EXPECTED_IDS:
        assert re.search(rf"^{rule_id} ", text, re.M), rule_id


def test_catalogue_page_is_up_to_date():
    page = Path(__file__).parent.parent / "docs" / "catalogue.md"
    assert (
        page.read_text() == catalogue.catalogue_markdown()
    ), "run `protect indicators --markdown > docs/catalogue.md`"
