"""The synthetic data generator: contract conformance, ordering, determinism, labels.

Small populations (300 customers × 20 days) keep this fast; the period starts on
2026-02-25 so it crosses the 8 March switch to daylight time.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

from engine.synthetic import GenerateSummary, generate
from engine.synthetic.places import CITIES
from schemas.contract import Profile, Transaction

START = date(2026, 2, 25)
DAYS = 20
CUSTOMERS = 300
ROLES = {"background", "lookalike", "victim", "trafficker", "collector"}
MODELS = {"short_stay_hotel", "private_residence", "illicit_storefront"}
REFERENCE = Path(__file__).resolve().parents[1] / "schemas" / "reference" / "default_lists.json"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> GenerateSummary:
    return generate(
        tmp_path_factory.mktemp("a"),
        customers=CUSTOMERS,
        days=DAYS,
        seed=7,
        start=START,
        progress=False,
    )


@pytest.fixture(scope="module")
def rows(run: GenerateSummary) -> list[Transaction]:
    lines = run.paths["transactions"].read_bytes().splitlines()
    return [msgspec.json.decode(line, type=Transaction) for line in lines]


@pytest.fixture(scope="module")
def labels(run: GenerateSummary) -> dict[str, dict[str, str]]:
    with run.paths["labels"].open(newline="", encoding="utf-8") as f:
        return {r["customer_id"]: r for r in csv.DictReader(f)}


def test_same_seed_same_bytes(run: GenerateSummary, tmp_path: Path) -> None:
    again = generate(tmp_path, customers=CUSTOMERS, days=DAYS, seed=7, start=START, progress=False)
    for name, path in run.paths.items():
        assert again.paths[name].read_bytes() == path.read_bytes(), name


def test_other_seed_other_data(run: GenerateSummary, tmp_path: Path) -> None:
    other = generate(tmp_path, customers=CUSTOMERS, days=DAYS, seed=8, start=START, progress=False)
    assert other.paths["transactions"].read_bytes() != run.paths["transactions"].read_bytes()
    assert other.paths["profiles"].read_bytes() != run.paths["profiles"].read_bytes()


def test_summary(
    run: GenerateSummary, rows: list[Transaction], labels: dict[str, dict[str, str]]
) -> None:
    assert run.transactions == len(rows) > CUSTOMERS * DAYS
    assert run.profiles == run.customers == CUSTOMERS == len(labels)
    assert run.rings == 2
    assert run.ring_members == sum(1 for r in labels.values() if r["ring_id"])
    assert "transactions" in str(run) and f"{CUSTOMERS}" in str(run)


def test_every_line_is_a_contract_transaction(rows: list[Transaction]) -> None:
    for t in rows:
        assert t.balance_after is not None
        assert t.currency == "CAD" or t.amount_cad is not None
        assert t.mcc is None or re.fullmatch(r"[0-9]{4}", str(t.mcc))


def test_money_written_with_two_decimals(run: GenerateSummary) -> None:
    text = run.paths["transactions"].read_text(encoding="utf-8")
    amounts = re.findall(r'"(amount|amount_cad|balance_after)":(-?[0-9.]+)', text)
    assert amounts
    assert all(re.fullmatch(r"-?[0-9]+\.[0-9]{2}", value) for _, value in amounts)


def test_profiles_decode_and_cover_everyone(
    run: GenerateSummary, rows: list[Transaction], labels: dict[str, dict[str, str]]
) -> None:
    profiles = [
        msgspec.json.decode(line, type=Profile)
        for line in run.paths["profiles"].read_bytes().splitlines()
    ]
    ids = [p.customer_id for p in profiles]
    assert len(ids) == len(set(ids)) == CUSTOMERS
    assert {t.customer_id for t in rows} <= set(ids) == set(labels)
    for p in profiles:
        assert p.party_type == "person" and p.home_country == "CA" and p.name and p.birth_date
        assert all(e.endswith(("@example.com", "@example.org")) for e in p.emails)
        assert all("-555-" in ph for ph in p.phones)
    assert any(f.type == "escort_ad_match" for p in profiles for f in p.flags)


def test_txn_ids_unique(rows: list[Transaction]) -> None:
    ids = [t.txn_id for t in rows]
    assert len(ids) == len(set(ids))
    linked = [t for t in rows if t.linked_txn_id]
    assert all(t.linked_txn_id in set(ids) for t in linked)


def test_globally_sorted_by_utc_instant(rows: list[Transaction]) -> None:
    instants = [t.ts.timestamp() for t in rows]
    assert all(a <= b for a, b in zip(instants, instants[1:], strict=False))
    assert instants[0] >= datetime(2026, 2, 25, 3, tzinfo=ZoneInfo("UTC")).timestamp()


def test_offsets_are_the_local_ones(rows: list[Transaction]) -> None:
    zone_of = {(c.name, c.province): ZoneInfo(c.zone) for c in CITIES}
    checked = 0
    for t in rows:
        if t.city is None:
            continue
        zone = zone_of[(t.city, t.province)]
        assert t.ts.utcoffset() == t.ts.astimezone(zone).utcoffset(), (t.txn_id, t.city, t.ts)
        checked += 1
    assert checked > len(rows) // 3
    vancouver = {t.ts.isoformat()[-6:] for t in rows if t.city == "Vancouver"}
    assert vancouver and vancouver <= {"-08:00", "-07:00"}
    toronto = {t.ts.isoformat()[-6:] for t in rows if t.city == "Toronto"}
    assert toronto == {"-05:00", "-04:00"}  # the period crosses the switch to daylight time


def test_card_present_rows_have_place(rows: list[Transaction]) -> None:
    for t in rows:
        if t.channel in ("pos", "atm", "branch"):
            assert t.city and t.province and t.country, t.txn_id
        if t.channel in ("atm", "branch"):
            assert t.location_id, t.txn_id
        if t.channel == "atm":
            assert t.terminal_owner in ("fi", "white_label")


def test_labels(labels: dict[str, dict[str, str]]) -> None:
    roles = [r["role"] for r in labels.values()]
    assert set(roles) == ROLES
    assert roles.count("background") / len(roles) > 0.9
    for r in labels.values():
        member = r["role"] in ("victim", "trafficker", "collector")
        assert bool(r["ring_id"]) == bool(r["business_model"]) == member
        assert (r["business_model"] in MODELS) if member else not r["business_model"]
        assert bool(r["lookalike_type"]) == (r["role"] == "lookalike")
        if r["first_activity"]:
            assert member and START <= date.fromisoformat(r["first_activity"]) < date(2026, 3, 17)
    rings: dict[str, list[str]] = {}
    for r in labels.values():
        if r["ring_id"]:
            rings.setdefault(r["ring_id"], []).append(r["role"])
    for ring_roles in rings.values():
        assert ring_roles.count("trafficker") == 1 and 2 <= ring_roles.count("victim") <= 5
        assert ring_roles.count("collector") <= 1
    assert all(labels[c]["first_activity"] for c in labels if labels[c]["role"] == "trafficker")


def test_escort_ad_payments_only_where_expected(
    rows: list[Transaction], labels: dict[str, dict[str, str]]
) -> None:
    terms = [
        t.upper()
        for t in json.loads(REFERENCE.read_text(encoding="utf-8"))["escort_ad_platforms"]["terms"]
    ]
    payers = {
        t.customer_id
        for t in rows
        if t.merchant_name and any(x in t.merchant_name.upper() for x in terms)
    }
    assert payers
    for cid in payers:
        r = labels[cid]
        assert (
            r["role"] in ("victim", "trafficker")
            or r["lookalike_type"] == "independent_adult_worker"
        ), r
    assert any(labels[c]["role"] == "victim" for c in payers)


def test_victims_forward_and_traffickers_fan_in(
    rows: list[Transaction], labels: dict[str, dict[str, str]]
) -> None:
    victims = {c for c, r in labels.items() if r["role"] == "victim"}
    bosses = {c for c, r in labels.items() if r["role"] in ("trafficker", "collector")}
    senders: dict[str, set[str]] = {}
    credits = {c: 0.0 for c in victims}
    forwarded = {c: 0.0 for c in victims}
    for t in rows:
        if t.txn_type == "emt_in" and t.customer_id in bosses:
            senders.setdefault(t.customer_id, set()).add(str(t.counterparty_id))
        if t.customer_id in victims and t.txn_type in ("emt_in", "cash_deposit"):
            credits[t.customer_id] += float(t.amount)
        if t.customer_id in victims and t.txn_type in ("emt_out", "cash_withdrawal"):
            forwarded[t.customer_id] += float(t.amount)
    assert max(len(s) for s in senders.values()) >= 5
    ratios = [forwarded[c] / credits[c] for c in victims if credits[c] > 1000]
    assert ratios and sorted(ratios)[len(ratios) // 2] > 0.6


def test_too_few_customers_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="customers"):
        generate(tmp_path, customers=20, days=3, progress=False)
