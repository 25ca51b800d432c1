"""The columnar view kernels see: names, dtypes and codes of batch and profile columns.

The engine's decoder (``engine/decode.py``) turns a batch of contract messages into these
arrays; kernels only ever read them. Strings that kernels compare (city, merchant,
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

# Bits of the ``ref_flags`` column: which reference list or text pattern a row matched.
REF_ESCORT_AD = 1 << 0  # merchant on the escort / classified-ad platform list
REF_AD_PREMIUM = 1 << 1  # descriptor names a premium / featured / bump ad fee
REF_ESCORT_PROCESSOR = 1 << 2  # counterparty or merchant is an escort-linked payment processor
REF_VC_DEALER = 1 << 3
REF_GIFT_CARD = 1 << 4
REF_INMATE_CALL = 1 << 5
REF_LUXURY = 1 << 6
REF_LODGING_PLATFORM = 1 << 7  # short-stay / OTA booking platform descriptor
REF_ESCORT_MEMO = 1 << 8  # memo or counterparty name matches the escort lexicon
REF_BRACKET_ALIAS = 1 << 9  # counterparty display name carries an alias in brackets
REF_SOURCE_JURISDICTION = 1 << 10
REF_WHITE_LABEL_ATM = 1 << 11  # terminal_owner = white_label or location on the registry
REF_RENT = 1 << 12  # memo / payee names rent, a landlord or a property manager
REF_GAMING_OPERATOR = 1 << 13  # online gambling / casino platform
REF_PAYMENT_SERVICE = 1 << 14  # online payment service (wallet, P2P app)
REF_VAGUE_PURPOSE = 1 << 15  # memo states a vague purpose (living expenses, consulting, ...)
REF_INVESTMENT_PLATFORM = 1 << 16  # online investment entity

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
    "ref_flags": (np.int64, 0, "REF_* bits"),
    "attempted": (np.int8, 0, "1 if attempted, not completed"),
    "account": (np.int64, 0, "hash of account_id"),
    "card": (np.int64, 0, "hash of card_id (0 when absent)"),
    "device": (np.int64, 0, "hash of device_id, else ip (0 when absent)"),
    "txn_key": (np.int64, 0, "hash of txn_id (what linked_txn_id of another row points to)"),
    "linked": (np.int64, 0, "hash of linked_txn_id (0 when absent)"),
    "foreign": (np.int8, 0, "1 if the counterparty or the place is outside Canada"),
    "cp_contact": (np.int64, 0, "contact key of counterparty_email, else counterparty_phone (engine.hashing)"),
    "cp_flags": (np.int64, 0, "CP_* bits: what the party index knows of the counterparty (engine.parties)"),
}

# Bits of the ``cp_flags`` column, set by the detector from the party index (engine/parties.py):
# signals that the counterparty, a customer in any partition, showed before this row's time.
CP_ADV_LODGE = 1 << 0  # an ADV or LODGE rule fired on the counterparty's own account (PP-22)
CP_ESCORT_EMT = 1 << 1  # the counterparty itself receives escort-referenced e-transfers (PP-18)
CP_ALERTED = 1 << 2  # the counterparty is the subject of an alert

# Per-customer profile columns (from the ``profiles`` topic), indexed by ``cust``.
PROFILE_COLUMNS: dict[str, tuple[type, object, str]] = {
    "home_city": (np.int64, 0, "hash of home city + province (0 unknown)"),
    "profile_flags": (np.int64, 0, "PROFILE_* bits"),
    "declared_income": (np.float64, np.nan, "declared yearly income, CAD"),
    "expected_monthly": (np.float64, np.nan, "expected monthly activity, CAD"),
    "contact_email": (np.int64, 0, "contact key of the profile's first e-mail (how others' rows name them)"),
    "contact_phone": (np.int64, 0, "contact key of the profile's first phone"),
    "party_signals": (np.int64, 0, "CP_* signals already published to the party index"),
}

# Bits of ``profile_flags``.
PROFILE_ADVERSE_MEDIA = 1 << 0
PROFILE_ESCORT_AD_MATCH = 1 << 1
PROFILE_REPORTED_ADDRESS = 1 << 2
PROFILE_BRANCH_OBSERVATION = 1 << 3
PROFILE_ID_CONCERN = 1 << 4
PROFILE_TRAVEL_OCCUPATION = 1 << 5  # occupation explains travel and lodging (sales, trucking, ...)
PROFILE_VENUE_INDUSTRY = 1 << 6  # NAICS in a venue-risk industry (spa, motel, rentals, ...)
PROFILE_ENTITY = 1 << 7  # party_type = entity (a business account holder)
PROFILE_MINOR = 1 << 8  # birth_date says the customer is under 18
PROFILE_ALIASES = 1 << 9  # two or more aliases on file
# Findings of the cross-customer stage (engine/identifiers.py), kept across profile updates.
PROFILE_SHARED_IDENTIFIER = 1 << 10  # a phone, email or address shared with other customers
PROFILE_FOREIGN_RECRUITMENT = 1 << 11  # OSINT: recruitment / ads / training abroad (flag type)
FINDING_BITS = PROFILE_SHARED_IDENTIFIER

EVIDENCE_SLOTS = 8  # evidence transaction ids kept per fired indicator
EMPTY_TS = np.int64(-(2**62))  # marks a free slot in window rings
DAY = 86_400
