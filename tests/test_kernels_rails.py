"""The `rails` group's kernels (PP-14, 15, 20, 21, 23-28) against their oracles, in chunks,
under saturation, and at exact boundaries.

Below ring capacity a bounded kernel must agree with its unbounded oracle exactly: the same
rows fire, with the same observed value and the same evidence (newest first). One batch
must give the same outputs and end state as the same rows in k chunks. Far above capacity a
kernel must still fire: a ring that saturates may cap a count, never hide a threshold.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicators import registry
from indicators.columns import CHANNEL_CODE, TXN_CODE
from tests.bits import (
    REF_GAMING_OPERATOR,
    REF_GIFT_CARD,
    REF_INVESTMENT_PLATFORM,
    REF_PAYMENT_SERVICE,
    REF_VC_DEALER,
    REF_WHITE_LABEL_ATM,
)
from tests.kernel_harness import (
    assert_chunk_invariant,
    assert_empty_batch_fires_nothing,
    assert_matches_oracle,
    assert_saturation_fires,
    kernel_settings,
    note_firing,
)
from tests.kernel_harness import at as _at
from tests.oracles_rails import RAILS_ORACLES
from tests.strategies import chunk_bounds, columns_from_rows, params_for
from tests.strategies_rails import rails_batches

IDS = tuple(RAILS_ORACLES)

SETTINGS = kernel_settings(max_examples=60)


@pytest.mark.parametrize("spec_id", IDS)
@SETTINGS
@given(data=st.data())
def test_kernel_matches_oracle(spec_id: str, data: st.DataObject) -> None:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    columns = data.draw(rails_batches(spec_id, dense=dense), label="columns")
    params = data.draw(params_for(spec), label="params")
    note_firing(assert_matches_oracle(spec_id, columns, params, RAILS_ORACLES[spec_id]))


@pytest.mark.parametrize("spec_id", IDS)
@SETTINGS
@given(data=st.data())
def test_chunked_run_equals_whole_run(spec_id: str, data: st.DataObject) -> None:
    spec = registry.get(spec_id)
    dense = data.draw(st.booleans(), label="dense")
    columns = data.draw(rails_batches(spec_id, dense=dense, max_per_customer=40),
                        label="columns")
    params = data.draw(params_for(spec), label="params")
    bounds = data.draw(chunk_bounds(len(columns["cust"])), label="chunk bounds")
    assert_chunk_invariant(spec, columns, params, bounds)


@pytest.mark.parametrize("spec_id", IDS)
def test_empty_batch_fires_nothing(spec_id: str) -> None:
    assert_empty_batch_fires_nothing(registry.get(spec_id))


@pytest.mark.parametrize("spec_id", IDS)
def test_params_never_exceed_capacity(spec_id: str) -> None:
    """A count threshold's upper bound never exceeds the ring or table that holds the count."""
    spec = registry.get(spec_id)
    capacity = max(s.tail[0] for s in spec.state if s.tail)
    for p in spec.params:
        if p.name.startswith("min_") and p.integer:
            assert p.hi <= capacity, f"{spec_id} {p.name} hi {p.hi} > capacity {capacity}"


# --------------------------------------------------------------------------- scenarios

_T = TXN_CODE
_CH = CHANNEL_CODE


def _row(ts: int, kind: str, amount: float = 100.0, **kw) -> dict:
    return {"ts": ts, "txn_type": _T[kind], "amount": amount, **kw}


def _wl(ts: int, white_label: bool = True) -> dict:
    return _row(ts, "cash_withdrawal", channel=_CH["atm"],
                ref_flags=REF_WHITE_LABEL_ATM if white_label else 0)


def _chain(day: float, amount: float = 600.0) -> list[dict]:
    return [_row(_at(day, 9.0), "emt_in", amount, account=501, counterparty=401),
            _row(_at(day, 10.0), "transfer_out", amount, account=501),
            _row(_at(day, 10.0), "transfer_in", amount, account=502),
            _row(_at(day, 11.0), "emt_out", amount, account=502, counterparty=402)]


def _bet_after_emts(day: float, k: int) -> list[dict]:
    return [_row(_at(day, 8.0), "emt_in", 200.0, counterparty=1000 + 2 * k),
            _row(_at(day, 9.0), "emt_in", 200.0, counterparty=1001 + 2 * k),
            _row(_at(day, 10.0), "purchase", 300.0, mcc=7995)]


# Each scenario: many more relevant events than the kernel's rings hold.
SATURATION = {
    "PP-14": [
        lambda: [_wl(_at(i / 6)) for i in range(120)],
        # 200 bank-ATM withdrawals, then six white-label ones: the share is tiny, the count not.
        lambda: [_wl(_at(i / 10), False) for i in range(200)] + [_wl(_at(21 + k))
                                                                  for k in range(6)],
    ],
    "PP-15": [
        lambda: [_row(_at(i / 4), "cash_deposit", 60.0) for i in range(120)],
    ],
    "PP-20": [
        lambda: [_row(_at(i / 6), "emt_out", channel=_CH["mobile"], device=1000 + i)
                 for i in range(120)],
        # One device used 150 times, then two new ones.
        lambda: [_row(_at(i / 8), "emt_out", channel=_CH["mobile"], device=701)
                 for i in range(150)] + [_row(_at(20 + k), "emt_out", channel=_CH["online"],
                                              device=702 + k) for k in range(2)],
    ],
    "PP-21": [
        lambda: [r for i in range(40) for r in _chain(i / 2)],
        # 100 unpaired transfer legs, then one more own transfer.
        lambda: [_row(_at(i / 8), "transfer_out", 10.0 + i, account=501) for i in range(100)]
        + [r for k in range(5) for r in _chain(14 + k)[1:3]],
    ],
    "PP-23": [
        lambda: [_row(_at(i / 6), "purchase", 100.0, mcc=5411) for i in range(120)],
        # 100 gift-card purchases, then three rounded grocery ones.
        lambda: [_row(_at(i / 6), "purchase", 250.0, mcc=5999, ref_flags=REF_GIFT_CARD)
                 for i in range(100)] + [_row(_at(20 + k), "purchase", 200.0, mcc=5411)
                                         for k in range(3)],
    ],
    "PP-24": [
        lambda: [_row(_at(i / 6), "prepaid_load", card=601 + i % 2) for i in range(120)],
        # Loads to one card many times, then one load to a second card.
        lambda: [_row(_at(i / 8), "prepaid_load", card=601) for i in range(100)]
        + [_row(_at(20), "prepaid_load", card=602)],
        lambda: [r for i in range(60) for r in (
            _row(_at(i / 3), "prepaid_load", card=601),
            _row(_at(i / 3, 13.0), "card_to_card", card=601, counterparty=999))],
    ],
    "PP-25": [
        lambda: [_row(_at(i / 6), "vc_buy", 12.0) for i in range(120)],
        # 100 EMTs from distinct senders then purchases: the sender table saturates.
        lambda: [r for i in range(40) for r in (
            _row(_at(i / 2), "emt_in", 50.0, counterparty=1000 + 3 * i),
            _row(_at(i / 2, 12.5), "emt_in", 50.0, counterparty=1001 + 3 * i),
            _row(_at(i / 2, 13.0), "vc_buy", 500.0))],
    ],
    "PP-26": [
        lambda: [_row(_at(i / 6), "emt_in", 20.0, ref_flags=REF_PAYMENT_SERVICE)
                 for i in range(120)] + [_row(_at(20.5), "vc_buy", 300.0)],
        lambda: [_row(_at(i / 6), "vc_buy", 300.0) for i in range(100)]
        + [_row(_at(17 + k / 4), "emt_in", 20.0, ref_flags=REF_PAYMENT_SERVICE)
           for k in range(10)],
    ],
    "PP-27": [
        lambda: [r for i in range(40) for r in _bet_after_emts(i / 2, i)],
        lambda: [r for i in range(60) for r in (
            _row(_at(i / 3), "casino_buy_in", 2000.0),
            _row(_at(i / 3, 14.0), "casino_cash_out", 1900.0))],
        lambda: [r for i in range(60) for r in (
            _row(_at(i / 3), "eft_out", 2000.0, ref_flags=REF_INVESTMENT_PLATFORM),
            _row(_at(i / 3, 14.0), "eft_in", 1900.0, ref_flags=REF_INVESTMENT_PLATFORM))],
    ],
    "PP-28": [
        lambda: [_row(_at(i / 6), "cash_advance", 40.0) for i in range(120)],
        lambda: [_row(_at(i / 8), "eft_in", 300.0, account=501, counterparty=1000 + i)
                 for i in range(100)] + [_row(_at(13), "cash_advance", 300.0, account=501)],
    ],
}


@pytest.mark.parametrize(
    ("spec_id", "k"), [(i, k) for i in IDS for k in range(len(SATURATION[i]))],
    ids=[f"{i}-{k}" for i in IDS for k in range(len(SATURATION[i]))],
)
def test_saturation_never_hides_a_threshold(spec_id: str, k: int) -> None:
    assert_saturation_fires(registry.get(spec_id), columns_from_rows(SATURATION[spec_id][k]()),
                            RAILS_ORACLES[spec_id], f"{spec_id} scenario {k}")


# --------------------------------------------------------------------------- edge cases
# Exact boundaries the random search reaches only rarely. Each case states the expected
# fired rows and is also checked against the oracle.

EDGE_CASES = [
    ("PP-14", "attempted white-label withdrawals are ignored",
     [{**_wl(_at(k)), "attempted": 1} for k in range(6)], None, {}, [0] * 6),
    ("PP-14", "a withdrawal exactly window_days old is outside the window",
     [_wl(_at(0))] + [_wl(_at(30 + k / 10)) for k in range(5)], None,
     {"share_min_white_label": 32}, [0] * 6),
    ("PP-14", "a share exactly min_share fires",
     [_wl(_at(0), False), _wl(_at(1), False), _wl(_at(2), False), _wl(_at(3)), _wl(_at(4)),
      _wl(_at(5))], None, {}, [0, 0, 0, 0, 0, 1]),
    ("PP-15", "cash exactly min_cash_cad does not fire, one cent more does",
     [_row(_at(0), "cash_deposit", 2500.0), _row(_at(1), "cash_deposit", 2500.0),
      _row(_at(2), "cash_deposit", 0.25)], None, {}, [0, 0, 1]),
    ("PP-15", "an eft_in in the window suppresses the absolute rule",
     [_row(_at(0), "eft_in", 10.0), _row(_at(1), "cash_deposit", 6000.0),
      _row(_at(90, 12.5), "cash_deposit", 10.0)], None, {}, [0, 0, 1]),
    ("PP-15", "cash above three months of declared income fires despite payroll",
     [_row(_at(0), "eft_in", 3000.0), _row(_at(1), "cash_deposit", 3000.0),
      _row(_at(2), "cash_deposit", 0.25)],
     {"declared_income": [12000.0]}, {}, [0, 0, 1]),
    ("PP-15", "NaN amounts are skipped",
     [_row(_at(k), "cash_deposit", float("nan")) for k in range(3)], {"declared_income": [1.0]},
     {}, [0, 0, 0]),
    ("PP-20", "branch and ATM rows carry no device",
     [_row(_at(k), "cash_withdrawal", channel=_CH["atm"], device=701 + k) for k in range(3)]
     + [_row(_at(4), "emt_out", channel=_CH["ecom"], device=710)], None, {}, [0, 0, 0, 0]),
    ("PP-20", "the same device twice counts once",
     [_row(_at(k), "emt_out", channel=_CH["online"], device=d)
      for k, d in enumerate((701, 702, 701, 703))], None, {}, [0, 0, 0, 1]),
    ("PP-21", "legs on the same account are not an own transfer",
     [_row(_at(k, 10.0), kind, 500.0, account=501)
      for k in range(3) for kind in ("transfer_out", "transfer_in")], None,
     {"min_transfers": 1}, [0] * 6),
    ("PP-21", "legs pair in either order, within pair_hours",
     [_row(_at(0, 10.0), "transfer_in", 500.0, account=502),
      _row(_at(0, 11.0), "transfer_out", 500.0, account=501),
      _row(_at(1, 10.0), "transfer_out", 300.0, account=501),
      _row(_at(2, 10.0), "transfer_in", 300.0, account=502)], None,
     {"min_transfers": 1}, [0, 1, 0, 0]),
    ("PP-21", "a drain below drain_share does not complete the chain",
     _chain(0)[:3] + [_row(_at(0, 11.0), "emt_out", 479.0, account=502),
                      _row(_at(0, 12.0), "cash_withdrawal", 1.0, account=502)], None,
     {"min_chains": 1}, [0, 0, 0, 0, 1]),
    ("PP-21", "no personal credit before the transfer, no chain",
     _chain(0)[1:], None, {"min_chains": 1}, [0, 0, 0]),
    ("PP-21", "ten own transfers: evidence holds the newest eight",
     [r for k in range(10) for r in _chain(k)[1:3]], None, {}, [0, 0] * 4 + [0, 1] * 6),
    ("PP-23", "rounded means a multiple of round_unit_cad from rounded_min_cad",
     [_row(_at(0), "purchase", 75.0, mcc=5411), _row(_at(1), "purchase", 110.0, mcc=5411),
      _row(_at(2), "purchase", 125.0, mcc=5411), _row(_at(3), "purchase", 100.0, mcc=5947),
      _row(_at(4), "purchase", 150.0, mcc=5411)], None, {"min_rounded": 3}, [0, 0, 0, 0, 1]),
    ("PP-23", "a convenience purchase of exactly the cap does not fire",
     [_row(_at(0), "purchase", 300.0, mcc=5499), _row(_at(1), "purchase", 300.25, mcc=5499)],
     None, {}, [0, 1]),
    ("PP-23", "a gift-card purchase of exactly gift_min_cad fires",
     [_row(_at(0), "purchase", 199.75, ref_flags=REF_GIFT_CARD),
      _row(_at(1), "purchase", 200.0, ref_flags=REF_GIFT_CARD)], None, {}, [0, 1]),
    ("PP-24", "a push into a card loaded in the window does not qualify",
     [_row(_at(0), "prepaid_load", card=601), _row(_at(1), "prepaid_load", card=602),
      _row(_at(2), "card_to_card", card=601, counterparty=602),
      _row(_at(33), "prepaid_load", card=601),
      _row(_at(34), "card_to_card", card=601, counterparty=602)], None, {"min_c2c": 1},
     [0, 0, 0, 0, 1]),
    ("PP-24", "a push from a card never loaded does not qualify",
     [_row(_at(0), "card_to_card", card=601, counterparty=602)], None, {"min_c2c": 1}, [0]),
    ("PP-25", "EMT senders exactly fund_hours before do not fund",
     [_row(_at(0), "emt_in", counterparty=401), _row(_at(0, 13.0), "emt_in", counterparty=402),
      _row(_at(1), "vc_buy", 300.0), _row(_at(1, 12.5), "vc_buy", 300.0)], None,
     {"min_funded": 1}, [0, 0, 0, 0]),
    ("PP-25", "a purchase at MCC 6051 or a transfer to a dealer is a VC purchase",
     [_row(_at(0), "purchase", 12.0, mcc=6051),
      _row(_at(1), "emt_out", 24.0, ref_flags=REF_VC_DEALER),
      _row(_at(2), "emt_out", 3.0), _row(_at(3), "purchase", 3.0, ref_flags=REF_VC_DEALER)],
     None, {}, [0, 0, 0, 1]),
    ("PP-26", "processor amounts must be under under_cad",
     [_row(_at(k / 2), "emt_in", 100.0, ref_flags=REF_PAYMENT_SERVICE) for k in range(10)]
     + [_row(_at(6), "vc_buy", 50.0)], None, {}, [0] * 11),
    ("PP-26", "a card-to-card payment needs a peer",
     [_row(_at(k / 2), "emt_in", 99.75, ref_flags=REF_PAYMENT_SERVICE) for k in range(10)]
     + [_row(_at(6), "card_to_card", 50.0), _row(_at(7), "card_to_card", 50.0,
                                                   counterparty=401)], None, {},
     [0] * 11 + [1]),
    ("PP-27", "ten funded bets: evidence holds the newest eight",
     [r for k in range(10) for r in _bet_after_emts(k, k)], None, {},
     [0, 0, 0] * 2 + [0, 0, 1] * 8),
    ("PP-27", "winnings and payroll are not third-party funding",
     [_row(_at(0, 8.0), "emt_in", counterparty=401, ref_flags=REF_GAMING_OPERATOR),
      _row(_at(0, 9.0), "eft_in", counterparty=402),
      _row(_at(0, 10.0), "emt_in", counterparty=403),
      _row(_at(0, 11.0), "purchase", 50.0, mcc=7995)], None, {"min_funded": 1}, [0, 0, 0, 0]),
    ("PP-27", "a cash-out of exactly return_share completes the round trip",
     [_row(_at(0), "casino_buy_in", 1000.0), _row(_at(1), "casino_cash_out", 799.75),
      _row(_at(2), "casino_buy_in", 1000.0, cust=1),
      _row(_at(3), "casino_cash_out", 800.0, cust=1)], None, {}, [0, 0, 0, 1]),
    ("PP-27", "a cash-out after trip_days does not return a buy-in",
     [_row(_at(0), "casino_buy_in", 1000.0), _row(_at(14), "casino_cash_out", 1000.0)], None,
     {}, [0, 0]),
    ("PP-27", "investment returns only match investment deposits",
     [_row(_at(0), "casino_buy_in", 1000.0),
      _row(_at(1), "eft_in", 1000.0, ref_flags=REF_INVESTMENT_PLATFORM),
      _row(_at(2), "transfer_out", 1000.0, ref_flags=REF_INVESTMENT_PLATFORM),
      _row(_at(3), "transfer_in", 900.0, ref_flags=REF_INVESTMENT_PLATFORM)], None, {},
     [0, 0, 0, 1]),
    ("PP-28", "payers on another account do not count",
     [_row(_at(0), "eft_in", account=501, counterparty=401),
      _row(_at(1), "eft_in", account=502, counterparty=402),
      _row(_at(2), "cash_advance", 100.0, account=501)], None, {}, [0, 0, 0]),
    ("PP-28", "a payment exactly pay_days before does not count",
     [_row(_at(0), "bill_payment", account=501, counterparty=401),
      _row(_at(6), "transfer_in", account=501, counterparty=402),
      _row(_at(7), "cash_advance", 100.0, account=501),
      _row(_at(7, 12.5), "eft_in", account=501, counterparty=401),
      _row(_at(7, 13.0), "cash_advance", 100.0, account=501)], None, {}, [0, 0, 0, 0, 1]),
    ("PP-28", "advances of exactly min_advance_cad fire",
     [_row(_at(0), "cash_advance", 1000.0), _row(_at(29), "cash_advance", 1000.0),
      _row(_at(30), "cash_advance", float("nan"))], None, {}, [0, 1, 0]),
]


@pytest.mark.parametrize(
    ("spec_id", "name", "rows", "profiles", "overrides", "expected"), EDGE_CASES,
    ids=[f"{c[0]}-{c[1]}" for c in EDGE_CASES],
)
def test_edge_case(spec_id, name, rows, profiles, overrides, expected) -> None:
    spec = registry.get(spec_id)
    columns = columns_from_rows(rows, profiles)
    params = spec.resolve_params(overrides)
    out = assert_matches_oracle(spec_id, columns, params, RAILS_ORACLES[spec_id])
    assert out.fired.tolist() == expected, name

