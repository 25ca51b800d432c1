"""Decoded rows → the kernels' batch columns (``indicators.columns.BATCH_COLUMNS``), vectorised.

Codes come by lookup, money and times by casts, reference flags by polars' string search.
Identifiers are hashed with :mod:`engine.core.hashing`: a plain id column in one pass over
its Arrow buffers (:func:`~engine.core.hashing.hash_column`); an id that needs normalising
in Python first (a city, a merchant descriptor, a counterparty's key) once per *distinct*
value in the batch, spread back (:mod:`engine.core.distinct`), so the Python work grows with
the distinct values, not with the rows.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engine.core.columnar import DecodedTransactions
from engine.core.distinct import per_distinct
from engine.core.hashing import contact_key, hash_column, place_key, stable_hash
from engine.core.reference import MATCHABLE_FIELDS, ReferenceLists
from indicators.columns import CHANNEL_CODE, TXN_CODE
from indicators.registry import LAYOUT
from indicators.vocabulary import counterparty_key_text

_NAN = float("nan")


def transaction_columns(
    decoded: DecodedTransactions, reference: ReferenceLists
) -> dict[str, np.ndarray]:
    """Kernel columns except ``cust``, which the state assigns."""
    frame = decoded.frame
    ts = frame["_ts"].to_numpy().astype(np.int64, copy=False)
    local = ts + frame["_utc_offset"].to_numpy().astype(np.int64)
    ref_flags = reference.flags(frame.select(MATCHABLE_FIELDS))
    white_label = (frame["terminal_owner"] == "white_label").fill_null(False).to_numpy()
    ref_flags = ref_flags | np.where(
        white_label, np.int64(LAYOUT.bit("reference", "white_label_atms")), 0
    )
    derived = frame.select(
        pl.col("txn_type").replace_strict(TXN_CODE, return_dtype=pl.Int8).alias("txn_type"),
        pl.col("channel").replace_strict(CHANNEL_CODE, return_dtype=pl.Int8).alias("channel"),
        pl.when(pl.col("currency") == "CAD")
        .then(pl.col("amount"))
        .otherwise(pl.col("amount_cad"))
        .cast(pl.Float64)
        .fill_null(_NAN)
        .alias("amount"),
        pl.col("balance_after").cast(pl.Float64).fill_null(_NAN).alias("balance"),
        pl.col("mcc").cast(pl.Int16).fill_null(-1).alias("mcc"),
        pl.col("attempted").fill_null(False).cast(pl.Int8).alias("attempted"),
        _foreign().cast(pl.Int8).alias("foreign"),
    )
    columns = {name: derived[name].to_numpy() for name in derived.columns}
    return {
        "seq": decoded.offsets.astype(np.int64, copy=False),
        "ts": ts,
        "local_day": (local // 86_400).astype(np.int32),
        "local_tod": (local % 86_400).astype(np.int32),
        **columns,
        "city": per_distinct(frame, ("city", "province"), _place_hash),
        "province": per_distinct(frame, ("province",), _province_hash),
        "location": hash_column(frame["location_id"]),
        "merchant": per_distinct(frame, ("merchant_id", "merchant_name"), _merchant_hash),
        "counterparty": per_distinct(
            frame,
            ("counterparty_id", "counterparty_email", "counterparty_phone", "counterparty_name"),
            _counterparty_hash,
        ),
        "ref_flags": ref_flags,
        "account": hash_column(frame["account_id"]),
        "card": hash_column(frame["card_id"]),
        "device": hash_column(frame.select(_device()).to_series()),
        "txn_key": hash_column(frame["txn_id"]),
        "linked": hash_column(frame["linked_txn_id"]),
        "cp_contact": per_distinct(
            frame, ("counterparty_email", "counterparty_phone"), contact_key
        ),
    }


def _hash(value: str | None) -> int:
    return stable_hash(value) if value else 0


def _province_hash(province: str | None) -> int:
    return stable_hash(province.upper()) if province else 0


def _place_hash(city: str | None, province: str | None) -> int:
    key = place_key(city, province)
    return stable_hash(key) if key else 0


def _merchant_hash(merchant_id: str | None, merchant_name: str | None) -> int:
    return _hash(merchant_id or _descriptor(merchant_name))


def _device() -> pl.Expr:
    """The device a row names: its ``device_id``, else its ``ip``."""
    device = pl.col("device_id")
    return pl.when(device.is_not_null() & (device != "")).then(device).otherwise(pl.col("ip"))


def _counterparty_hash(
    counterparty_id: str | None, email: str | None, phone: str | None, name: str | None
) -> int:
    return _hash(counterparty_key_text(counterparty_id, email, phone, name))


def _descriptor(name: str | None) -> str | None:
    return " ".join(name.upper().split()) if name else None


def _foreign() -> pl.Expr:
    abroad = [
        pl.col(c).is_not_null() & (pl.col(c) != "CA") for c in ("counterparty_country", "country")
    ]
    return pl.any_horizontal(abroad)
