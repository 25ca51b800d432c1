"""hypothesis strategies for the `rails` group's kernels (PP-14, 15, 20, 21, 23-28).

:func:`rails_batches` draws a batch from :func:`tests.strategies.batches` with this group's
focuses, then fills what the shared strategy leaves at its missing value or draws from other
groups' vocabularies: the reference bits these rules read (white-label ATM, gift card, VC
dealer, payment service, gaming, investment), and the ``account``, ``card`` and ``device``
hashes. Focus-specific touches make the rare shapes common: the two legs of an own transfer
carry the same amount (PP-21), and card-to-card rows name one of the customer's cards as
the peer (PP-24).

Dense batches keep each customer's relevant rows under every ring / table the kernels fill
(16 slots, 32 for PP-14), so the bounded kernels and the unbounded oracles agree exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from indicators.columns import TXN_CODE
from tests.bits import (
    REF_GAMING_OPERATOR,
    REF_GIFT_CARD,
    REF_INVESTMENT_PLATFORM,
    REF_PAYMENT_SERVICE,
    REF_VC_DEALER,
    REF_WHITE_LABEL_ATM,
)
from tests.strategies import FOCUS, Focus, batches

ACCOUNTS = (0, 501, 502, 503)
CARDS = (0, 601, 602, 603, 604)
DEVICES = (0, *range(701, 713))  # more than the evidence slots, fewer than the table
PEERS = (0, 401, 402)  # card-to-card peers that are not the customer's cards

_ALL_FLAGS = (0, 0, REF_WHITE_LABEL_ATM, REF_GIFT_CARD, REF_VC_DEALER, REF_PAYMENT_SERVICE,
              REF_GAMING_OPERATOR, REF_INVESTMENT_PLATFORM, REF_PAYMENT_SERVICE | REF_VC_DEALER,
              REF_GAMING_OPERATOR | REF_INVESTMENT_PLATFORM)
FLAGS: dict[str, tuple[int, ...]] = {
    "PP-14": (0, REF_WHITE_LABEL_ATM, REF_WHITE_LABEL_ATM),
    "PP-23": (0, 0, REF_GIFT_CARD),
    "PP-25": (0, REF_VC_DEALER),
    "PP-26": (0, REF_PAYMENT_SERVICE, REF_PAYMENT_SERVICE, REF_VC_DEALER,
              REF_PAYMENT_SERVICE | REF_VC_DEALER),
    "PP-27": (0, REF_GAMING_OPERATOR, REF_INVESTMENT_PLATFORM,
              REF_GAMING_OPERATOR | REF_INVESTMENT_PLATFORM),
}

_CREDITS_3P = ("emt_in", "transfer_in", "wire_in")

FOCUS.update({
    "PP-14": Focus(types=("cash_withdrawal",), mccs=(6011,), channels=("atm",), dense_max=30),
    "PP-15": Focus(types=("cash_deposit", "cash_deposit", "eft_in"), mccs=(-1,),
                   patterns=((("cash_deposit",),), (("cash_deposit",),) * 4 + (("eft_in",),))),
    "PP-20": Focus(types=("emt_out", "purchase", "bill_payment", "emt_in"), mccs=(-1, 5999),
                   channels=("online", "mobile", "ecom")),
    "PP-21": Focus(types=("cash_deposit", "emt_in", "transfer_out", "transfer_in", "emt_out",
                          "cash_withdrawal"), mccs=(-1,), follow=True,
                   patterns=((("cash_deposit", "emt_in"), ("transfer_out",), ("transfer_in",),
                              ("emt_out", "cash_withdrawal")),
                             (("transfer_out",), ("transfer_in",)),
                             (("emt_in",), ("transfer_in",), ("transfer_out",),
                              ("emt_out",)))),
    "PP-23": Focus(types=("purchase",), mccs=(5411, 5499, 5947, 5999)),
    "PP-24": Focus(types=("prepaid_load", "card_to_card"), mccs=(6540, -1),
                   channels=("online", "mobile"),
                   patterns=((("prepaid_load",), ("card_to_card",)),
                             (("prepaid_load",), ("prepaid_load",), ("card_to_card",)),
                             (("prepaid_load",),))),
    "PP-25": Focus(types=("emt_in", "emt_in", "vc_buy", "purchase", "emt_out"),
                   mccs=(6051, 5999, -1), channels=("online", "ecom"),
                   patterns=((("emt_in",), ("emt_in",), ("vc_buy", "purchase")),
                             (("emt_in",), ("emt_in",)) + (("vc_buy", "purchase"),) * 4,
                             (("vc_buy", "purchase"),))),
    "PP-26": Focus(types=("emt_in", "eft_out", "purchase", "vc_buy", "card_to_card"),
                   mccs=(6051, 5999, -1), channels=("online", "ecom"),
                   patterns=((("emt_in", "eft_out", "purchase"),) * 5
                             + (("vc_buy", "card_to_card"),),
                             (("emt_in", "eft_out", "purchase", "vc_buy", "card_to_card"),))),
    "PP-27": Focus(types=("emt_in", "transfer_in", "casino_buy_in", "casino_cash_out",
                          "purchase", "eft_out", "eft_in"), mccs=(7995, 7801, 5999, -1),
                   follow=True,
                   patterns=(((_CREDITS_3P), ("emt_in",), ("casino_buy_in", "purchase")),
                             (_CREDITS_3P, ("emt_in",)) + (("casino_buy_in", "purchase"),) * 3,
                             (("casino_buy_in",), ("casino_cash_out",)),
                             (("eft_out",), ("eft_in",)))),
    "PP-28": Focus(types=("eft_in", "transfer_in", "bill_payment", "cash_advance"), mccs=(-1,),
                   patterns=((("eft_in", "transfer_in", "bill_payment"),
                              ("eft_in", "transfer_in"), ("cash_advance",)),
                             (("cash_advance",),))),
})

_T = TXN_CODE
_TRANSFERS = (_T["transfer_out"], _T["transfer_in"])
_PP21_SOURCE = (_T["cash_deposit"], _T["emt_in"], _T["transfer_out"])  # rows on the source
_VC = (_T["vc_buy"], _T["purchase"], _T["emt_out"])


def _choice(draw: st.DrawFn, values: Sequence[Any]) -> st.SearchStrategy:
    """All of ``values``, or a few of them drawn for this example (narrow vocabularies)."""
    narrow = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3))
    return st.sampled_from(draw(st.sampled_from((tuple(values), tuple(narrow)))))


@st.composite
def rails_batches(draw: st.DrawFn, focus: str, dense: bool = False,
                  max_per_customer: int = 15) -> dict[str, np.ndarray]:
    """A :func:`tests.strategies.batches` batch with this group's columns filled in."""
    cols = draw(batches(focus=focus, dense=dense, max_per_customer=max_per_customer))
    n = len(cols["cust"])
    flags = _choice(draw, FLAGS.get(focus, _ALL_FLAGS))
    accounts = _choice(draw, ACCOUNTS)
    cards = _choice(draw, CARDS)
    devices = _choice(draw, DEVICES if dense else DEVICES[:6])
    peers = _choice(draw, CARDS + PEERS)
    same_amount = st.sampled_from(draw(st.sampled_from(((True,), (True, True, False), (False,)))))
    # PP-21: credits and outgoing legs on one account, incoming legs and debits on another.
    two_accounts = draw(st.booleans())
    # PP-25 / PP-26: amounts in the small range the rules count.
    small = draw(st.booleans())
    small_vc = st.integers(1, 12).map(lambda k: 3.0 * k)
    last_transfer: dict[int, float] = {}
    for i in range(n):
        cols["ref_flags"][i] = draw(flags)
        cols["account"][i] = draw(accounts)
        cols["card"][i] = draw(cards)
        cols["device"][i] = draw(devices)
        t_type = cols["txn_type"][i]
        c = int(cols["cust"][i])
        if focus == "PP-24" and t_type == _T["card_to_card"]:
            cols["counterparty"][i] = draw(peers)
        if focus == "PP-21" and two_accounts:
            cols["account"][i] = 501 if t_type in _PP21_SOURCE else 502
        if focus == "PP-21" and t_type in _TRANSFERS:
            # The other leg of an own transfer: the same amount as the customer's last leg.
            if c in last_transfer and draw(same_amount):
                cols["amount"][i] = last_transfer[c]
            last_transfer[c] = float(cols["amount"][i])
        if focus == "PP-25" and small and t_type in _VC:
            cols["amount"][i] = draw(small_vc)
        if focus == "PP-26" and small:
            cols["amount"][i] = cols["amount"][i] % 100.0  # NaN stays NaN
    return cols
