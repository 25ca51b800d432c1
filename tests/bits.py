"""The bits of ``ref_flags``, ``profile_flags`` and ``cp_flags`` under the registry's layout,
under the short names the kernel tests and oracles use.

The registry allocates these from the names rules declare (``indicators.inputs``); tests
look them up here so that a strategy, an oracle and the kernel always agree on a bit.
"""

from __future__ import annotations

from engine.crosscustomer.parties import SIGNAL_CODES
from indicators.registry import LAYOUT


def _ref(name: str) -> int:
    return LAYOUT.bit("reference", name)


def _fact(name: str) -> int:
    return LAYOUT.bit("profile", name)


REF_ESCORT_AD = _ref("escort_ad_platforms")
REF_AD_PREMIUM = _ref("ad_premium_terms")
REF_ESCORT_PROCESSOR = _ref("escort_processors")
REF_VC_DEALER = _ref("vc_dealers")
REF_GIFT_CARD = _ref("gift_card_sellers")
REF_INMATE_CALL = _ref("inmate_call_providers")
REF_LUXURY = _ref("luxury_merchants")
REF_LODGING_PLATFORM = _ref("lodging_platforms")
REF_ESCORT_MEMO = _ref("escort_memo_lexicon")
REF_BRACKET_ALIAS = _ref("bracket_alias")
REF_SOURCE_JURISDICTION = _ref("source_jurisdictions")
REF_WHITE_LABEL_ATM = _ref("white_label_atms")
REF_RENT = _ref("rent_terms")
REF_GAMING_OPERATOR = _ref("gaming_operators")
REF_PAYMENT_SERVICE = _ref("online_payment_services")
REF_VAGUE_PURPOSE = _ref("vague_purpose_terms")
REF_INVESTMENT_PLATFORM = _ref("investment_platforms")

PROFILE_ADVERSE_MEDIA = _fact("adverse_media")
PROFILE_TRAVEL_OCCUPATION = _fact("travel_occupation")
PROFILE_VENUE_INDUSTRY = _fact("venue_industry")
PROFILE_ENTITY = _fact("entity")

CP_ADV_LODGE = LAYOUT.bit("party", "adv_lodge")
CP_ESCORT_EMT = LAYOUT.bit("party", "escort_emt")
# No rule reads "alerted", so it has no cp_flags bit; strategies still set a bit no kernel
# reads, as noise a kernel must ignore.
CP_ALERTED = 1 << len(LAYOUT.party)

# The same signals as codes on the party-signals topic (PartySignal.signal).
SIGNAL_ADV_LODGE = SIGNAL_CODES["adv_lodge"]
SIGNAL_ESCORT_EMT = SIGNAL_CODES["escort_emt"]
SIGNAL_ALERTED = SIGNAL_CODES["alerted"]
