"""The backtest over files: Parquet gives the same alerts as JSONL; contract JSON from frames."""

from __future__ import annotations

import datetime as dt

import msgspec
import polars as pl

from engine.config import Settings
from engine.tools.backtest import backtest, contract_json_lines, count_rows, write_parquet
from engine.tools.cli import main
from schemas import Transaction
from tests.helpers import comparable


def test_parquet_gives_the_same_alerts_as_jsonl(small_dataset, tmp_path):
    settings = Settings()
    txns, profiles = tmp_path / "transactions.parquet", tmp_path / "profiles.parquet"
    assert write_parquet(small_dataset / "transactions.jsonl", txns) == count_rows(
        small_dataset / "transactions.jsonl"
    )
    write_parquet(small_dataset / "profiles.jsonl", profiles, "profiles")
    from_jsonl, _ = backtest(
        small_dataset / "transactions.jsonl", small_dataset / "profiles.jsonl", settings, chunk=5000
    )
    from_parquet, _ = backtest(txns, profiles, settings, chunk=5000)
    assert from_jsonl.alerts and comparable(from_parquet.alerts) == comparable(from_jsonl.alerts)
    assert from_parquet.transactions == from_jsonl.transactions and not from_parquet.dead


def test_per_customer_detection_does_not_depend_on_chunk_size(small_dataset):
    # The party index learns between chunks (as the stream's does between batches), so only
    # detection without the cross-customer stage is chunk-invariant.
    settings = Settings.build({"cross_customer": False})
    big, _ = backtest(
        small_dataset / "transactions.jsonl", small_dataset / "profiles.jsonl", settings
    )
    small, _ = backtest(
        small_dataset / "transactions.jsonl", small_dataset / "profiles.jsonl", settings, chunk=3000
    )
    assert big.alerts and comparable(small.alerts) == comparable(big.alerts)


def test_cli_backtest_writes_contract_alerts(small_dataset, tmp_path, capsys):
    out = tmp_path / "alerts.jsonl"
    assert (
        main(
            [
                "backtest",
                "--transactions",
                str(small_dataset / "transactions.jsonl"),
                "--profiles",
                str(small_dataset / "profiles.jsonl"),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    lines = out.read_bytes().splitlines()
    assert lines and f"{len(lines):,} alerts" in capsys.readouterr().out
    assert msgspec.json.decode(lines[0])["ppp_code"] == "PROTECT"


def test_contract_json_from_a_frame():
    """Nulls are left out; a zoned datetime keeps its offset; an integer MCC gets 4 digits."""
    zone = dt.timezone(dt.timedelta(hours=-5))
    frame = pl.DataFrame(
        {
            "txn_id": ["T1", "T2"],
            "re_id": ["RE", "RE"],
            "customer_id": ["C1", "C1"],
            "account_id": ["A", "A"],
            "ts": [
                dt.datetime(2026, 1, 14, 23, 41, 7, tzinfo=zone),
                dt.datetime(2026, 1, 15, 1, 0, tzinfo=zone),
            ],
            "txn_type": ["purchase", "cash_deposit"],
            "channel": ["pos", "atm"],
            "amount": [12.5, 200.0],
            "currency": ["CAD", "CAD"],
            "mcc": [742, None],
            "memo": [None, 'say "hi",null'],
            "attempted": [None, True],
        }
    ).with_columns(pl.col("ts").dt.convert_time_zone("America/Toronto"))
    lines = contract_json_lines(frame)
    rows = [msgspec.json.decode(line, type=Transaction) for line in lines]
    assert rows[0].mcc == "0742" and rows[0].memo is None and rows[0].attempted is False
    assert b"null" not in lines[0]
    assert rows[0].ts.isoformat() == "2026-01-14T23:41:07-05:00"
    assert rows[1].memo == 'say "hi",null' and rows[1].attempted is True
    naive = frame.with_columns(pl.col("ts").dt.replace_time_zone(None))
    assert b"-05:00" not in contract_json_lines(naive)[0]  # no offset: the decoder dead-letters it
