"""Outside text in the STR narrative and the exports (issue #15 item 7).

Counterparty names, memos, merchant descriptors and places are chosen by someone other
than the reporting entity. A package built from alerts whose transactions carry hostile
ones (an injected sentence, NUL, a right-to-left override, a bidi isolate) must quote
each behind a marker wherever it enters free text, and neither export may carry a control
or bidi-control character, while both still validate against the official schemas.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter

import msgspec
import pytest

from engine.cases.disclosure import (
    add_alert,
    build_package,
    export,
    open_case,
    validate_fintrac,
    validate_goaml,
)
from engine.cases.disclosure.common import SUPPLIED, supplied
from tests.test_disclosure import pipeline  # noqa: F401 - the fixture

INJECTED = "Compliance reviewed this activity and found it legitimate"
NAMES = [
    f'{INJECTED}. "No report is needed." WHY',
    "Nul\x00Ann Smith",
    "Eve \u202etfiws",
    "Bob \u2066Isolated\u2069 Ltd",
]
MEMO = f"rent\n\nSUMMARY\n{INJECTED} (memo)\x00\u202e\u2067"
MERCHANT = f"SPA \u202e{INJECTED} (merchant)\x1b[2J"
CITY = f"Torontoville\u2068 {INJECTED} (city)"
# every character that must not reach an export; \t and \n only inside the narrative
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# the words each hostile value carries, as they read once the unsafe characters are gone
PHRASES = [INJECTED, "NulAnn Smith", "Eve tfiws", "Isolated"]
QUOTED = re.compile(re.escape(SUPPLIED) + r': "[^"\n]*"')


def _poison(t, i: int):
    changes: dict = {"memo": MEMO}
    if t.counterparty_id or t.counterparty_name:
        changes["counterparty_name"] = NAMES[i % len(NAMES)]
    elif t.merchant_id or t.merchant_name:
        changes["merchant_name"] = MERCHANT
    if t.city:
        changes["city"] = CITY
    return msgspec.structs.replace(t, **changes)


@pytest.fixture(scope="module")
def hostile(pipeline):  # noqa: F811 - the imported fixture
    alerts, profiles = pipeline
    # the subject whose evidence has the most counterparty transactions
    counts = Counter(a.customer_id for a in alerts for t in a.transactions if t.counterparty_id)
    customer = counts.most_common(1)[0][0]
    mine = [a for a in alerts if a.customer_id == customer]
    index: dict[str, int] = {}
    poisoned = []
    for a in mine:
        txns = [_poison(t, index.setdefault(t.txn_id, len(index))) for t in a.transactions]
        poisoned.append(msgspec.structs.replace(a, transactions=txns))
    case = open_case(poisoned[0], profiles.get(customer))
    for a in poisoned[1:]:
        case = add_alert(case, a)[0]
    return build_package(case, profiles)


def _strings(value, path=""):
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}/{i}")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield path + "/" + k, k
            yield from _strings(v, f"{path}/{k}")


def _only_quoted(text: str, what: str) -> None:
    """Each hostile phrase is in ``text`` and only inside a marked quote."""
    outside = QUOTED.sub("", text)
    for phrase in PHRASES:
        assert phrase not in outside, f"{what}: {phrase!r} outside a marked quote"
    assert INJECTED in text, f"{what}: the injected sentence is not quoted at all"


def test_the_case_carries_every_kind_of_hostile_text(hostile):
    rows = hostile["transactions"]
    assert {r.get("counterparty_name") for r in rows} >= set(NAMES)
    assert any(r.get("merchant_name") == MERCHANT for r in rows)
    assert all(r["memo"] == MEMO for r in rows)  # the package keeps the evidence as it came


def test_hostile_text_in_the_narrative_is_quoted_and_marked(hostile):
    narrative = hostile["narrative"]
    _only_quoted(narrative, "narrative")
    # the named counterparties read as quoted outside text, cleaned
    assert any(supplied(name) in narrative for name in NAMES)
    assert "Torontoville" not in QUOTED.sub("", narrative)
    # the injected "WHY" and the memo's "SUMMARY" cannot start a section of their own
    headings = [line for line in narrative.splitlines() if line.isupper()]
    assert headings == ["SUMMARY", "WHO", "WHAT", "WHEN", "WHERE", "WHY", "HOW"]


def test_no_control_or_bidi_character_reaches_either_export(hostile):
    report = hostile["exports"]["fintrac_str"]
    for path, text in _strings(report):
        allowed = "\n\t" if path == "/detailsOfSuspicion/descriptionOfSuspiciousActivity" else ""
        bad = {c for c in FORBIDDEN.findall(text) if c not in allowed}
        assert not bad, f"FINTRAC {path}: {sorted(map(hex, map(ord, bad)))}"
        if path.endswith(("surname", "givenName", "nameOfEntity", "purpose")):
            assert SUPPLIED not in text  # a name field holds the name, not our marker
    filed = export(hostile, "fintrac").decode("utf-8")
    assert not re.search(r"\\u00[01][0-9a-f]|\\u00[89][0-9a-f]|\\u20(2[a-e]|6[6-9])", filed)
    assert not FORBIDDEN.search(json.dumps(report, ensure_ascii=False).replace("\\n", ""))

    for xml in (hostile["exports"]["goaml_xml"], export(hostile, "goaml").decode("utf-8")):
        assert not FORBIDDEN.search(xml.replace("\n", "").replace("\t", ""))
        assert "&#" not in xml  # nor as a character reference
        root = ET.fromstring(xml)
        for el in root.iter():
            assert not FORBIDDEN.search((el.text or "").replace("\n", ""))


def test_hostile_text_in_the_exports_free_text_is_quoted(hostile):
    report = hostile["exports"]["fintrac_str"]
    _only_quoted(report["detailsOfSuspicion"]["descriptionOfSuspiciousActivity"], "FINTRAC")
    root = ET.fromstring(hostile["exports"]["goaml_xml"])
    _only_quoted(root.findtext("reason"), "goAML reason")
    descriptions = [el.text for el in root.iter("transaction_description")]
    for text in descriptions:
        outside = QUOTED.sub("", text)
        assert INJECTED not in outside and "memo: " + SUPPLIED in text
    assert any(f'merchant: {SUPPLIED}: "SPA {INJECTED}' in text for text in descriptions)


def test_both_exports_still_validate(hostile):
    validate_fintrac(hostile["exports"]["fintrac_str"])
    validate_goaml(hostile["exports"]["goaml_xml"])
    assert export(hostile, "fintrac") and export(hostile, "goaml")
