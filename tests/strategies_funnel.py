"""hypothesis strategies for the FUNNEL kernels that read ``cp_flags``: PP-18 and PP-22.

Registers each rule's :class:`~tests.strategies.Focus` and wraps
:func:`tests.strategies.batches`, which leaves ``cp_flags`` at 0 and draws ``ref_flags``
without the bits PP-18 reads. :func:`funnel_batches` fills in, per row:

* ``cp_flags``: random ``CP_*`` bits on rows with a counterparty (weighted towards the bit
  the rule reads), either drawn per row or fixed per counterparty for the whole example (as
  the party index would report them);
* for PP-18, ``ref_flags`` from escort-memo and bracket-alias bits;
* for PP-22, the senders of person-to-person credits from a few keys, and in two examples
  out of three credit amounts from a few round values (or all one value), so shares land
  exactly on ``min_share`` and sums on ``min_total``.

Two examples out of three re-time each customer's rows on whole days (the lifestyle
group's day grid), stepping sometimes, or mostly, by exactly the example's window.

Below-capacity batches (``within_rings``) keep every customer within the kernels' rings,
so the unbounded oracles (:mod:`tests.oracles_funnel`) and the bounded kernels agree
exactly: for PP-18 the escort-memo bit is dropped after 16 rows of a customer (the escort
ring, and so at most 16 senders) and the bracket-alias bit after 8 (the alias ring); for
PP-22 at most 30 rows per customer (32 credits). PP-18's onward ring (4 slots) needs no
bound: only whether a transfer is in the window matters, and the newest one is always kept.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import strategies as st

from indicators.columns import TXN_CODE
from indicators.pp18_emt_collector import ALIASES, RING
from tests.bits import (
    CP_ADV_LODGE,
    CP_ALERTED,
    CP_ESCORT_EMT,
    REF_BRACKET_ALIAS,
    REF_ESCORT_AD,
    REF_ESCORT_MEMO,
)
from tests.strategies import FOCUS, Focus, _vocabulary, batches
from tests.strategies_lifestyle import DAY_HOURS, DAY_STEPS, _day_grid

GROUP_IDS = ("PP-18", "PP-22")

# Random CP_* bits, weighted towards the bit each rule reads (0 twice: unflagged rows stay
# common; the other bits appear too, alone and combined).
CP_FLAGS: dict[str, tuple[int, ...]] = {
    "PP-18": (0, 0, CP_ESCORT_EMT, CP_ESCORT_EMT | CP_ALERTED, CP_ADV_LODGE, CP_ALERTED,
              CP_ADV_LODGE | CP_ESCORT_EMT | CP_ALERTED),
    "PP-22": (0, 0, CP_ADV_LODGE, CP_ADV_LODGE | CP_ALERTED, CP_ESCORT_EMT, CP_ALERTED,
              CP_ADV_LODGE | CP_ESCORT_EMT | CP_ALERTED),
}
PP18_FLAGS = (0, REF_ESCORT_MEMO, REF_ESCORT_MEMO, REF_ESCORT_MEMO, REF_BRACKET_ALIAS,
              REF_ESCORT_MEMO | REF_BRACKET_ALIAS, REF_ESCORT_AD)
# PP-22: senders of person-to-person credits (few, so one of them often dominates).
SENDERS = (0, 401, 402, 403, 404)
# PP-22's round-credit regime: shares land on simple fractions, sums on round thresholds.
ROUND_CREDITS = (50.0, 100.0, 100.0, 200.0, 250.0, 300.0, 500.0)

_IN = ("emt_in", "transfer_in")
_OUT = ("emt_out", "transfer_out")
_P2P = ("emt_in", "transfer_in", "wire_in")
_OTHER_CREDITS = ("cash_deposit", "eft_in")
_P2P_CODES = {TXN_CODE[t] for t in _P2P}
_CREDIT_CODES = _P2P_CODES | {TXN_CODE[t] for t in _OTHER_CREDITS}

FOCUS.update({
    # 30 rows per customer: the escort and alias bits are capped below their rings.
    "PP-18": Focus(types=_IN * 3 + _OUT + ("wire_in", "purchase"), mccs=(-1,), flags=(0,),
                   channels=("online", "mobile"), dense_max=30,
                   patterns=((_OUT,) + (_IN,) * 7,
                             (_IN, _IN, _IN, _OUT),
                             (_IN, _OUT + _IN),
                             (_IN,) * 5 + (_OUT + ("wire_in", "purchase"),))),
    "PP-22": Focus(types=_P2P * 3 + _OTHER_CREDITS + ("emt_out",), mccs=(-1,),
                   channels=("online", "mobile", "branch"), dense_max=30,
                   patterns=((_P2P,),
                             (_P2P, _P2P, _P2P, _OTHER_CREDITS),
                             (_P2P, ("emt_out", "purchase", "cash_deposit")))),
})


@st.composite
def funnel_batches(draw: st.DrawFn, focus: str, dense: bool = False,
                   max_per_customer: int = 15, within_rings: bool = True,
                   window_days: int | None = None) -> dict[str, np.ndarray]:
    """A :func:`tests.strategies.batches` batch with ``cp_flags`` (and PP-18's reference
    bits) filled in.

    ``within_rings``: no customer has more escort-memo rows than PP-18's escort ring holds,
    nor more bracket-alias rows than its alias ring (``False``: no bound, for tests that
    want the rings to overflow). ``window_days``: the example's window; in the day-grid
    regimes (two examples out of three) each customer's rows step by whole days, sometimes
    (in the ``edge`` regime mostly) by exactly the window, so events land on its edge.
    """
    cols = draw(batches(focus=focus, dense=dense, max_per_customer=max_per_customer))
    windows = (window_days,) * 2 if window_days else ()
    timing = draw(st.sampled_from(("as drawn", "day grid", "edge")))
    if timing == "day grid":
        _day_grid(draw, cols, DAY_STEPS + windows, DAY_HOURS)
    elif timing == "edge":  # most steps land an earlier row exactly on the window's edge
        _day_grid(draw, cols, (0, 1) + windows, (12,))
    party_flags = st.sampled_from(CP_FLAGS[focus])
    per_party = draw(st.booleans())  # else drawn per row
    known: dict[int, int] = {}
    ref_flags = _vocabulary(draw, PP18_FLAGS) if focus == "PP-18" else None
    round_credits = senders = None
    if focus == "PP-22":
        senders = _vocabulary(draw, SENDERS)
        style = draw(st.sampled_from(("as drawn", "round", "one amount")))
        if style != "as drawn":
            one = (draw(st.sampled_from(ROUND_CREDITS)),)
            round_credits = _vocabulary(draw, ROUND_CREDITS if style == "round" else one)
    caps = {REF_ESCORT_MEMO: RING, REF_BRACKET_ALIAS: ALIASES} if within_rings else {}
    seen: Counter[tuple[int, int]] = Counter()  # (customer, bit) -> rows so far
    for i in range(len(cols["cust"])):
        if senders is not None and cols["txn_type"][i] in _P2P_CODES:
            cols["counterparty"][i] = draw(senders)
        cp = int(cols["counterparty"][i])
        if cp != 0:
            if not per_party:
                cols["cp_flags"][i] = draw(party_flags)
            else:
                if cp not in known:
                    known[cp] = draw(party_flags)
                cols["cp_flags"][i] = known[cp]
        if ref_flags is not None:
            flags = draw(ref_flags)
            c = int(cols["cust"][i])
            for bit, cap in caps.items():
                if flags & bit:
                    if seen[c, bit] >= cap:
                        flags &= ~bit
                    else:
                        seen[c, bit] += 1
            cols["ref_flags"][i] = flags
        if round_credits is not None and cols["txn_type"][i] in _CREDIT_CODES:
            cols["amount"][i] = draw(round_credits)
    return cols
