"""The columnar view kernels see: names, dtypes and codes of batch and profile columns.

The engine's decoder (``engine/core/decode.py``) turns a batch of contract messages into these
arrays; kernels only ever read them. Which bit of ``ref_flags``, ``profile_flags`` and
``cp_flags`` means what is allocated from the names rules declare (:mod:`indicators.inputs`).
Strings that kernels compare (city, merchant,
counterparty, location) arrive as stable 64-bit hashes (0 = missing), so state written by
one process compares equal in the next.
"""

from __future__ import annotations

import numpy as np

from schemas import CHANNELS, TXN_TYPES

TXN_CODE = {name: code for code, name in enumerate(TXN_TYPES)}
CHANNEL_CODE = {name: code for code, name in enumerate(CHANNELS)}

# Transaction-type codes used by several kernels (module constants are frozen into numba code).
PURCHASE = TXN_CODE["purchase"]
REFUND = TXN_CODE["refund"]
PREAUTH = TXN_CODE["preauth"]
CASH_DEPOSIT = TXN_CODE["cash_deposit"]
CASH_WITHDRAWAL = TXN_CODE["cash_withdrawal"]
CASH_ADVANCE = TXN_CODE["cash_advance"]
EMT_IN = TXN_CODE["emt_in"]
EMT_OUT = TXN_CODE["emt_out"]
WIRE_IN = TXN_CODE["wire_in"]
WIRE_OUT = TXN_CODE["wire_out"]
EFT_IN = TXN_CODE["eft_in"]
EFT_OUT = TXN_CODE["eft_out"]
TRANSFER_IN = TXN_CODE["transfer_in"]
TRANSFER_OUT = TXN_CODE["transfer_out"]
BILL_PAYMENT = TXN_CODE["bill_payment"]
PREPAID_LOAD = TXN_CODE["prepaid_load"]
CARD_TO_CARD = TXN_CODE["card_to_card"]
VC_BUY = TXN_CODE["vc_buy"]
CASINO_BUY_IN = TXN_CODE["casino_buy_in"]

ECOM = CHANNEL_CODE["ecom"]
ONLINE = CHANNEL_CODE["online"]
MOBILE = CHANNEL_CODE["mobile"]

# Batch columns: name -> (dtype, missing value, meaning).
BATCH_COLUMNS: dict[str, tuple[type, object, str]] = {
    "cust": (np.int64, -1, "partition-local customer slot (state row)"),
    "seq": (np.int64, -1, "event reference: Kafka offset, or row number in a backtest"),
    "ts": (np.int64, 0, "event time, seconds since the Unix epoch (UTC)"),
    "local_day": (np.int32, 0, "local calendar day number (days since 1970-01-01, local time)"),
    "local_tod": (np.int32, 0, "local time of day, seconds since local midnight"),
    "txn_type": (np.int8, -1, "TXN_CODE"),
    "channel": (np.int8, -1, "CHANNEL_CODE"),
    "amount": (np.float64, np.nan, "value in CAD (NaN when not CAD and no amount_cad)"),
    "balance": (np.float64, np.nan, "balance_after (NaN when absent)"),
    "mcc": (np.int16, -1, "merchant category code (-1 when absent)"),
    "city": (np.int64, 0, "hash of normalised city + province"),
    "province": (np.int64, 0, "hash of province code"),
    "location": (np.int64, 0, "hash of location_id (branch, ATM, terminal)"),
    "merchant": (np.int64, 0, "hash of merchant_id, else of the normalised descriptor"),
    "counterparty": (np.int64, 0, "hash of counterparty_id, else case-folded email, phone or name"),
    "ref_flags": (np.int64, 0, "reference lists the row matched (bits: indicators.inputs)"),
    "attempted": (np.int8, 0, "1 if attempted, not completed"),
    "account": (np.int64, 0, "hash of account_id"),
    "card": (np.int64, 0, "hash of card_id (0 when absent)"),
    "device": (np.int64, 0, "hash of device_id, else ip (0 when absent)"),
    "txn_key": (np.int64, 0, "hash of txn_id (what linked_txn_id of another row points to)"),
    "linked": (np.int64, 0, "hash of linked_txn_id (0 when absent)"),
    "foreign": (np.int8, 0, "1 if the counterparty or the place is outside Canada"),
    "cp_contact": (
        np.int64,
        0,
        "contact key of counterparty_email, else counterparty_phone (engine.core.hashing)",
    ),
    "cp_flags": (np.int64, 0, "signals the counterparty showed (bits: indicators.inputs)"),
}

# Per-customer profile columns (from the ``profiles`` topic), indexed by ``cust``.
PROFILE_COLUMNS: dict[str, tuple[type, object, str]] = {
    "home_city": (np.int64, 0, "hash of home city + province (0 unknown)"),
    "profile_flags": (np.int64, 0, "profile facts (bits: indicators.inputs)"),
    "declared_income": (np.float64, np.nan, "declared yearly income, CAD"),
    "expected_monthly": (np.float64, np.nan, "expected monthly activity, CAD"),
    "contact_email": (
        np.int64,
        0,
        "contact key of the profile's first e-mail (how others' rows name them)",
    ),
    "contact_phone": (np.int64, 0, "contact key of the profile's first phone"),
    "party_signals": (np.int64, 0, "signal codes already published to the party index"),
}

EVIDENCE_SLOTS = 8  # evidence transaction ids kept per fired indicator
EMPTY_TS = np.int64(-(2**62))  # marks a free slot in window rings
DAY = 86_400
