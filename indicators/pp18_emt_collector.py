"""PP-18 · EMT collector / nominee (FUNNEL)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import DAY, EMPTY_TS, EMT_IN, EMT_OUT, TRANSFER_IN, TRANSFER_OUT
from indicators.examples import example, flagged_party, txn
from indicators.jit import helper, kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import (
    keyed_distinct,
    keyed_touch,
    ring_count,
    ring_insert,
    select_evidence,
    window,
)

RING = 16  # escort-referenced credits kept per customer
SENDERS = 16  # distinct senders of such credits
ALIASES = 8  # e-transfers naming a bracketed alias
OUT = 4  # recent onward e-transfers (only whether one exists matters)


@kernel
def emt_collector(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    txn_type: NDArray[np.int8],
    counterparty: NDArray[np.int64],
    ref_flags: NDArray[np.int64],
    cp_flags: NDArray[np.int64],
    attempted: NDArray[np.int8],
    esc_ts: NDArray[np.int64],
    esc_ref: NDArray[np.int64],
    snd_key: NDArray[np.int64],
    snd_ts: NDArray[np.int64],
    snd_ref: NDArray[np.int64],
    alias_ts: NDArray[np.int64],
    alias_ref: NDArray[np.int64],
    out_ts: NDArray[np.int64],
    out_ref: NDArray[np.int64],
    window_days: int,
    min_escort_emts: int,
    min_senders: int,
    min_aliases: int,
    min_network_emts: int,
    ref_escort_memo_lexicon: int,
    ref_bracket_alias: int,
    signal_escort_emt: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Escort-referenced e-transfers collected from several senders and passed on.

    Inbound e-transfers whose memo or sender name matches the escort lexicon are counted with
    their distinct senders; e-transfers in either direction naming an alias in brackets
    (``jane@example.com (Bambi)``) are counted too. Fires on an escort-referenced inbound
    e-transfer when ``min_escort_emts`` of them from ``min_senders`` senders arrived in the
    window and money was sent on by e-transfer in the same window (the collector passes the
    takings on), or on any e-transfer once ``min_aliases`` bracketed aliases were seen.

    The network half (two hops): an onward e-transfer to a recipient who *itself* receives
    escort-referenced e-transfers (``signal_escort_emt`` in ``cp_flags``, from the party index)
    fires once the sender received ``min_network_emts`` escort-referenced e-transfers in
    the window: the recipient's own pattern corroborates a smaller fan-in. Its evidence is
    the onward transfer followed by those credits.

    polars equivalent, per customer: rolling ``window_days`` counts of escort-lexicon
    ``emt_in`` rows, ``n_unique`` of their counterparties, and counts of ``emt_out`` and of
    bracket-alias rows.
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        t_type = txn_type[i]
        inbound = t_type == EMT_IN or t_type == TRANSFER_IN
        outbound = t_type == EMT_OUT or t_type == TRANSFER_OUT
        if not inbound and not outbound:
            continue
        c = cust[i]
        t = ts[i]
        lo = t - width
        flags = ref_flags[i]
        network = False  # sent on to someone who receives escort-referenced e-transfers too
        if outbound:
            ring_insert(out_ts, out_ref, c, t, seq[i])
            touched[i] = 1
            network = (cp_flags[i] & signal_escort_emt) != 0
        escort = inbound and (flags & ref_escort_memo_lexicon) != 0
        if escort:
            ring_insert(esc_ts, esc_ref, c, t, seq[i])
            if counterparty[i] != 0:
                keyed_touch(snd_key, snd_ts, snd_ref, c, counterparty[i], t, seq[i])
            touched[i] = 1
        alias = (flags & ref_bracket_alias) != 0
        if alias:
            ring_insert(alias_ts, alias_ref, c, t, seq[i])
            touched[i] = 1
        if not escort and not alias and not network:
            continue
        n_escort = ring_count(esc_ts, c, lo, t)
        n_alias = ring_count(alias_ts, c, lo, t)
        collecting = (
            escort
            and n_escort >= min_escort_emts
            and keyed_distinct(snd_ts, c, lo, t) >= min_senders
            and ring_count(out_ts, c, lo, t) >= 1
        )
        if collecting:
            fired[i] = 1
            observed[i] = n_escort
            select_evidence(evidence[i], t, window(esc_ts, esc_ref, c, lo))
        elif network and n_escort >= min_network_emts:
            fired[i] = 1
            observed[i] = n_escort
            _onward_evidence(esc_ts, esc_ref, c, lo, t, seq[i], evidence[i])
        elif alias and n_alias >= min_aliases:
            fired[i] = 1
            observed[i] = n_escort
            select_evidence(evidence[i], t, window(alias_ts, alias_ref, c, lo))


@helper
def _onward_evidence(
    esc_ts: NDArray[np.int64],
    esc_ref: NDArray[np.int64],
    c: int,
    lo: int,
    t: int,
    onward_ref: int,
    out: NDArray[np.int64],
) -> None:
    """The onward transfer first, then the newest escort-referenced credits."""
    out[0] = onward_ref
    select_evidence(out[1:], t, window(esc_ts, esc_ref, c, lo))


def _emt_in(n: int, day: float, memo: str, sender: str, **fields: Any) -> dict[str, Any]:
    return txn(
        n,
        "emt_in",
        120.0,
        days=day,
        channel="online",
        memo=memo,
        counterparty_id=sender,
        counterparty_name=fields.pop("name", "client"),
        **fields,
    )


SPEC = IndicatorSpec(
    id="PP-18",
    title="EMT collector / nominee",
    description=(
        "FINTRAC-2021-OA001 G29 describes the collector or nominee: an account that receives many "
        "e-transfers with escort-related references (service terms, agency names, emoji) from "
        "several parties, usually clients, then sends e-transfers on to the trafficker or to "
        "victims, with few other escort-related transactions of its own; G30 adds e-transfers "
        "that name an escort agency, and F16-P11 e-transfers to or from a display name with an "
        "alias in brackets. The memo lexicon and agency names are the `escort_memo_lexicon` "
        "reference list (illustrative defaults)."
    ),
    family="FUNNEL",
    sources=("FINTRAC-2021-OA001 G29", "FINTRAC-2021-OA001 G30", "FINTRAC-2016-OA003 P11"),
    status="experimental",
    severity="high",
    weight=3.0,
    role_signal="collector",
    window="30d",
    threshold_param="min_escort_emts",
    false_positives=(
        "Massage therapists, spas or beauty workers whose clients write service words in memos; "
        "the lexicon should avoid everyday service terms.",
        "Independent adult workers receiving client payments (no onward forwarding pattern).",
    ),
    required_fields=("txn_type", "memo", "counterparty_id", "counterparty_name"),
    inputs=("cust", "seq", "ts", "txn_type", "counterparty", "ref_flags", "cp_flags", "attempted"),
    state=(
        StateArray("esc_ts", (RING,), np.int64, EMPTY_TS),
        StateArray("esc_ref", (RING,), np.int64, -1),
        StateArray("snd_key", (SENDERS,), np.int64, 0),
        StateArray("snd_ts", (SENDERS,), np.int64, EMPTY_TS),
        StateArray("snd_ref", (SENDERS,), np.int64, -1),
        StateArray("alias_ts", (ALIASES,), np.int64, EMPTY_TS),
        StateArray("alias_ref", (ALIASES,), np.int64, -1),
        StateArray("out_ts", (OUT,), np.int64, EMPTY_TS),
        StateArray("out_ref", (OUT,), np.int64, -1),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "min_escort_emts",
            5,
            2,
            RING,
            "escort-referenced inbound e-transfers in the window",
            integer=True,
            capacity="esc_ts",
        ),
        Param(
            "min_senders",
            3,
            1,
            SENDERS,
            "distinct senders of those e-transfers",
            integer=True,
            capacity="snd_key",
        ),
        Param(
            "min_aliases",
            2,
            1,
            ALIASES,
            "e-transfers naming a bracketed alias",
            integer=True,
            capacity="alias_ts",
        ),
        Param(
            "min_network_emts",
            2,
            1,
            RING,
            "escort-referenced credits before an onward transfer to a recipient who receives them "
            "too",
            integer=True,
            capacity="esc_ts",
        ),
    ),
    kernel=emt_collector,
    reference_lists=("escort_memo_lexicon", "bracket_alias"),
    party_signals=("escort_emt",),
    coverage="full",
    coverage_note=(
        "The network half (onward recipients who themselves receive escort-referenced "
        "e-transfers) needs the cross-customer stage (cross_customer = true) and recipients who "
        "are customers of the same reporting entity, named by customer / account id or by the "
        "e-mail / phone on their profile (engine/crosscustomer/parties.py). The two-hop subgraph "
        "is drawn in "
        "the case's link graph, not in the alert."
    ),
    must_fire=(
        example(
            "five escort-referenced e-transfers from three clients, then forwarded",
            txn(
                1,
                "emt_out",
                300.0,
                channel="online",
                counterparty_id="BOSS",
                counterparty_name="boss",
            ),
            _emt_in(2, 1, "gfe 1hr", "S1"),
            _emt_in(3, 2, "outcall", "S2"),
            _emt_in(4, 3, "qv", "S3"),
            _emt_in(5, 4, "incall", "S1"),
            _emt_in(6, 5, "gfe", "S2"),
        ),
        example(
            "two escort-referenced credits, then sent on to a recipient who collects them too",
            _emt_in(1, 1, "gfe 1hr", "S1"),
            _emt_in(2, 2, "outcall", "S2"),
            txn(
                3,
                "emt_out",
                250.0,
                days=3,
                channel="online",
                counterparty_id="C-HUB",
                counterparty_name="hub",
                counterparty_email="hub@example.com",
            ),
            parties=(
                flagged_party(
                    "escort_emt", customer_id="C-HUB", counterparty_email="hub@example.com"
                ),
            ),
        ),
        example(
            "two e-transfers naming an alias in brackets",
            txn(
                1,
                "emt_out",
                80.0,
                channel="online",
                counterparty_id="R1",
                counterparty_name="jane@example.com (Bambi)",
            ),
            txn(
                2,
                "emt_out",
                80.0,
                days=2,
                channel="online",
                counterparty_id="R1",
                counterparty_name="jane@example.com (Bambi)",
            ),
        ),
    ),
    must_not_fire=(
        example(
            "rent collected from tenants and nothing escort-related",
            *[_emt_in(i, i, "rent march", f"T{i}") for i in range(1, 6)],
            txn(9, "emt_out", 900.0, days=6, channel="online", counterparty_id="BANK"),
        ),
        example(
            "escort-referenced payments kept, never passed on",
            *[_emt_in(i, i, "gfe", f"S{i % 3}") for i in range(1, 7)],
        ),
        example(
            "a payment to a recipient who collects escort e-transfers, with none received",
            _emt_in(1, 1, "rent march", "T1"),
            txn(
                2,
                "emt_out",
                250.0,
                days=3,
                channel="online",
                counterparty_id="C-HUB",
                counterparty_email="hub@example.com",
            ),
            parties=(
                flagged_party(
                    "escort_emt", customer_id="C-HUB", counterparty_email="hub@example.com"
                ),
            ),
        ),
    ),
)
