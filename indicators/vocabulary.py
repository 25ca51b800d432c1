"""Words several indicators share, defined once so that two rules never disagree on them.

Which payments are lodging, which transaction types credit or debit an account, the rule
"enough events, or a large enough share of them", and which contract field names a
counterparty. The predicates are numba helpers, inlined into kernels; module constants are
frozen into the compiled code.
"""

from __future__ import annotations

from indicators.columns import (
    BILL_PAYMENT,
    CARD_TO_CARD,
    CASH_DEPOSIT,
    CASH_WITHDRAWAL,
    EFT_IN,
    EFT_OUT,
    EMT_IN,
    EMT_OUT,
    PREPAID_LOAD,
    PURCHASE,
    TRANSFER_IN,
    TRANSFER_OUT,
    VC_BUY,
    WIRE_IN,
    WIRE_OUT,
)
from indicators.jit import helper

# ------------------------------------------------------------------------- merchants


@helper
def is_lodging(mcc: int, ref_flags: int, ref_lodging_platforms: int) -> bool:
    """Hotel / motel / timeshare MCC, hotel-brand MCC 3501-3999, or a short-stay platform
    (``ref_lodging_platforms``: the bit of the ``lodging_platforms`` list)."""
    return (
        mcc == 7011
        or mcc == 7012
        or (3501 <= mcc <= 3999)
        or (ref_flags & ref_lodging_platforms) != 0
    )


# ----------------------------------------------------------------- transaction types


@helper
def is_credit(t_type: int) -> bool:
    """Money into the account: cash deposits and incoming transfers of every rail."""
    return t_type in (CASH_DEPOSIT, EMT_IN, TRANSFER_IN, WIRE_IN, EFT_IN)


@helper
def is_transfer_in(t_type: int) -> bool:
    """An incoming transfer (e-transfer, EFT, wire, internal transfer): a credit, not cash."""
    return t_type in (EMT_IN, EFT_IN, TRANSFER_IN, WIRE_IN)


@helper
def is_person_credit(t_type: int) -> bool:
    """A credit a person sends (e-transfer, transfer, wire). EFTs (payroll, benefits) and
    cash have no sender to count."""
    return t_type in (EMT_IN, TRANSFER_IN, WIRE_IN)


@helper
def is_debit(t_type: int) -> bool:
    """Money out of the account by any means, card purchases and prepaid loads included."""
    return t_type in (
        CASH_WITHDRAWAL,
        EMT_OUT,
        TRANSFER_OUT,
        WIRE_OUT,
        EFT_OUT,
        BILL_PAYMENT,
        PURCHASE,
        CARD_TO_CARD,
        VC_BUY,
        PREPAID_LOAD,
    )


@helper
def is_payment_out(t_type: int) -> bool:
    """A payment to someone else: a purchase, a bill or an outgoing transfer, not cash."""
    return t_type in (PURCHASE, EMT_OUT, EFT_OUT, WIRE_OUT, TRANSFER_OUT, BILL_PAYMENT)


# -------------------------------------------------------------------------- rules


@helper
def count_or_share(
    n: int,
    min_count: int,
    n_marked: float,
    n_all: float,
    share_min_marked: float,
    share_min_all: float,
    min_share: float,
) -> bool:
    """The rule "``n >= min_count`` events, or a share of them among all events": true when
    ``n`` reaches ``min_count``, or ``n_marked`` of ``n_all`` events are marked with
    ``n_marked >= share_min_marked``, ``n_all >= share_min_all`` and
    ``n_marked / n_all >= min_share`` (late-night cash among cash, white-label ATMs among
    withdrawals). ``n`` and ``n_marked`` differ only when a ring saturates."""
    share = (
        n_marked >= share_min_marked and n_all >= share_min_all and n_marked / n_all >= min_share
    )
    return n >= min_count or share


# ------------------------------------------------------------------------ contract


def counterparty_key_text(
    counterparty_id: str | None, email: str | None, phone: str | None, name: str | None
) -> str | None:
    """The text that names a transaction's counterparty, hashed into the ``counterparty``
    column: the counterparty id, else the e-mail (trimmed and case-folded: addresses are
    case-blind in practice), else the phone, else the display name; None when all are
    missing or empty.

    >>> counterparty_key_text(None, " Ann@Example.com", "+1 204 555 0100", "Ann")
    'ann@example.com'
    """
    return counterparty_id or (email.strip().casefold() if email else None) or phone or name or None
