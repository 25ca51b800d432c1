"""Building blocks of the commercial-sex economy shared by rings and independent workers.

Ad payments, client EMTs, short stays and late cash look the same whether or not a
trafficker is behind them; what separates a victim from an independent adult worker is
where the money goes afterwards (PP-17 forwarding, PP-16 fan-in at the trafficker), which
``ring_activity`` adds on top of these.
"""

from __future__ import annotations

import numpy as np

from engine.synthetic.identity import Identities, Party
from engine.synthetic.merchants import AD_PREMIUM, Catalogue
from engine.synthetic.population import Customer
from engine.synthetic.writer import Ledger

# EMT memos clients write: lexicon terms (default_lists.json `escort_memo_lexicon`) mixed with
# plain ones; many clients leave the memo empty.
CLIENT_MEMOS = (
    "", "", "", "", "thanks", "for tonight", "deposit", "xo", "1hr", "1HR 🌹", "QV", "half hour",
    "full hour", "outcall", "incall", "GFE", "🌹", "💋", "🍑", "roses", "date night", "spa visit",
    "see you soon 😘", "booking", "agency fee",
)  # fmt: skip
SMALL_AD_FEES = (3.0, 6.0, 12.0, 12.0, 24.0, 24.0, 9.0, 15.0)
HOUR = 3600


def clients(
    ident: Identities, key: str, n: int, area_code: str, rng: np.random.Generator
) -> list[Party]:
    """A pool of sex buyers (outside the bank) for one ring or worker."""
    pool = []
    for k in range(n):
        p = ident.person(f"client-{key}", k, area_code)
        if rng.random() < 0.5:  # many EMT users show only their email as display name
            p = Party(p.cp_id, p.email or p.name, p.email, p.phone if rng.random() < 0.3 else None)
        pool.append(p)
    return pool


def pick_client(pool: list[Party], rng: np.random.Generator) -> Party:
    """Regulars come back (Zipf over the start of the pool); the rest are one-off buyers."""
    if rng.random() < 0.35:
        return pool[min(len(pool) - 1, int(rng.zipf(1.8)) - 1)]
    return pool[int(rng.integers(len(pool)))]


def cash_tod(rng: np.random.Generator, night: bool) -> int:
    """Seconds after local midnight: 22:00–06:00 (running into the next day) or daytime."""
    return int(rng.integers(22 * HOUR, 30 * HOUR) if night else rng.integers(10 * HOUR, 20 * HOUR))


class Ecosystem:
    """Posts ads, stays, client payments and cash for whoever takes part."""

    def __init__(self, ledger: Ledger, cat: Catalogue):
        self.ledger, self.cat = ledger, cat

    def ad_payment(self, c: Customer, d: int, rng: np.random.Generator) -> str:
        """An escort / classified-ad platform payment (PP-01): a small multiple or a premium fee."""
        ads = self.cat.online["escort_ad"]
        m, cur = ads[int(rng.integers(len(ads)))]
        name = None
        if rng.random() < 0.25:
            name = f"{m.name} {AD_PREMIUM[int(rng.integers(len(AD_PREMIUM)))]}"
            amount = float(rng.integers(30, 91))
        else:
            amount = SMALL_AD_FEES[int(rng.integers(len(SMALL_AD_FEES)))] * (
                1 + (rng.random() < 0.2)
            )
        tod = int(rng.integers(9 * HOUR, 26 * HOUR))  # ads get bumped late into the night too
        return self.ledger.purchase(c, d, tod, m, amount, "ecom", currency=cur, name=name)

    def short_stay(
        self,
        c: Customer,
        d: int,
        city: int,
        nights: int,
        rng: np.random.Generator,
        payer: Customer | None = None,
    ) -> str:
        """A 1–2 night motel / hotel / short-let stay for ``c`` in ``city`` (PP-04), paid at
        check-in by ``payer`` (``c`` by default)."""
        payer = payer or c
        tod = int(rng.integers(14 * HOUR, 23 * HOUR))
        nightly = float(rng.uniform(85, 190))
        if rng.random() < 0.2:
            nightly = round(nightly / 10) * 10  # paid as a round figure at the desk (PP-05a)
        if rng.random() < 0.25:  # booked online, mostly on a short-let platform
            platforms = self.cat.online["lodging_platform"]
            m, cur = platforms[0 if rng.random() < 0.7 else int(rng.integers(1, len(platforms)))]
            return self.ledger.purchase(
                payer, d, tod - 2 * HOUR, m, nightly * nights, "ecom", currency=cur
            )
        hotels = self.cat.pool(city, "hotel")
        h = hotels[int(rng.integers(len(hotels)))]
        return self.ledger.purchase(payer, d, tod, h, nightly * nights, city=city)

    def client_emt(
        self,
        c: Customer,
        d: int,
        tod: int,
        client: Party,
        amount: float,
        rng: np.random.Generator,
        memo_rate: float = 0.5,
        alias: str = "",
        memo: str | None = None,
    ) -> str:
        """An EMT from a client (or tenant) to ``c``; ``memo`` fixes the text, else it is drawn
        from ``CLIENT_MEMOS`` with probability ``memo_rate``, sometimes naming ``alias``."""
        if memo is None:
            memo = ""
            if rng.random() < memo_rate:
                memo = CLIENT_MEMOS[int(rng.integers(len(CLIENT_MEMOS)))]
                if alias and rng.random() < 0.3:
                    memo = f"for {alias} {memo}".strip()
        return self.ledger.emt(c, d, tod, "emt_in", client, amount, memo, "online")

    def cash(
        self,
        c: Customer,
        d: int,
        city: int,
        amount: float,
        rng: np.random.Generator,
        night: bool,
        deposit: bool = True,
        tod: int | None = None,
        roam: bool = True,
    ) -> str:
        """Cash at an ATM in ``city``: between 22:00 and 06:00 when ``night`` (PP-12).

        Deposits go to FI-owned ATMs (white-label machines take no deposits). ``roam`` picks
        any machine in the city, which is what spreads a victim over many locations (PP-13);
        otherwise one of two machines this customer habitually uses there.
        """
        tod = cash_tod(rng, night) if tod is None else tod
        pool = self.cat.deposit_atms[city] if deposit else self.cat.atms[city]
        if roam:
            atm = pool[int(rng.integers(len(pool)))]
        else:
            atm = pool[(c.idx * 7 + city * 3 + int(rng.random() < 0.3)) % len(pool)]
        if deposit:
            return self.ledger.post(
                c,
                d,
                tod,
                "cash_deposit",
                "atm",
                amount,
                city=city,
                location_id=atm.location_id,
                terminal_owner=atm.owner,
                card_id=c.card_id,
            )
        return self.ledger.post(
            c,
            d,
            tod,
            "cash_withdrawal",
            "atm",
            amount,
            city=city,
            mcc="6011",
            location_id=atm.location_id,
            terminal_owner=atm.owner,
            card_id=c.card_id,
        )
