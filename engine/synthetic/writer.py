"""The ledger: collects posted rows, orders them by UTC instant, keeps balances, writes JSONL.

Rows may be posted for any future day (a refund next week, a forward at 3 a.m. tomorrow),
so the ledger keeps a pending buffer and, after each generated day, writes only the rows
that can no longer be preceded by anything generated later: those before the earliest
local midnight of the next day over all zones (``Clock.day_cutoff``). Memory stays bounded
by about one day of rows. ``balance_after`` is computed at write time, in UTC order, from
integer cents so the running balance never drifts.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import msgspec
from msgspec import Raw

from engine.synthetic.identity import Party
from engine.synthetic.merchants import Merchant
from engine.synthetic.places import CAD_PER, CITIES, CURRENCY, Clock

# Transaction types that add to the account balance; everything else takes away.
CREDITS = frozenset({"cash_deposit", "emt_in", "eft_in", "wire_in", "transfer_in", "refund",
                     "vc_sell", "casino_cash_out"})  # fmt: skip


class TxnRow(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Output row in CONTRACT §1 field order; ``schemas.contract.Transaction`` decodes it.

    Money is ``Raw`` so it is written with exactly two decimals (``12.50``), as a JSON number.
    """

    txn_id: str
    re_id: str
    ts: str  # set at write time, from the UTC instant and the zone
    customer_id: str
    account_id: str
    txn_type: str
    channel: str
    amount: Raw
    currency: str  # no default: omit_defaults would drop "CAD", a required field
    amount_cad: Raw | None = None
    balance_after: Raw | None = None
    mcc: str | None = None
    merchant_id: str | None = None
    merchant_name: str | None = None
    city: str | None = None
    province: str | None = None
    country: str | None = None
    location_id: str | None = None
    terminal_owner: str | None = None
    counterparty_id: str | None = None
    counterparty_name: str | None = None
    counterparty_email: str | None = None
    counterparty_phone: str | None = None
    counterparty_country: str | None = None
    memo: str | None = None
    linked_txn_id: str | None = None
    card_id: str | None = None
    device_id: str | None = None
    ip: str | None = None
    attempted: bool = False


def money(cents: int) -> Raw:
    """Cents as a two-decimal JSON number (negative allowed, for balances).

    ``cents / 100`` is the double nearest the decimal value, so ``:.2f`` gives it back exactly
    (for any balance below 2**53 cents)."""
    return Raw(f"{cents / 100:.2f}".encode())


class Ledger:
    """Posting API used by the behaviour modules, and the ordered JSONL writer."""

    def __init__(self, out: IO[bytes], clock: Clock, re_id: str):
        self.out = out
        self.clock = clock
        self.re_id = re_id
        self.balance: list[int] = []  # cents, by customer idx; set by ``open_accounts``
        self.projected: list[int] = []  # cents after every row posted so far, in posting order
        self.pending: list[tuple[int, int, int, int, int, TxnRow]] = []
        self.seq = 0
        self.written = 0
        self.last_day = -1  # local day of the last row ``post`` accepted
        self._encoder = msgspec.json.Encoder()

    def open_accounts(self, opening_cents: list[int]) -> None:
        """Opening balances (cents) by customer index, before the first day is posted."""
        self.balance = list(opening_cents)
        self.projected = list(opening_cents)

    def funds(self, cust: Any) -> float:
        """What ``cust`` will have once everything posted so far has settled (CAD): lets
        behaviour code avoid spending money a person does not have."""
        return self.projected[cust.idx] / 100

    def post(
        self,
        cust: Any,
        day: int,
        tod: int,
        txn_type: str,
        channel: str,
        amount: float,
        city: int = -1,
        zone: int = -1,
        currency: str | None = None,
        **fields: Any,
    ) -> str:
        """Post one transaction of ``cust`` at local ``day`` + ``tod`` seconds.

        ``city`` (an index into ``CITIES``) adds city/province/country and sets the clock zone;
        online rows pass ``city=-1`` and take the zone of where the customer is that day.
        ``currency`` defaults to the city's country currency. Returns the txn_id, or "" when
        the row falls outside the period (then nothing is written); ``last_day`` is the local
        day it landed on.
        """
        tod = max(0, int(tod))
        if city < 0 and zone < 0:  # online: where the customer was that day (late night included)
            zone = self.clock.city_zone[cust.city_on(day)]
        day += tod // 86_400
        tod %= 86_400
        if day < 0 or day >= self.clock.days:
            return ""
        self.last_day = day
        if city >= 0:
            c = CITIES[city]
            fields["city"], fields["province"], fields["country"] = c.name, c.province, c.country
            zone = self.clock.city_zone[city]
            if currency is None:
                currency = CURRENCY[c.country]
        utc = self.clock.utc(zone, day, tod)
        return self.post_at(cust, utc, zone, txn_type, channel, amount, currency or "CAD", fields)

    def purchase(
        self,
        cust: Any,
        day: int,
        tod: int,
        merchant: Merchant,
        amount: float,
        channel: str = "pos",
        city: int = -1,
        currency: str | None = None,
        txn_type: str = "purchase",
        name: str | None = None,
        **fields: Any,
    ) -> str:
        """A card payment (or, with ``txn_type="refund"``, a refund) at ``merchant``; ``name``
        overrides the printed descriptor."""
        return self.post(
            cust,
            day,
            tod,
            txn_type,
            channel,
            round(amount, 2),
            city=city,
            currency=currency,
            mcc=merchant.mcc,
            merchant_id=merchant.merchant_id,
            merchant_name=name or merchant.name,
            card_id=cust.card_id,
            **fields,
        )

    def emt(
        self,
        cust: Any,
        day: int,
        tod: int,
        txn_type: str,
        party: Party,
        amount: float,
        memo: str = "",
        channel: str = "mobile",
    ) -> str:
        """An Interac e-Transfer with someone outside the bank; outgoing ones carry the
        customer's device and IP."""
        fields: dict[str, Any] = {"counterparty_id": party.cp_id, "counterparty_name": party.name}
        if party.email:
            fields["counterparty_email"] = party.email
        if party.phone:
            fields["counterparty_phone"] = party.phone
        if memo:
            fields["memo"] = memo
        if txn_type == "emt_out":
            fields["device_id"], fields["ip"] = cust.device_id, cust.ip
        return self.post(cust, day, tod, txn_type, channel, round(amount, 2), **fields)

    def post_at(
        self,
        cust: Any,
        utc: int,
        zone: int,
        txn_type: str,
        channel: str,
        amount: float,
        currency: str,
        fields: dict[str, Any],
    ) -> str:
        """Post at an exact UTC instant (the receiving side of a transfer). Returns the txn_id."""
        self.seq += 1
        txn_id = f"TX{self.seq:010d}"
        cents = int(round(amount * 100))
        if currency != "CAD":
            cad = int(round(cents * CAD_PER[currency]))
            fields["amount_cad"] = money(cad)
        else:
            cad = cents
        if fields.get("attempted"):
            cad = 0
        elif txn_type not in CREDITS:
            cad = -cad
        row = TxnRow(
            txn_id=txn_id,
            ts="",
            re_id=self.re_id,
            customer_id=cust.customer_id,
            account_id=cust.account_id,
            txn_type=txn_type,
            channel=channel,
            amount=money(cents),
            currency=currency,
            **fields,
        )
        self.pending.append((utc, self.seq, cust.idx, cad, zone, row))
        self.projected[cust.idx] += cad
        return txn_id

    def transfer(
        self,
        sender: Any,
        receiver: Any,
        day: int,
        tod: int,
        amount: float,
        sender_display: str,
        receiver_display: str,
        memo: str = "",
        device: tuple[str, str] | None = None,
    ) -> int:
        """An EMT between two customers of this bank: ``emt_out`` on the sender's account and,
        seconds later, ``emt_in`` on the receiver's, each naming the other as counterparty.

        Returns the receiver's local day (or -1 when the transfer falls outside the period);
        ``last_day`` is the sender's.
        """
        device_id, ip = device or (sender.device_id, sender.ip)
        out: dict[str, Any] = {
            "counterparty_id": receiver.cp_id,
            "counterparty_name": receiver_display,
            "counterparty_email": receiver.email,
            "device_id": device_id,
            "ip": ip,
        }
        if memo:
            out["memo"] = memo
        if not self.post(sender, day, tod, "emt_out", "mobile", amount, **out):
            return -1
        # The receiving side lands seconds to minutes later (a deterministic jitter).
        utc = self.pending[-1][0] + 5 + (self.seq * 37) % 240
        zone = self.clock.city_zone[receiver.city_on(day)]
        landed = self.clock.local_day(zone, utc)
        if landed >= self.clock.days:
            return -1
        inn: dict[str, Any] = {
            "counterparty_id": sender.cp_id,
            "counterparty_name": sender_display,
            "counterparty_email": sender.email,
        }
        if memo:
            inn["memo"] = memo
        self.post_at(receiver, utc, zone, "emt_in", "online", amount, "CAD", inn)
        return landed

    def flush(self, cutoff: int | None = None) -> None:
        """Write, in UTC order, every pending row before ``cutoff`` (all rows when None)."""
        self.pending.sort(key=_order)
        if cutoff is None:
            ready, self.pending = self.pending, []
        else:
            k = _first_at_or_after(self.pending, cutoff)
            ready, self.pending = self.pending[:k], self.pending[k:]
        if not ready:
            return
        balance, render = self.balance, self.clock.render
        rows = []
        for utc, _seq, idx, cad, zone, row in ready:
            balance[idx] += cad
            row.balance_after = money(balance[idx])
            row.ts = render(zone, utc)
            rows.append(row)
        self.out.write(self._encoder.encode_lines(rows))
        self.written += len(rows)


def _order(item: tuple[int, int, int, int, int, TxnRow]) -> tuple[int, int]:
    return item[0], item[1]


def _first_at_or_after(items: list[tuple[int, int, int, int, int, TxnRow]], cutoff: int) -> int:
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid][0] < cutoff:
            lo = mid + 1
        else:
            hi = mid
    return lo


def open_output(path: Path) -> IO[bytes]:
    """Open a JSONL output file with a large buffer (rows arrive in day-sized batches)."""
    return path.open("wb", buffering=1 << 20)
