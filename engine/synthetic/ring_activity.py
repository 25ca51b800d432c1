"""What rings do each day: victims work, move and pass money on; collectors and traffickers
collect, bank cash, pay rents and spend.

The money is followed with ``Ledger.funds`` so nobody forwards or spends what is not there:
a victim forwards ``1 - keep`` of each credit only after hotel and ad costs, a trafficker's
luxury spending follows the proceeds. ``first`` records each member's first ring row for
the labels.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from engine.synthetic.ecosystem import Ecosystem, cash_tod, pick_client
from engine.synthetic.identity import Party
from engine.synthetic.population import Customer
from engine.synthetic.ring_model import Ring, Victim
from engine.synthetic.routine import K, Routine

FORWARD_MEMOS = ("", "", "", "🍒", "for the house", "bills", "xo", "rent", "💰")
FEES = (150, 160, 200, 200, 250, 300, 300, 400, 500)  # per client, CAD
BOOKING_DEPOSIT = {"short_stay_hotel": 0.2, "private_residence": 0.3}  # share of clients
EMT_LIMIT = 3_000.0  # per Interac e-Transfer
HOUR = 3600


class RingActivity:
    """Posts the ring rows of one day; shared by all rings."""

    def __init__(self, eco: Ecosystem, routine: Routine, start: date, days: int):
        self.eco, self.ledger, self.cat, self.routine = eco, eco.ledger, eco.cat, routine
        self.start, self.days = start, days
        self.first: dict[int, int] = {}  # customer idx -> first ring-activity day

    def run_day(self, rings: list[Ring], d: int, rng: np.random.Generator) -> None:
        """Post every ring's activity for day ``d`` (before ``Routine``, which needs to know
        where victims are)."""
        for ring in rings:
            if d < ring.start:
                continue
            if d == ring.start:
                r = self.routine.rates[ring.trafficker.idx]
                r[[K["bar"], K["restaurant"], K["ride"], K["clothing"]]] *= 2.0
            for v in ring.victims:
                if d == v.start:
                    self._activate(v, rng)
                if d >= v.start:
                    self._victim_day(ring, v, d, rng)
            self._collector_day(ring, d, rng)
            self._trafficker_day(ring, d, rng)

    # ---- bookkeeping --------------------------------------------------------------------

    def _mark(self, c: Customer, day: int) -> None:
        """Remember the first day ``c`` took part in ring activity (labels' ``first_activity``)."""
        if 0 <= day < self.days and day < self.first.get(c.idx, self.days):
            self.first[c.idx] = day

    def _did(self, c: Customer, txn: str) -> None:
        """Mark ``c`` if the row just posted for them was accepted."""
        if txn:
            self._mark(c, self.ledger.last_day)

    def _send(
        self,
        sender: Customer,
        receiver: Customer,
        d: int,
        tod: int,
        amount: float,
        sender_display: str,
        memo: str = "",
        device: tuple[str, str] | None = None,
    ) -> bool:
        """An EMT between two ring members, both sides marked; False when outside the period."""
        day = self.ledger.transfer(
            sender,
            receiver,
            d,
            tod,
            amount,
            sender_display,
            receiver.name,
            memo=memo,
            device=device,
        )
        if day < 0:
            return False
        self._mark(sender, self.ledger.last_day)
        self._mark(receiver, day)
        return True

    # ---- victims ------------------------------------------------------------------------

    def _activate(self, v: Victim, rng: np.random.Generator) -> None:
        """From the first ring day: payroll stops (mostly), little ordinary living, more fast
        food, pharmacy and beauty."""
        if rng.random() < 0.75:
            self.routine.pay_on[v.c.idx] = False
        r = self.routine.rates[v.c.idx]
        r[[K["grocery"], K["restaurant"], K["gas"], K["department"], K["bar"]]] *= 0.15
        r[[K["emt_in"], K["emt_out"], K["atm"], K["cash_deposit"], K["ecom"]]] *= 0.3
        r[[K["fastfood"], K["pharmacy"], K["beauty"], K["convenience"]]] *= 1.6
        self.routine.scale[v.c.idx] = min(self.routine.scale[v.c.idx], 0.6)

    def _move(self, ring: Ring, v: Victim, d: int, rng: np.random.Generator) -> None:
        """Along the circuit every 1–3 days (hotel model), an occasional tour (residence
        model), or nowhere (storefront). Sets ``away`` for ``Routine``."""
        if ring.model == "short_stay_hotel" and v.stay_left <= 0:
            options = [k for k in ring.circuit if k != v.city]
            back_home = rng.random() < 0.2 and v.city != ring.base
            v.city = ring.base if back_home else options[int(rng.integers(len(options)))]
            v.stay_left, v.booked = int(rng.integers(1, 4)), 0
        elif ring.model == "private_residence" and v.stay_left <= 0:
            if v.city != ring.base:
                v.city = ring.base
            elif rng.random() < 0.05:
                v.city = ring.circuit[int(rng.integers(1, len(ring.circuit)))]
                v.stay_left, v.booked = int(rng.integers(3, 7)), 0
        v.stay_left -= 1
        if v.city != v.c.home:
            v.c.away[d] = v.city

    def _lodging(self, ring: Ring, v: Victim, d: int, rng: np.random.Generator) -> None:
        """PP-04: a new 1–2 night booking whenever the last one ran out while on the road."""
        c, ledger = v.c, self.ledger
        on_the_road = v.city != ring.base or ring.model == "short_stay_hotel"
        if on_the_road and v.booked <= 0:
            nights = min(max(v.stay_left + 1, 1), int(rng.integers(1, 3)))
            payer = c if v.lodge else (ring.trafficker if rng.random() < 0.7 else None)
            if payer is c and ledger.funds(c) < 250:
                # The trafficker tops up the victim's card for the room.
                self._send(
                    ring.trafficker,
                    c,
                    d,
                    int(rng.integers(11 * HOUR, 14 * HOUR)),
                    float(rng.choice([200, 250, 300, 400])),
                    ring.trafficker.name,
                    "room",
                )
            if payer is not None:
                self._did(payer, self.eco.short_stay(c, d, v.city, nights, rng, payer))
            v.booked = nights
        v.booked -= 1
        if (
            ring.model == "private_residence"
            and v.lodge
            and not on_the_road
            and rng.random() < 0.06
        ):
            # An in-call short let in town.
            self._did(c, self.eco.short_stay(c, d, v.city, 1, rng))

    def _victim_day(self, ring: Ring, v: Victim, d: int, rng: np.random.Generator) -> None:
        c = v.c
        self._move(ring, v, d, rng)
        self._lodging(ring, v, d, rng)
        if rng.random() > v.work_p:
            return
        if v.ads:
            for _ in range(1 + int(rng.random() < 0.35)):
                self._did(c, self.eco.ad_payment(c, d, rng))
        credits: list[tuple[float, int]] = []  # (amount, local tod) credited to the victim today
        cash = 0.0
        for _ in range(int(rng.poisson(v.clients_per_day))):
            fee = float(FEES[int(rng.integers(len(FEES)))])
            tod = int(rng.integers(11 * HOUR, 28 * HOUR))
            client = pick_client(ring.clients, rng)
            to_collector = ring.collector is not None and rng.random() < 0.5
            house = ring.collector if to_collector and ring.collector else ring.trafficker
            if ring.model == "illicit_storefront":
                if rng.random() < 0.35:  # paid to the front's e-transfer contact (PP-16 fan-in)
                    self._house_emt(ring, house, d, tod, client, fee, v.alias, rng)
                    continue
                ring.cash_held += fee * 0.6  # the house keeps most of a cash fee
                fee = float(round(fee * 0.4, -1))  # the victim's cut
            elif rng.random() < BOOKING_DEPOSIT[ring.model]:
                self._house_emt(ring, house, d, tod, client, fee / 2, v.alias, rng)
                cash += fee / 2
                continue
            if rng.random() < v.emt_share:
                txn = self.eco.client_emt(c, d, tod, client, fee, rng, 0.45, v.alias)
                self._did(c, txn)
                if txn:
                    credits.append((fee, tod))
            else:
                cash += fee
        # Most cash is banked; the rest is handed over in person, unseen by the bank.
        if cash and rng.random() < 0.8:
            credits += self._deposit(v, d, cash, rng)
        elif cash:
            ring.cash_held += cash
        if credits:
            self._pass_on(ring, v, d, credits, rng)

    def _house_emt(
        self,
        ring: Ring,
        house: Customer,
        d: int,
        tod: int,
        client: Party,
        amount: float,
        alias: str,
        rng: np.random.Generator,
    ) -> None:
        """A client pays the trafficker or collector directly (deposit, booking, house fee)."""
        txn = self.eco.client_emt(house, d, tod, client, amount, rng, 0.6, alias)
        self._did(house, txn)
        if txn and house is ring.collector:
            ring.collector_in += amount

    def _deposit(
        self, v: Victim, d: int, cash: float, rng: np.random.Generator
    ) -> list[tuple[float, int]]:
        """Bank the day's cash: late at night at ATMs (PP-12), over several machines (PP-13),
        or at a branch in the daytime when the victim shows neither pattern."""
        parts = int(rng.integers(1, 4)) if v.multi else 1
        out = []
        for _ in range(parts):
            amount = float(round(cash / parts / 10) * 10) or 10.0
            if v.night:
                tod = cash_tod(rng, night=rng.random() < 0.85)
                txn = self.eco.cash(
                    v.c,
                    d,
                    v.city,
                    amount,
                    rng,
                    night=True,
                    tod=tod,
                    roam=v.multi,
                )
            else:
                branches = self.cat.branches[v.city]
                t = branches[int(rng.integers(len(branches)))]
                tod = int(rng.integers(10 * HOUR, 17 * HOUR))
                txn = self.ledger.post(
                    v.c,
                    d,
                    tod,
                    "cash_deposit",
                    "branch",
                    amount,
                    city=v.city,
                    location_id=t.location_id,
                )
            self._did(v.c, txn)
            if txn:
                out.append((amount, tod))
        return out

    def _pass_on(
        self,
        ring: Ring,
        v: Victim,
        d: int,
        credits: list[tuple[float, int]],
        rng: np.random.Generator,
    ) -> None:
        """PP-17: move ``1 - keep`` of the credits on within hours, by EMT (each credit or a
        nightly sweep) or, for some victims, as cash withdrawn and handed over."""
        to = v.recipient
        display = f"{v.c.email} ({v.alias})" if rng.random() < 0.45 else v.c.name
        device = (ring.trafficker.device_id, ring.trafficker.ip) if rng.random() < 0.3 else None
        if v.per_credit:
            batches = [(a, t + int(rng.integers(600, 8 * HOUR))) for a, t in credits]
        else:
            last = max(t for _, t in credits)
            batches = [(sum(a for a, _ in credits), last + int(rng.integers(HOUR // 2, 7 * HOUR)))]
        for amount, tod in batches:
            # Never more than is there: hotels and ads are paid first.
            total = min(amount * (1 - v.keep), self.ledger.funds(v.c) - float(rng.uniform(40, 160)))
            if total < 20:
                continue
            if not v.forward:
                self._withdraw_for_handover(ring, v, d + 1, total, rng)
                continue
            total = float(total // 5 * 5) if rng.random() < 0.6 else round(total, 2)
            while total > 0:
                part = min(EMT_LIMIT, total)
                memo = FORWARD_MEMOS[int(rng.integers(len(FORWARD_MEMOS)))]
                if (
                    self._send(v.c, to, d, tod, part, display, memo, device)
                    and to is ring.collector
                ):
                    ring.collector_in += part
                total, tod = round(total - part, 2), tod + int(rng.integers(60, 900))

    def _withdraw_for_handover(
        self, ring: Ring, v: Victim, d: int, total: float, rng: np.random.Generator
    ) -> None:
        """Cash out in ATM-sized amounts; the balance stays near zero all the same."""
        for k in range(int(np.ceil(total / 1000))):
            amount = float(max(20, min(1000.0, total - 1000 * k) // 20 * 20))
            night = v.night and rng.random() < 0.7
            self._did(
                v.c,
                self.eco.cash(
                    v.c,
                    d,
                    v.city,
                    amount,
                    rng,
                    night=night,
                    deposit=False,
                    roam=v.multi,
                ),
            )
        ring.cash_held += total

    # ---- collectors and traffickers -----------------------------------------------------

    def _bank_cash(
        self, ring: Ring, who: Customer, d: int, high: float, rng: np.random.Generator
    ) -> bool:
        """Deposit part of the ring's cash at a branch, under the $10,000 reporting line."""
        amount = float(min(ring.cash_held, rng.uniform(1_500, high)) // 10 * 10)
        city = who.city_on(d)
        branch = self.cat.branches[city][int(rng.integers(len(self.cat.branches[city])))]
        txn = self.ledger.post(
            who,
            d,
            int(rng.integers(10 * HOUR, 16 * HOUR)),
            "cash_deposit",
            "branch",
            amount,
            city=city,
            location_id=branch.location_id,
        )
        self._did(who, txn)
        if txn:
            ring.cash_held -= amount
        return bool(txn)

    def _collector_day(self, ring: Ring, d: int, rng: np.random.Generator) -> None:
        """The collector banks some cash and sweeps what came in to the trafficker the next
        morning, keeping a cut."""
        col = ring.collector
        if col is None:
            return
        if ring.cash_held > 1_500 and rng.random() < 0.3:
            before = ring.cash_held
            if self._bank_cash(ring, col, d, 9_000, rng):
                ring.collector_in += before - ring.cash_held
        if ring.collector_in > 0 and rng.random() < 0.85:
            cut = float(rng.uniform(0.85, 0.95))
            total = round(min(ring.collector_in * cut, self.ledger.funds(col) - 100), -1)
            tod = int(rng.integers(8 * HOUR, 13 * HOUR))
            while total > 0:
                part = min(EMT_LIMIT, total)
                self._send(col, ring.trafficker, d + 1, tod, part, col.name)
                total, tod = total - part, tod + int(rng.integers(120, 1800))
            ring.collector_in = 0.0

    def _trafficker_day(self, ring: Ring, d: int, rng: np.random.Generator) -> None:
        """Several rents (PROP), proceeds banked, storefront ads; then lifestyle (LUX) and
        some crypto out of what is left."""
        t, ledger = ring.trafficker, self.ledger
        if (self.start + timedelta(days=d)).day == 1 or d == ring.start:
            for payee, rent, where in ring.rents:
                self._pay_rent(t, d, payee, rent, where, rng)
        if ring.model == "illicit_storefront" and rng.random() < 0.3:
            self._did(t, self.eco.ad_payment(t, d, rng))
        if ring.cash_held > 1_500 and (rng.random() < 0.4 or ledger.funds(t) < 1_500):
            self._bank_cash(ring, t, d, 9_500, rng)
        spare = ledger.funds(t) - 1_500
        lux = min(float(rng.lognormal(np.log(1200), 0.7)), spare * 0.5)
        if rng.random() < ring.lux and lux >= 150:
            self._buy(t, d, "luxury", int(rng.integers(11 * HOUR, 20 * HOUR)), lux, rng)
        if rng.random() < ring.lux * 1.2 and spare > 1_000:
            amount = float(rng.uniform(150, 1_200))
            self._buy(t, d, "nightclub", int(rng.integers(23 * HOUR, 27 * HOUR)), amount, rng)
        if d >= ring.start + 9 and spare > 8_000 and not ring.car and rng.random() < 0.2:
            ring.car = True  # a deposit on a car
            self._buy(t, d, "cardealer", 14 * HOUR, float(rng.uniform(4_000, spare * 0.7)), rng)
        if ring.vc and spare > 3_000 and rng.random() < 0.08:
            m, cur = self.cat.online["vc"][int(rng.integers(len(self.cat.online["vc"])))]
            amount = round(float(rng.uniform(500, min(4_000, spare))), -1)
            self._did(
                t,
                ledger.post(
                    t,
                    d,
                    int(rng.integers(9 * HOUR, 23 * HOUR)),
                    "vc_buy",
                    "online",
                    amount,
                    currency=cur,
                    merchant_id=m.merchant_id,
                    merchant_name=m.name,
                    mcc=m.mcc,
                    device_id=t.device_id,
                    ip=t.ip,
                ),
            )

    def _pay_rent(
        self, t: Customer, d: int, payee: Party, rent: float, where: str, rng: np.random.Generator
    ) -> None:
        """Rent by EMT to a landlord, or a lease by bill payment to a property manager."""
        tod = int(rng.integers(9 * HOUR, 20 * HOUR))
        if payee.email:
            txn = self.ledger.post(
                t,
                d,
                tod,
                "emt_out",
                "mobile",
                round(rent, 2),
                counterparty_id=payee.cp_id,
                counterparty_name=payee.name,
                counterparty_email=payee.email,
                memo=f"rent {where.split(',')[0]}",
                device_id=t.device_id,
                ip=t.ip,
            )
        else:
            txn = self.ledger.post(
                t,
                d,
                tod,
                "bill_payment",
                "online",
                round(rent, 2),
                mcc="6513",
                counterparty_id=payee.cp_id,
                counterparty_name=payee.name,
                memo="LEASE",
                device_id=t.device_id,
                ip=t.ip,
            )
        self._did(t, txn)

    def _buy(
        self, t: Customer, d: int, category: str, tod: int, amount: float, rng: np.random.Generator
    ) -> None:
        city = t.city_on(d)
        pool = self.cat.pool(city, category)
        m = pool[int(rng.integers(len(pool)))]
        self._did(
            t,
            self.ledger.post(
                t,
                d,
                tod,
                "purchase",
                "pos",
                round(amount, 2),
                city=city,
                mcc=m.mcc,
                merchant_id=m.merchant_id,
                merchant_name=m.name,
                card_id=t.card_id,
            ),
        )
