"""Tiny builders for the contract-format examples that specs carry (must fire / must not fire)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from indicators.spec import Example

EXAMPLE_CUSTOMER = "C-EXAMPLE"
_START = datetime.fromisoformat("2026-03-02T12:00:00-05:00")


def txn(
    n: int,
    txn_type: str,
    amount: float,
    *,
    hours: float = 0.0,
    days: float = 0.0,
    at: str | None = None,
    channel: str = "pos",
    **fields: Any,
) -> dict[str, Any]:
    """Transaction number ``n`` of the example customer, ``days``/``hours`` after a fixed start.

    ``at`` (``"HH:MM"``) sets the local time of day instead of noon.
    """
    ts = _START + timedelta(days=days, hours=hours)
    if at is not None:
        hh, mm = (int(x) for x in at.split(":"))
        ts = ts.replace(hour=hh, minute=mm)
    row = {
        "txn_id": f"EX-{n:04d}",
        "re_id": "RE-EXAMPLE",
        "ts": ts.isoformat(),
        "customer_id": EXAMPLE_CUSTOMER,
        "account_id": "A-EXAMPLE",
        "txn_type": txn_type,
        "channel": channel,
        "amount": amount,
        "currency": "CAD",
    }
    row.update(fields)
    return row


def example(
    name: str,
    *rows: dict[str, Any],
    profile: dict[str, Any] | None = None,
    parties: tuple[dict[str, Any], ...] = (),
) -> Example:
    if profile is not None:
        profile = {"customer_id": EXAMPLE_CUSTOMER, **profile}
    return Example(name=name, transactions=tuple(rows), profile=profile, parties=parties)


def flagged_party(signal: str, *, customer_id: str = "C-OTHER", **named_by: str) -> dict[str, Any]:
    """Another customer who announced ``signal``, named on the example's rows by ``named_by``
    (``counterparty_id=...`` or ``counterparty_email=...``), known before the first row."""
    return {"signal": signal, "customer_id": customer_id, **named_by}
