"""Tuning: sweep parsing and validation, weight overrides, and a tiny sweep that writes a TOML
file ``Settings.load`` accepts. Uses the shared small generated data set."""

from __future__ import annotations

import dataclasses
import json

import pytest

from engine.config import ConstellationSettings, Settings
from engine.core.constellation import Constellation
from engine.errors import ConfigError
from engine.tools.backtest import DecodedInput, backtest
from engine.tools.cli import main
from engine.tools.tune import apply, choose, parse_sweep, settings_grid, settings_toml
from indicators import registry
from tests.helpers import comparable


def test_parse_sweep():
    assert parse_sweep("constellation.score_threshold=6,7.5, 9") == (
        "constellation.score_threshold",
        [6, 7.5, 9],
    )
    assert parse_sweep("PP-16.min_senders=4,5") == ("PP-16.min_senders", [4, 5])
    for bad in ("PP-16.min_senders", "=1,2", "PP-16.min_senders=four"):
        with pytest.raises(ConfigError, match="--sweep"):
            parse_sweep(bad)


def test_apply_validates_every_key():
    base = Settings()
    s = apply(
        base,
        {
            "constellation.score_threshold": 7,
            "PP-16.min_senders": 4,
            "constellation.weights.FUNNEL": 3,
            "indicators.PP-01.min_payments": 2,
        },
    )
    assert s.constellation.score_threshold == 7.0 and isinstance(
        s.constellation.score_threshold, float
    )
    assert s.indicator_params["PP-16"] == {"min_senders": 4}
    assert s.indicator_params["PP-01"] == {"min_payments": 2}
    assert s.constellation.weights == {"FUNNEL": 3.0}
    assert base.indicator_params == {}  # the base is untouched
    with pytest.raises(ConfigError, match="min_senders"):
        apply(base, {"PP-16.min_senders": 99})
    with pytest.raises(ConfigError, match="unknown key"):
        apply(base, {"PP-99.x": 1})
    with pytest.raises(ConfigError, match="unknown indicator or family"):
        apply(base, {"constellation.weights.NOPE": 1})


def test_grid_and_one_at_a_time():
    sweeps = [("a", [1, 2]), ("b", [3, 4, 5])]
    assert len(settings_grid(sweeps, "grid")) == 6
    one = settings_grid(sweeps, "one-at-a-time")
    assert one[0] == {} and {"b": 5} in one and len(one) == 6
    with pytest.raises(ConfigError, match="twice"):
        settings_grid([("a", [1]), ("a", [2])])


def test_choose_highest_recall_within_the_budget():
    rows = [
        {"recall": 0.95, "falsely_alerted_per_10k": 30.0, "alerts": 90, "role_accuracy": 0.7},
        {"recall": 0.91, "falsely_alerted_per_10k": 9.0, "alerts": 60, "role_accuracy": 0.7},
        {"recall": 0.91, "falsely_alerted_per_10k": 6.0, "alerts": 55, "role_accuracy": 0.7},
        {"recall": 0.80, "falsely_alerted_per_10k": 2.0, "alerts": 40, "role_accuracy": 0.7},
    ]
    assert choose(rows, 10.0) == (2, True)
    assert choose(rows, 1.0) == (3, False)  # nothing meets it: the fewest false alerts


def test_weight_overrides_reach_the_constellation_and_load_from_toml(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text(
        "[constellation]\nscore_threshold = 9.0\n[constellation.weights]\nPP-16 = 4.0\nADV = 1.0\n"
    )
    settings = Settings.load(path, env={})
    assert settings.constellation.weights == {"PP-16": 4.0, "ADV": 1.0}
    specs = registry.select(None)
    built = Constellation.build(specs, settings.constellation)
    index = {s.id: k for k, s in enumerate(specs)}
    assert built.weights[index["PP-16"]] == 4.0
    assert built.weights[index["PP-01"]] == 1.0  # by family
    assert built.weights[index["PP-12"]] == registry.get("PP-12").weight
    path.write_text("[constellation.weights]\nPP-16 = 40.0\n")
    with pytest.raises(ConfigError, match=r"constellation.weights.PP-16.*outside"):
        Settings.load(path, env={})
    assert Settings().config_hash("r") != settings.config_hash("r")


def test_settings_toml_round_trip(tmp_path):
    s = Settings.build(
        {
            "disabled_indicators": ["PP-31"],
            "indicator_params": {"PP-16": {"min_senders": 6}},
            "constellation": {"score_threshold": 9.5, "min_families": 4, "weights": {"PK-03": 1.5}},
        }
    )
    path = tmp_path / "tuned.toml"
    path.write_text(settings_toml(s, ["header"]))
    again = Settings.load(path, env={})
    assert again.detection_dict() == s.detection_dict()
    assert again.disabled_indicators == ("PP-31",)


def test_cached_detection_equals_the_backtest(small_dataset):
    """Decode once, detect under another setting: the same alerts as a full backtest."""
    other = dataclasses.replace(
        Settings(),
        cross_customer=False,
        constellation=ConstellationSettings(score_threshold=6.0, min_families=2),
    )
    decoded = DecodedInput.load(
        small_dataset / "transactions.jsonl", small_dataset / "profiles.jsonl", Settings()
    )
    cached, _ = decoded.run(other)
    full, _ = backtest(
        small_dataset / "transactions.jsonl", small_dataset / "profiles.jsonl", other, chunk=4096
    )
    assert cached.alerts and comparable(cached.alerts) == comparable(full.alerts)
    assert cached.transactions == full.transactions
    assert decoded.days() == 30


def test_tiny_sweep_writes_settings_the_worker_accepts(small_dataset, tmp_path, capsys):
    out, report = tmp_path / "tuned.toml", tmp_path / "tune"
    code = main(
        [
            "tune",
            "--transactions",
            str(small_dataset / "transactions.jsonl"),
            "--profiles",
            str(small_dataset / "profiles.jsonl"),
            "--labels",
            str(small_dataset / "labels.csv"),
            "--sweep",
            "constellation.score_threshold=7,10",
            "--sweep",
            "PP-16.min_senders=4,6",
            "--out",
            str(out),
            "--report",
            str(report),
            "--quiet",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "recall" in text and "◀ chosen" in text
    tuned = Settings.load(out, env={})
    assert tuned.constellation.score_threshold in (7.0, 10.0)
    assert tuned.indicator_params["PP-16"]["min_senders"] in (4, 6)
    saved = json.loads((report / "tune.json").read_text())
    assert len(saved["rows"]) == 4 and (report / "evaluation.html").is_file()
    assert out.read_text().startswith("# protect tune: chosen")
