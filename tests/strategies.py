"""hypothesis strategies for batch and profile columns, and a builder for hand-made scenarios.

Batches carry every column of ``BATCH_COLUMNS`` and ``PROFILE_COLUMNS`` with its dtype.
Rows are interleaved over a few customers with non-decreasing event time. Hashes come from
small, disjoint vocabularies so keys repeat the way real ones do. Each example picks its
own *regimes* (a time grid, narrow vocabularies, amount and balance styles, how many
attempted rows), so some examples are dominated by one pattern and hit window edges and
thresholds exactly, which is where off-by-one bugs live.

Each indicator has a :class:`Focus`: broad batches over-represent its transaction types;
dense batches (one busy customer) use only its types, in one of its row patterns.
``max_per_customer`` (and ``Focus.dense_max``) keep each customer's relevant events below
the smallest ring / table the kernel fills, so the unbounded oracles and the bounded
kernels must agree exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from indicators.columns import BATCH_COLUMNS, CHANNEL_CODE, DAY, PROFILE_COLUMNS, TXN_CODE
from indicators.spec import IndicatorSpec
from tests.bits import (
    PROFILE_ADVERSE_MEDIA,
    PROFILE_TRAVEL_OCCUPATION,
    PROFILE_VENUE_INDUSTRY,
    REF_AD_PREMIUM,
    REF_ESCORT_AD,
    REF_LODGING_PLATFORM,
)

T0 = 1_772_470_800  # 2026-03-02T17:00:00Z
HOUR = 3600

# Disjoint small vocabularies (0 = missing), so a location never equals a city hash.
CITIES = (0, 101, 102, 103)
PROVINCE_OF = {0: 0, 101: 11, 102: 11, 103: 12}
LOCATIONS = (0, 201, 202, 203, 204, 205)
MERCHANTS = (0, 301, 302, 303, 304, 305)
COUNTERPARTIES = (0, 401, 402, 403, 404, 405, 406, 407, 408)
# Dense batches need more distinct keys than evidence slots.
DENSE_LOCATIONS = LOCATIONS + tuple(range(206, 216))
DENSE_MERCHANTS = MERCHANTS + tuple(range(306, 316))
DENSE_COUNTERPARTIES = COUNTERPARTIES + tuple(range(409, 419))
TZ_OFFSETS = (-3 * HOUR - 1800, -4 * HOUR, -5 * HOUR, -8 * HOUR)  # local days may step back one
REF_FLAGS = (
    0,
    0,
    REF_ESCORT_AD,
    REF_ESCORT_AD | REF_AD_PREMIUM,
    REF_LODGING_PLATFORM,
    REF_LODGING_PLATFORM | REF_ESCORT_AD,
)
PROFILE_FLAGS = (
    0,
    PROFILE_TRAVEL_OCCUPATION,
    PROFILE_ADVERSE_MEDIA,
    PROFILE_TRAVEL_OCCUPATION | PROFILE_VENUE_INDUSTRY,
)

LODGING_MCCS = (7011, 7012, 3501, 3650, 3999, 3500, 4000, 4722)
LIVING_MCCS = (5411, 5499, 5812, 5814, 5912, 5541, 5542, 5651, 5311)
OTHER_MCCS = (-1, 5999, 7311, 6011, 5813)
ALL_MCCS = LODGING_MCCS + LIVING_MCCS + OTHER_MCCS

# Gaps between consecutive rows: round values hit window edges exactly, others do not.
GAPS = (0, 0, 1, 60, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 36 * HOUR, 2 * DAY, 3 * DAY, 7 * DAY)
GRIDS = (1, 60, HOUR, 6 * HOUR, DAY)  # random gaps are multiples of the example's grid
ROUND_AMOUNTS = (12.0, 24.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_000.0, 2_500.0)
FOLLOW_RATIOS = (0.5, 1.0, 1.0, 1.25, 2.0)  # exact in binary, so sums stay exact
NICE_FRACTIONS = (0.1, 0.25, 0.3, 0.5, 0.6, 0.75, 1.0)

CREDITS = ("emt_in", "cash_deposit", "eft_in", "transfer_in", "wire_in")
DEBITS = (
    "cash_withdrawal",
    "emt_out",
    "vc_buy",
    "transfer_out",
    "wire_out",
    "eft_out",
    "card_to_card",
    "prepaid_load",
)
LIVING = ("purchase", "bill_payment")


@dataclass(frozen=True)
class Focus:
    """What an indicator's batches over-represent."""

    types: tuple[str, ...]
    mccs: tuple[int, ...]
    flags: tuple[int, ...] = REF_FLAGS
    channels: tuple[str, ...] = ("pos", "atm", "branch")
    # Dense batches cycle through one of these row patterns (each step: types to pick from).
    patterns: tuple[tuple[tuple[str, ...], ...], ...] = ()
    # Rows per customer in dense batches: below every ring / table the kernel fills.
    dense_max: int = 15
    # Dense batches: a non-credit row's amount follows the row before (passes credits).
    follow: bool = False


FOCUS: dict[str, Focus] = {
    "PP-01": Focus(
        types=("purchase", "preauth"),
        mccs=(7311, 5967, 7273),
        flags=(REF_ESCORT_AD, REF_ESCORT_AD, REF_ESCORT_AD | REF_AD_PREMIUM, 0),
    ),
    "PP-04": Focus(
        types=("purchase", "preauth"),
        mccs=LODGING_MCCS + (5411,),
        flags=(0, 0, REF_LODGING_PLATFORM),
    ),
    # Both PP-12 rings hold 32 events.
    "PP-12": Focus(types=("cash_deposit", "cash_withdrawal"), mccs=(6011,), dense_max=30),
    "PP-13": Focus(
        types=("cash_deposit",) * 3 + ("cash_withdrawal", "purchase"),
        mccs=LIVING_MCCS,
        patterns=(
            (("cash_deposit",),) * 3 + (("cash_withdrawal", "purchase"),),
            (("cash_deposit",), ("cash_withdrawal", "purchase")),
        ),
    ),
    # At most 19 counterparties: the 32-slot sender table never evicts.
    "PP-16": Focus(
        types=("emt_in", "transfer_in", "wire_in", "eft_in", "cash_deposit"),
        mccs=(-1,),
        dense_max=30,
        patterns=(
            (("emt_in", "transfer_in", "wire_in"),) * 3 + (("eft_in", "cash_deposit", "emt_in"),),
            (("emt_in",), ("eft_in", "cash_deposit")),
        ),
    ),
    # Patterns are at most half credits: 30 rows keep credits below the 16-slot ring.
    "PP-17": Focus(
        types=(
            "emt_in",
            "emt_in",
            "cash_deposit",
            "eft_in",
            "cash_withdrawal",
            "cash_withdrawal",
            "emt_out",
            "bill_payment",
            "purchase",
            "vc_buy",
        ),
        mccs=(5411, 5814, 5912, 5999, 7311, 6011, -1),
        dense_max=30,
        follow=True,
        patterns=(
            (CREDITS, DEBITS),
            (CREDITS, CREDITS, DEBITS, DEBITS),
            (CREDITS, DEBITS, DEBITS),
            (CREDITS, DEBITS, LIVING),
        ),
    ),
}
_GENERIC = Focus(types=(), mccs=())
_T = TXN_CODE
_CREDIT_CODES = {_T[t] for t in CREDITS}
_DEBIT_CODES = {_T[t] for t in DEBITS + LIVING}


def _vocabulary(draw: st.DrawFn, values: Sequence[Any], max_size: int = 4) -> st.SearchStrategy:
    """Rows sample from all of ``values``, or from a few of them drawn for this example."""
    narrow = draw(st.lists(st.sampled_from(values), min_size=1, max_size=max_size))
    return st.sampled_from(draw(st.sampled_from((tuple(values), tuple(narrow)))))


@st.composite
def batches(
    draw: st.DrawFn,
    focus: str | None = None,
    max_customers: int = 3,
    max_per_customer: int = 15,
    dense: bool = False,
) -> dict[str, np.ndarray]:
    """A batch of columns (batch and profile) for ``focus`` (an indicator id) or for all.

    ``dense``: one busy customer whose rows all follow the focus's types (or one of its row
    patterns), close together, so windows hold more events than the evidence slots.
    """
    f = FOCUS.get(focus or "", _GENERIC)
    pattern: tuple[st.SearchStrategy, ...] = ()
    if dense:
        max_per_customer = max(max_per_customer, f.dense_max)
        types = st.sampled_from(f.types or tuple(_T))
        if f.patterns:
            pattern = tuple(st.sampled_from(step) for step in draw(st.sampled_from(f.patterns)))
        mccs = st.sampled_from(f.mccs or ALL_MCCS)
        flags = st.sampled_from(f.flags)
        channels = st.sampled_from(f.channels * 3 + tuple(CHANNEL_CODE))
    else:
        types = _vocabulary(draw, tuple(f.types) * 6 + tuple(_T))
        mccs = _vocabulary(draw, tuple(f.mccs) * 4 + ALL_MCCS)
        flags = _vocabulary(draw, REF_FLAGS)
        channels = _vocabulary(draw, f.channels * 2 + tuple(CHANNEL_CODE))
    cities = _vocabulary(draw, CITIES)
    locations = _vocabulary(draw, DENSE_LOCATIONS if dense else LOCATIONS)
    merchants = _vocabulary(draw, DENSE_MERCHANTS if dense else MERCHANTS)
    counterparties = _vocabulary(draw, DENSE_COUNTERPARTIES if dense else COUNTERPARTIES)
    offsets = _vocabulary(draw, TZ_OFFSETS)
    attempted = st.sampled_from(draw(st.sampled_from(((0,), (0, 0, 0, 1), (0, 1)))))
    grid = draw(st.sampled_from(GRIDS))
    tempo = draw(st.sampled_from((2 * HOUR, 12 * HOUR) + (() if dense else (2 * DAY,))))
    gaps = st.one_of(
        _vocabulary(draw, GAPS), st.integers(0, max(1, tempo // grid)).map(lambda k: k * grid)
    )
    amounts = draw(
        st.sampled_from(
            (
                st.one_of(
                    st.just(float("nan")),
                    st.integers(0, 12_000).map(lambda q: q / 4),
                    st.integers(1, 60).map(lambda q: q * 3.0),
                ),
                st.integers(40, 1_200).map(lambda q: q / 2),  # no NaN, moderate amounts
                st.sampled_from(ROUND_AMOUNTS),  # repeated values: sums land on thresholds
            )
        )
    )
    balance_style = draw(st.sampled_from(("none", "random", "depleted", "running")))
    balances = {
        "none": st.just(float("nan")),
        "random": st.one_of(st.just(float("nan")), st.integers(-400, 2_000).map(float)),
        "depleted": st.integers(-50, 100).map(float),
        "running": st.just(float("nan")),  # filled in below from the flows
    }[balance_style]
    follow = st.sampled_from(FOLLOW_RATIOS)

    n_cust = 1 if dense else draw(st.integers(1, max_customers))
    # Busy customers are where windows fill up; plain integers() would favour tiny ones.
    busy = st.integers(max(0, max_per_customer - 5), max_per_customer)
    sizes = busy if dense else st.one_of(st.integers(0, max_per_customer), busy)
    per_cust = draw(st.lists(sizes, min_size=n_cust, max_size=n_cust))
    labels = draw(st.permutations([c for c, k in enumerate(per_cust) for _ in range(k)]))
    n = len(labels)

    cols = {
        name: np.full(n, missing, dtype=dtype)
        for name, (dtype, missing, _) in BATCH_COLUMNS.items()
    }
    base_seq = draw(st.integers(0, 10_000))
    t = T0 + draw(st.integers(0, DAY // grid)) * grid
    running = [float(draw(st.integers(0, 500))) for _ in range(n_cust)]
    for i, c in enumerate(labels):
        t += draw(gaps)
        local = t + draw(offsets)
        city = draw(cities)
        t_type = _T[draw(pattern[i % len(pattern)] if pattern else types)]
        amount = draw(amounts)
        if dense and f.follow and i > 0 and t_type not in _CREDIT_CODES:
            amount = cols["amount"][i - 1] * draw(follow)
        balance = draw(balances)
        if balance_style == "running" and amount == amount:
            if t_type in _CREDIT_CODES:
                running[c] += amount
            elif t_type in _DEBIT_CODES:
                running[c] -= amount
            balance = running[c]
        cols["cust"][i] = c
        cols["seq"][i] = base_seq + i
        cols["ts"][i] = t
        cols["local_day"][i] = local // DAY
        cols["local_tod"][i] = local % DAY
        cols["txn_type"][i] = t_type
        cols["channel"][i] = CHANNEL_CODE[draw(channels)]
        cols["amount"][i] = amount
        cols["balance"][i] = balance
        cols["mcc"][i] = draw(mccs)
        cols["city"][i] = city
        cols["province"][i] = PROVINCE_OF[city]
        cols["location"][i] = draw(locations)
        cols["merchant"][i] = draw(merchants)
        cols["counterparty"][i] = draw(counterparties)
        cols["ref_flags"][i] = draw(flags)
        cols["attempted"][i] = draw(attempted)
    cols.update(
        profiles_for(
            draw(st.lists(st.sampled_from(CITIES), min_size=n_cust, max_size=n_cust)),
            draw(st.lists(st.sampled_from(PROFILE_FLAGS), min_size=n_cust, max_size=n_cust)),
            draw(
                st.lists(
                    st.one_of(st.just(float("nan")), st.integers(0, 200_000).map(float)),
                    min_size=n_cust,
                    max_size=n_cust,
                )
            ),
        )
    )
    return cols


def profiles_for(
    home_city: Sequence[int],
    profile_flags: Sequence[int],
    declared_income: Sequence[float] | None = None,
) -> dict[str, np.ndarray]:
    """Profile columns, one entry per customer slot."""
    n = len(home_city)
    income = declared_income if declared_income is not None else [float("nan")] * n
    values = {"home_city": home_city, "profile_flags": profile_flags, "declared_income": income}
    return {
        name: (
            np.asarray(values[name], dtype=dtype)
            if name in values
            else np.full(n, missing, dtype=dtype)
        )
        for name, (dtype, missing, _) in PROFILE_COLUMNS.items()
    }


@st.composite
def params_for(draw: st.DrawFn, spec: IndicatorSpec) -> dict[str, float | int]:
    """Parameter values inside the spec's bounds, biased to where rules can fire.

    Integers: the default, a bound, or anywhere (thresholds named ``min_*`` also at or
    below the default). Floats: the default, the lower bound, a round fraction, or near
    the default (a uniform draw over [1, 100000] CAD would make amount thresholds
    unreachable in nearly every example).
    """
    values: dict[str, float | int] = {}
    for p in spec.params:
        if p.integer:
            choice = st.one_of(
                st.just(p.default), st.sampled_from((p.lo, p.hi)), st.integers(int(p.lo), int(p.hi))
            )
            if p.name.startswith("min_"):
                choice = st.one_of(choice, st.integers(int(p.lo), int(max(p.lo, p.default))))
        else:
            top = min(p.hi, max(4 * p.default, p.lo + 1))
            nice = [x for x in NICE_FRACTIONS + ROUND_AMOUNTS if p.lo <= x <= p.hi]
            choice = st.one_of(
                st.just(p.default),
                st.just(p.lo),
                st.sampled_from(nice or [p.default]),
                st.integers(int(p.lo * 100), int(top * 100)).map(lambda q: q / 100),
            )
        values[p.name] = draw(choice)
    return spec.resolve_params(values)


@st.composite
def chunk_bounds(draw: st.DrawFn, n: int, max_chunks: int = 5) -> list[int]:
    """Cut points ``[0, ..., n]`` splitting ``n`` rows into up to ``max_chunks`` chunks."""
    if n < 2:
        return [0, n]
    cuts = draw(st.lists(st.integers(1, n - 1), max_size=max_chunks - 1, unique=True))
    return [0, *sorted(cuts), n]


def columns_from_rows(
    rows: Sequence[Mapping[str, Any]],
    profiles: Mapping[str, Sequence[Any]] | None = None,
    tz_offset: int = -5 * HOUR,
) -> dict[str, np.ndarray]:
    """Columns for hand-made scenarios: each row gives ``ts`` and any other batch column.

    Missing columns take their missing value (``cust`` 0); ``seq`` is the row number;
    ``local_day`` / ``local_tod`` follow from ``ts`` and ``tz_offset`` unless given.
    """
    n = len(rows)
    cols = {
        name: np.full(n, missing, dtype=dtype)
        for name, (dtype, missing, _) in BATCH_COLUMNS.items()
    }
    cols["cust"][:] = 0
    cols["seq"][:] = np.arange(n)
    cols["attempted"][:] = 0
    for i, row in enumerate(rows):
        local = row["ts"] + tz_offset
        cols["local_day"][i] = local // DAY
        cols["local_tod"][i] = local % DAY
        for name, value in row.items():
            cols[name][i] = value
    n_cust = int(cols["cust"].max()) + 1 if n else 1
    profiles = dict(profiles or {})
    cols.update(
        profiles_for(
            profiles.get("home_city", [0] * n_cust),
            profiles.get("profile_flags", [0] * n_cust),
            profiles.get("declared_income"),
        )
    )
    return cols
