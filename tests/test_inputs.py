"""The engine sets the bit columns from the layout the registry allocated, and refuses a
layout it cannot honour: a declared name nothing sets, a checkpoint from another layout."""

from __future__ import annotations

import pytest

from engine.config import Settings
from engine.core import detector as detector_module
from engine.core import state as state_module
from engine.core.columnar import decode_transactions
from engine.core.detector import Detector
from engine.core.kernel_columns import transaction_columns
from engine.core.state import PartitionState, check_profile_facts
from engine.errors import CheckpointError, ConfigError
from indicators import inputs, registry
from tests.bits import REF_ESCORT_AD
from tests.helpers import messages, run_rows

RENAMED = inputs.allocate([("profile", ("travel_occupation", "entity"))])


def test_a_profile_fact_nothing_sets_is_refused(monkeypatch) -> None:
    layout = inputs.allocate([("profile", ("entity", "horoscope"))])
    monkeypatch.setattr(state_module, "LAYOUT", layout)
    with pytest.raises(ConfigError, match=r"profile facts the engine never sets: \['horoscope'\]"):
        check_profile_facts()


def test_a_party_signal_nothing_announces_is_refused(monkeypatch) -> None:
    layout = inputs.allocate([("party", ("adv_lodge", "telepathy"))])
    monkeypatch.setattr(registry, "LAYOUT", layout)
    with pytest.raises(
        ConfigError, match=r"party signals the engine never announces: " r"\['telepathy'\]"
    ):
        detector_module._cp_bits()


def test_a_checkpoint_from_another_layout_is_refused(tmp_path, monkeypatch) -> None:
    detector = Detector(Settings())
    state = detector.new_state()
    state.save(tmp_path / "p.ckpt", detector.config_hash)
    PartitionState.load(tmp_path / "p.ckpt", detector.specs)  # same layout: fine
    monkeypatch.setattr(state_module, "LAYOUT", RENAMED)
    with pytest.raises(CheckpointError, match=r"written with profile facts \['entity'"):
        PartitionState.load(tmp_path / "p.ckpt", detector.specs)


def test_reference_matches_set_the_declared_bit() -> None:
    row = {
        "txn_id": "T1",
        "re_id": "RE",
        "ts": "2026-03-02T12:00:00-05:00",
        "customer_id": "C1",
        "account_id": "A1",
        "txn_type": "purchase",
        "channel": "ecom",
        "amount": 45.0,
        "currency": "CAD",
        "merchant_name": "LEOLIST FEATURED AD",
    }
    detector = Detector(Settings())
    decoded = decode_transactions(messages([row]))
    columns = transaction_columns(decoded, detector.reference)
    assert columns["ref_flags"][0] & REF_ESCORT_AD
    assert registry.LAYOUT.bit("reference", "escort_ad_platforms") == REF_ESCORT_AD
    run_rows([row], detector=detector)  # and the kernels accept the columns


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"PK\x03\x04 not a checkpoint",  # not a zip archive
        lambda data: data[: len(data) // 2],  # cut off mid-write by a full disk
        lambda data: b"",
    ],
    ids=["garbage", "truncated", "empty"],
)
def test_a_damaged_checkpoint_is_a_checkpoint_error(tmp_path, damage) -> None:
    """Whatever is wrong with the file, the worker gets one exception it knows how to
    handle (rebuild or refuse), never a zipfile or numpy error that crash-loops it."""
    detector = Detector(Settings())
    state = detector.new_state()
    path = tmp_path / "p.ckpt"
    state.save(path, detector.config_hash)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError, match="checkpoint .* (cannot be read|is incomplete)"):
        PartitionState.load(path, detector.specs)
