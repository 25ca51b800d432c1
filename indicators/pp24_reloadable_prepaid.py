"""PP-24 · Reloadable prepaid card patterns (RAILS)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import CARD_TO_CARD, DAY, EMPTY_TS, PREPAID_LOAD
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import (
    keyed_distinct,
    keyed_last,
    keyed_touch,
    ring_count,
    ring_insert,
    select_evidence,
    window,
)

RING = 16  # loads; card-to-card transfers into unloaded cards
CARDS = 16  # distinct loaded cards kept per customer


@kernel
def reloadable_prepaid(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    card: NDArray[np.int64],
    counterparty: NDArray[np.int64],
    attempted: NDArray[np.int8],
    ld_ts: NDArray[np.int64],
    ld_ref: NDArray[np.int64],
    cd_key: NDArray[np.int64],
    cd_ts: NDArray[np.int64],
    cd_ref: NDArray[np.int64],
    cc_ts: NDArray[np.int64],
    cc_ref: NDArray[np.int64],
    window_days: int,
    min_loads: int,
    min_cards: int,
    min_c2c: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Frequent loads to several prepaid cards; card-to-card pushes into cards never loaded.

    ``prepaid_load`` rows go to a ring (all loads) and, with a known ``card``, to a keyed
    table of loaded cards. Fires on a load when loads in ``(t - window_days, t]`` reach
    ``min_loads`` and distinct loaded cards reach ``min_cards`` (evidence: loads).

    A ``card_to_card`` row is read as a transfer from the customer's ``card`` to the peer
    card in ``counterparty``. It qualifies when the source card was loaded in the window and
    the receiving card was not (a card funded only by transfers, F21-G18); fires when
    qualifying transfers in the window reach ``min_c2c`` (evidence: those transfers).

    polars equivalent, per customer: ``rolling(index_column="ts", period=f"{window_days}d")``
    of ``len()`` and ``card.n_unique()`` over loads; for transfers, a ``join_asof`` of the
    last load of the source and of the receiving card, then a ``rolling`` count.
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        c = cust[i]
        t = ts[i]
        lo = t - width
        if t_type == PREPAID_LOAD:
            ring_insert(ld_ts, ld_ref, c, t, seq[i])
            if card[i] != 0:
                keyed_touch(cd_key, cd_ts, cd_ref, c, card[i], t, seq[i])
            touched[i] = 1
            n_loads = ring_count(ld_ts, c, lo, t)
            n_cards = keyed_distinct(cd_ts, c, lo, t)
            if n_loads >= min_loads and n_cards >= min_cards:
                fired[i] = 1
                observed[i] = n_loads
                select_evidence(evidence[i], t, window(ld_ts, ld_ref, c, lo))
            continue
        if t_type != CARD_TO_CARD:
            continue
        src = card[i]
        dst = counterparty[i]
        if src == 0 or dst == 0 or src == dst:
            continue
        src_loaded = keyed_last(cd_key, cd_ts, c, src)
        dst_loaded = keyed_last(cd_key, cd_ts, c, dst)
        if not (lo < src_loaded <= t) or (lo < dst_loaded <= t):
            continue
        ring_insert(cc_ts, cc_ref, c, t, seq[i])
        touched[i] = 1
        n = ring_count(cc_ts, c, lo, t)
        if n >= min_c2c:
            fired[i] = 1
            observed[i] = n
            select_evidence(evidence[i], t, window(cc_ts, cc_ref, c, lo))


def _load(n: int, day: float, card: str, amount: float = 300.0) -> dict[str, Any]:
    return txn(
        n,
        "prepaid_load",
        amount,
        days=day,
        channel="online",
        card_id=card,
        mcc="6540",
        merchant_name="PREPAID RELOAD",
    )


def _push(n: int, day: float, card: str, peer: str, amount: float = 280.0) -> dict[str, Any]:
    return txn(
        n, "card_to_card", amount, days=day, channel="mobile", card_id=card, counterparty_id=peer
    )


SPEC = IndicatorSpec(
    id="PP-24",
    title="Reloadable prepaid card patterns",
    description=(
        "Frequent funding of reloadable prepaid cards, especially several cards (F21-G17), and "
        "card-to-card transfers from a reloaded card into a card that has no loads of its own "
        "(F21-G18). Prepaid cards carry proceeds out of the banking system and let one person "
        "fund cards used by others; FinCEN lists prepaid cards among the payment methods of "
        "the trade. Fires on four loads to at least two cards in 30 days, or two transfers in "
        "30 days from a loaded card into cards this customer never loaded. The person loading "
        "may be a victim told to buy cards or the trafficker, so the rule is context."
    ),
    family="RAILS",
    sources=(
        "FINTRAC-2021-OA001 G17",
        "FINTRAC-2021-OA001 G18",
        "FINTRAC-2021-OA001 G19",
        "FIN-2020-A008 #5",
    ),
    status="experimental",
    severity="medium",
    weight=1.5,
    role_signal="context",
    window="30d",
    threshold_param="min_loads",
    false_positives=(
        "Parents loading allowance cards for several children; employers funding expense " "cards.",
        "Travellers reloading multi-currency travel cards.",
        "Unbanked family members paid through prepaid cards by one relative.",
    ),
    required_fields=("txn_type", "card_id", "counterparty_id"),
    inputs=("cust", "seq", "ts", "txn_type", "card", "counterparty", "attempted"),
    state=(
        StateArray("ld_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("ld_ref", (RING,), np.int64, -1),
        StateArray("cd_key", (CARDS,), np.int64, 0),
        StateArray("cd_ts", (CARDS,), np.int64, EMPTY_TS),
        StateArray("cd_ref", (CARDS,), np.int64, -1),
        StateArray("cc_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("cc_ref", (RING,), np.int64, -1),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "min_loads", 4, 1, RING, "prepaid loads in the window", integer=True, capacity="ld_ts"
        ),
        Param(
            "min_cards",
            2,
            1,
            CARDS,
            "distinct cards loaded in the window",
            integer=True,
            capacity="cd_key",
        ),
        Param(
            "min_c2c",
            2,
            1,
            RING,
            "card-to-card transfers into cards with no loads, in the window",
            integer=True,
            capacity="cc_ts",
        ),
    ),
    kernel=reloadable_prepaid,
    coverage="partial",
    coverage_note=(
        "Prepaid program data is not in the contract: `card_to_card` has no direction (read "
        "as out of `card_id` into the peer card in `counterparty_id`), and loads made by other "
        "people onto this customer's card (F21-G19, one funder per card) are not visible. "
        "Optional `direction` and `funding_source_id` fields on prepaid rows would complete it."
    ),
    must_fire=(
        example(
            "four loads to two cards in three weeks",
            _load(1, 0, "CARD-PP-1"),
            _load(2, 5, "CARD-PP-2"),
            _load(3, 11, "CARD-PP-1"),
            _load(4, 19, "CARD-PP-2"),
        ),
        example(
            "loaded card pushed twice into a card that is never loaded",
            _load(1, 0, "CARD-PP-1", 500.0),
            _push(2, 0.2, "CARD-PP-1", "CARD-HER-9"),
            _load(3, 7, "CARD-PP-1", 500.0),
            _push(4, 7.2, "CARD-PP-1", "CARD-HER-9"),
        ),
    ),
    must_not_fire=(
        example(
            "one travel card reloaded weekly",
            *(_load(n + 1, 7 * n, "CARD-TRAVEL") for n in range(5)),
        ),
        example(
            "transfers between two cards that are both loaded",
            _load(1, 0, "CARD-PP-1"),
            _load(2, 1, "CARD-PP-2"),
            _push(3, 2, "CARD-PP-1", "CARD-PP-2"),
            _push(4, 9, "CARD-PP-2", "CARD-PP-1"),
        ),
    ),
)
