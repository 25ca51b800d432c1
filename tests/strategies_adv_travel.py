"""Hypothesis strategies for the adv_travel group: PP-02, PP-03, PP-05 ... PP-11.

Registers each rule's :class:`~tests.strategies.Focus` and wraps
:func:`tests.strategies.batches`. The shared generator leaves some columns these rules read
at their missing values or draws them from vocabularies without the bits they need, so
:func:`adv_travel_batches` redraws, per row:

* ``ref_flags`` from the rule's own vocabulary (escort processor, payment service,
  escort ad / premium, source jurisdiction, lodging platform);
* ``txn_key`` (unique, non-zero) and ``linked`` (0, the previous row of the same customer,
  or any earlier row), so refunds, reversals and settlements find what they point to;
* ``foreign`` (0 or 1);
* for PP-09, ``city`` / ``province`` from six cities in four provinces (one city without a
  province), and the profile's home city from the same cities;
* for PP-02, the profile's entity bit;
* for PP-05, sometimes a refund or reversal repeats the amount and merchant of the
  customer's previous row.

Rows per customer stay below the smallest ring or table each kernel fills (``dense_max``),
so the unbounded oracles and the bounded kernels must agree exactly.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from indicators.columns import TXN_CODE
from tests.bits import (
    PROFILE_ENTITY,
    PROFILE_TRAVEL_OCCUPATION,
    REF_AD_PREMIUM,
    REF_ESCORT_AD,
    REF_ESCORT_PROCESSOR,
    REF_LODGING_PLATFORM,
    REF_PAYMENT_SERVICE,
    REF_SOURCE_JURISDICTION,
)
from tests.strategies import FOCUS, LODGING_MCCS, Focus, batches

GROUP_IDS = ("PP-02", "PP-03", "PP-05", "PP-06", "PP-07", "PP-08", "PP-09", "PP-10", "PP-11")

FLAGS: dict[str, tuple[int, ...]] = {
    "PP-02": (0, REF_ESCORT_PROCESSOR, REF_PAYMENT_SERVICE, REF_PAYMENT_SERVICE,
              REF_ESCORT_PROCESSOR | REF_PAYMENT_SERVICE, REF_ESCORT_AD),
    "PP-03": (0, 0, REF_ESCORT_AD, REF_ESCORT_AD, REF_ESCORT_AD | REF_AD_PREMIUM),
    "PP-05": (0, 0, 0, REF_LODGING_PLATFORM),
    "PP-06": (0, 0, 0, REF_LODGING_PLATFORM),
    "PP-07": (0, REF_SOURCE_JURISDICTION, REF_SOURCE_JURISDICTION | REF_ESCORT_AD),
    "PP-08": (0,),
    "PP-09": (0,),
    "PP-10": (0,),
    "PP-11": (0,),
}

# PP-09: cities -> provinces; 107 comes without a province.
CITY_PROVINCE = {0: 0, 101: 11, 102: 11, 103: 12, 104: 13, 105: 14, 106: 14, 107: 0}

_TICKETS = (4511, 3000, 3150, 3299, 4112, 4131, 4722, 2999, 3300, 4111)
_RIDES = (4121, 7512, 3351, 3400, 3441, 3350, 3442, 7523, 7523, 7523)
_VENUES = (7297, 7298, 7230, 5813, 5813, 7273, 7929, 7299, 7361, 5812)
_CAR = (7512, 3351, 3441)
_IN = ("emt_in", "eft_in", "wire_in", "transfer_in")

FOCUS.update({
    # Two 16-slot rings.
    "PP-02": Focus(types=_IN + ("emt_out", "purchase", "wire_out"), mccs=(-1, 6012, 7399),
                   flags=FLAGS["PP-02"], channels=("online", "mobile", "pos")),
    # Ad and hosting rings of 16 each.
    "PP-03": Focus(types=("purchase", "purchase", "preauth", "bill_payment"),
                   mccs=(7311, 7311, 4816, 7372, 5967), flags=FLAGS["PP-03"],
                   channels=("ecom", "online")),
    # Rounded, charge and pre-auth tables of 16 each.
    "PP-05": Focus(types=("purchase", "purchase", "preauth", "refund", "reversal"),
                   mccs=LODGING_MCCS + _CAR + (5411,), flags=FLAGS["PP-05"],
                   patterns=((("preauth",), ("purchase", "reversal", "emt_in")),
                             (("purchase",), ("refund", "purchase")),
                             (("preauth", "purchase"), ("preauth", "purchase"),
                              ("refund", "reversal")))),
    # Lodging and pair rings of 16 each.
    "PP-06": Focus(types=("purchase", "preauth", "cash_deposit", "cash_withdrawal"),
                   mccs=LODGING_MCCS + (6011, 5411), flags=FLAGS["PP-06"],
                   patterns=((("purchase", "preauth"), ("cash_deposit", "cash_withdrawal")),
                             (("purchase",), ("cash_withdrawal",), ("cash_deposit",)))),
    "PP-07": Focus(types=("purchase", "purchase", "preauth", "refund"), mccs=_TICKETS,
                   flags=FLAGS["PP-07"], channels=("ecom", "online", "pos")),
    # Two 32-slot rings.
    "PP-08": Focus(types=("purchase", "purchase", "preauth"), mccs=_RIDES, flags=FLAGS["PP-08"],
                   channels=("mobile", "pos"), dense_max=30),
    # Keyed tables of 16 (only 7 cities, 4 provinces).
    "PP-09": Focus(types=("purchase", "cash_withdrawal", "cash_deposit", "emt_in"),
                   mccs=(5411, 5814, 6011, -1), flags=FLAGS["PP-09"], dense_max=30),
    # Day buckets are unbounded in practice; the evidence rings keep the newest 8.
    "PP-10": Focus(types=("purchase", "purchase", "purchase", "refund"),
                   mccs=(5814, 5814, 5814, 5912, 5621, 5631, 5977, 5812),
                   flags=FLAGS["PP-10"], channels=("pos", "ecom", "mobile", "online"),
                   dense_max=30),
    "PP-11": Focus(types=("purchase", "purchase", "preauth"), mccs=_VENUES,
                   flags=FLAGS["PP-11"], channels=("pos", "pos", "ecom")),
})


def _vocabulary(draw: st.DrawFn, values: tuple, max_size: int = 4) -> st.SearchStrategy:
    """All of ``values``, or a few of them drawn for this example (as tests.strategies)."""
    narrow = draw(st.lists(st.sampled_from(values), min_size=1, max_size=max_size))
    return st.sampled_from(draw(st.sampled_from((values, tuple(narrow)))))


@st.composite
def adv_travel_batches(draw: st.DrawFn, focus: str, dense: bool = False,
                       max_per_customer: int = 15) -> dict[str, np.ndarray]:
    """:func:`tests.strategies.batches` with the columns ``focus`` reads redrawn."""
    cols = draw(batches(focus=focus, dense=dense, max_per_customer=max_per_customer))
    n = len(cols["cust"])
    n_cust = len(cols["home_city"])
    flags = _vocabulary(draw, FLAGS[focus])
    cols["ref_flags"] = np.array([draw(flags) for _ in range(n)], dtype=np.int64)
    cols["txn_key"] = 7_000_000 + cols["seq"]
    link_style = draw(st.sampled_from(("none", "previous", "any", "mixed")))
    linked = np.zeros(n, dtype=np.int64)
    last_of: dict[int, int] = {}
    for i in range(n):
        c = int(cols["cust"][i])
        style = link_style if link_style != "mixed" else draw(
            st.sampled_from(("none", "previous", "any")))
        if style == "previous" and c in last_of:
            linked[i] = cols["txn_key"][last_of[c]]
        elif style == "any" and i > 0:
            linked[i] = cols["txn_key"][draw(st.integers(0, i - 1))]
        last_of[c] = i
    cols["linked"] = linked
    foreign = _vocabulary(draw, (0, 0, 1))
    cols["foreign"] = np.array([draw(foreign) for _ in range(n)], dtype=np.int8)
    if focus == "PP-09":
        cities = _vocabulary(draw, tuple(CITY_PROVINCE), max_size=5)
        city = np.array([draw(cities) for _ in range(n)], dtype=np.int64)
        cols["city"] = city
        cols["province"] = np.array([CITY_PROVINCE[int(x)] for x in city], dtype=np.int64)
        cols["home_city"] = np.array(
            [draw(st.sampled_from(tuple(CITY_PROVINCE))) for _ in range(n_cust)], dtype=np.int64)
        cols["profile_flags"] = np.array(
            [draw(st.sampled_from((0, 0, PROFILE_TRAVEL_OCCUPATION))) for _ in range(n_cust)],
            dtype=np.int64)
    if focus == "PP-05" and draw(st.booleans()):
        # Refunds and reversals repeat the amount and merchant of the customer's row before.
        undo = (TXN_CODE["refund"], TXN_CODE["reversal"])
        prev: dict[int, int] = {}
        for i in range(n):
            c = int(cols["cust"][i])
            if int(cols["txn_type"][i]) in undo and c in prev and draw(st.booleans()):
                cols["amount"][i] = cols["amount"][prev[c]]
                cols["merchant"][i] = cols["merchant"][prev[c]]
            prev[c] = i
    if focus == "PP-02":
        cols["profile_flags"] = np.array(
            [draw(st.sampled_from((0, 0, PROFILE_ENTITY))) for _ in range(n_cust)],
            dtype=np.int64)
    return cols
