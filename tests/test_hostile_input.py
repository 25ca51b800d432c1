"""No input can stop a worker: hostile and careless messages through the real decode path.

Each of the six poison pills found on the first version has a regression test here; a
property-based generator mixes malformed messages of many kinds with valid ones (more than
10,000 in all) and checks that every bad one is a dead letter with a specific reason and
every valid one is processed; the firehose's failure policy sets aside exactly the messages
whose handling raises.
"""

from __future__ import annotations

import asyncio
import json

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine.core.detector as detector_module
import engine.core.isolate as isolate_module
import engine.core.kernel_columns as columns_module
from engine.config import Settings
from engine.core.columnar import decode_transactions
from engine.core.decode import Message, decode_profile, json_depth
from engine.core.detector import Detector
from engine.core.state import PartitionState
from engine.metrics import DEAD_LETTER_REASON_CLASSES, Metrics
from engine.stream.feeds import apply_reference_messages
from engine.stream.firehose import Firehose
from indicators.examples import txn
from schemas.limits import InputLimits
from tests.helpers import comparable

GOOD = txn(
    1, "cash_deposit", 200.0, channel="atm", city="Toronto", province="ON", location_id="ATM-1"
)


def row(**change) -> dict:
    return {**GOOD, **change}


def message(
    value: bytes | None,
    offset: int = 0,
    key: bytes | None = None,
    timestamp_ms: int = 0,
    topic: str = "transactions",
) -> Message:
    if key is None and value is not None:
        key = GOOD["customer_id"].encode()
    return Message(topic, 0, offset, key, value, timestamp_ms)


def encode(value: dict) -> bytes:
    return json.dumps(value).encode()


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def with_nested(value: dict, depth: int) -> bytes:
    """``value`` with an extra field nested ``depth`` deep (Python's own json cannot build it)."""
    return encode(value)[:-1] + b', "extra": ' + deep(depth).encode() + b"}"


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(Settings())


# ---------------------------------------------------------------------- the six poison pills
def test_pill_1_mcc_as_a_json_number_is_accepted(detector):
    values = [
        encode(row(txn_id="A", mcc=5812)),
        encode(row(txn_id="B", mcc="5812")),
        encode(row(txn_id="C", mcc=42)),
    ]
    result = detector.process(
        detector.new_state(), [], [message(v, i) for i, v in enumerate(values)]
    )
    assert result.transactions == 3 and not result.dead


@pytest.mark.parametrize("topic", ["transactions", "profiles"])
def test_pill_2_deep_nesting_is_a_dead_letter_not_a_recursion_error(detector, topic):
    value = with_nested(GOOD, 1000)
    assert 1_000 < len(value) < 3_000
    if topic == "transactions":
        decoded = decode_transactions([message(value)])
        assert [d.reason_class for d in decoded.dead] == ["too_deep"]
    else:
        letter = decode_profile(
            message(with_nested({"customer_id": "C-1"}, 999), key=b"C-1", topic="profiles")
        )
        assert letter.reason_class == "too_deep" and "1000 deep" in letter.reason


def test_pill_2_on_the_reference_and_engine_topics(detector):
    nested = deep(1000).encode()
    _, dead, applied = apply_reference_messages(
        detector.reference, [Message("reference", 0, 0, b"escort_ad_platforms", nested)]
    )
    assert applied == 0 and [d.reason_class for d in dead] == ["too_deep"]
    firehose = Firehose(Settings(), Metrics(), detector=detector)
    for decoder in ("decode_signal", "decode_finding"):
        from engine.crosscustomer import identifiers, parties

        decode = getattr(parties if decoder == "decode_signal" else identifiers, decoder)
        values = [nested, b"not json", b'{"unrelated": 1}', None]  # None: a tombstone, ignored
        got, dead = firehose._internal(
            [Message("x", 0, i, b"k", v) for i, v in enumerate(values)], decode, "a signal"
        )
        assert got == []
        assert [d.reason_class for d in dead] == ["too_deep", "invalid_signal", "invalid_signal"]


def test_json_depth_ignores_brackets_in_strings():
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert json_depth(b'"\\"[["') == 0


def test_pill_3_long_strings_are_dead_letters_before_they_are_hashed():
    decoded = decode_transactions(
        [
            message(encode(row(linked_txn_id="L" * 25_000)), 0),
            message(encode(row(memo="x" * 1_100_000)), 1),
        ]
    )
    assert not decoded.rows
    assert [d.reason_class for d in decoded.dead] == ["invalid_field", "oversize"]
    assert "linked_txn_id" in decoded.dead[0].reason
    assert "exceeds the limit of 65,536" in decoded.dead[1].reason


@pytest.mark.parametrize("amount", [1e26, "1" + "0" * 30, 1e13])
def test_pill_4_absurd_amounts_are_out_of_range(amount):
    decoded = decode_transactions([message(encode(row(amount=amount)))])
    assert [d.reason_class for d in decoded.dead] == ["out_of_range"]


@pytest.mark.parametrize(
    ("ts", "arrival_ms", "reason_class"),
    [
        ("2199-01-01T00:00:00-05:00", 0, "out_of_range"),  # beyond the absolute bound
        ("0001-01-01T00:00:00+05:00", 0, "out_of_range"),  # overflows when made UTC
        ("1969-12-31T23:00:00+00:00", 0, "out_of_range"),
        ("2026-03-20T12:00:00-05:00", 1_773_000_000_000, "out_of_range"),  # days ahead
        ("2026-03-08T12:00:00-05:00", 1_773_000_000_000, None),  # within a day
        ("9999-12-31T23:59:59-05:00", 0, "out_of_range"),  # overflows when made UTC
    ],
)
def test_pill_5_event_times_are_bounded(ts, arrival_ms, reason_class):
    decoded = decode_transactions([message(encode(row(ts=ts)), timestamp_ms=arrival_ms)])
    got = [d.reason_class for d in decoded.dead]
    assert got == ([reason_class] if reason_class else [])


def test_pill_6_two_invalid_halves_never_join_into_rows():
    first = row(txn_id="A", memo="x},{y")
    joined = json.dumps(first) + "," + json.dumps(row(txn_id="B"))
    cut = joined.index("x},") + 2
    halves = [joined[:cut].encode(), joined[cut + 1 :].encode()]
    assert (
        len(
            msgspec.json.decode(
                ("[" + halves[0].decode() + "," + halves[1].decode() + "]").encode()
            )
        )
        == 2
    )  # joined, they are two valid rows
    decoded = decode_transactions([message(h, i) for i, h in enumerate(halves)])
    assert decoded.rows == [] and [d.reason_class for d in decoded.dead] == ["invalid_json"] * 2


def test_limits_are_settings():
    small = InputLimits(max_transaction_bytes=100)
    decoded = decode_transactions([message(encode(row()))], small)
    assert [d.reason_class for d in decoded.dead] == ["oversize"]
    assert Settings.build({"limits": {"max_depth": 4}}).limits.max_depth == 4


# ---------------------------------------------------------------------- generated hostile input
VALID_CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "mcc": st.one_of(st.sampled_from(["5812", "7011"]), st.integers(0, 9999)),
        "memo": st.text(max_size=40),
        "amount": st.floats(0, 1e6, allow_nan=False) | st.sampled_from(["12.50", "0"]),
        "counterparty_name": st.text(min_size=1, max_size=30),
    },
)
HOSTILE = st.one_of(
    st.binary(max_size=60).map(lambda b: ("bytes", b)),
    st.sampled_from([b"", b"null", b"[]", b"{}", b"1", b'"x"', b"{", b"\xff\xfe{}"]).map(
        lambda b: ("framing", b)
    ),
    st.sampled_from(
        [
            "amount",
            "ts",
            "txn_type",
            "channel",
            "customer_id",
            "txn_id",
            "currency",
            "mcc",
            "attempted",
        ]
    ).flatmap(
        lambda f: st.sampled_from(
            [
                None,
                -1,
                1e400,
                "1e400",
                "NaN",
                "Infinity",
                [],
                {},
                True,
                "x" * 300,
                "2026-03-14T23:41:00",
                "0000-01-01",
            ]
        ).map(lambda v, f=f: ("field", encode(row(**{f: v}))))
    ),
    st.sampled_from(["amount", "ts", "txn_id"]).map(
        lambda f: ("missing", encode({k: v for k, v in row().items() if k != f}))
    ),
    st.sampled_from([1e20, 1e300]).map(lambda a: ("absurd", encode(row(amount=a)))),
    st.integers(17, 2_000).map(lambda d: ("deep", with_nested(row(), d))),
    st.just(("long", encode(row(memo="m" * 70_000)))),
    st.just(("tombstone", None)),
    st.just(("key", b"other-key")),
)


@st.composite
def batches(draw) -> list[tuple[str, bytes | None, bool]]:
    """(kind, value, valid) per message; ``key`` kinds carry a good row under another key."""
    out = []
    for i in range(50):
        sent = [value for kind, value, _ in out if kind == "valid"]
        if sent and draw(st.integers(0, 9)) == 0:  # a producer's retry of a valid message
            out.append(("repeat", draw(st.sampled_from(sent)), False))
        elif draw(st.booleans()):
            out.append(("valid", encode(row(txn_id=f"V{i}", **draw(VALID_CHANGES))), True))
        else:
            kind, value = draw(HOSTILE)
            if kind == "key":
                out.append(("key", encode(row(txn_id=f"K{i}")), False))
            else:
                out.append((kind, value, False))
    return out


@settings(max_examples=220, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=batches())
def test_every_message_is_processed_or_dead_lettered_with_a_reason(detector, batch):
    # 220 examples of 50 messages: 11,000 messages, about half hostile, a tenth re-sent
    messages = [
        Message(
            "transactions",
            0,
            i,
            b"someone-else" if kind == "key" else GOOD["customer_id"].encode(),
            value,
        )
        for i, (kind, value, _) in enumerate(batch)
    ]
    state = detector.new_state()
    result = detector.process(state, [], messages)
    dead = {d.offset: d for d in result.dead}
    for i, (kind, _, valid) in enumerate(batch):
        if valid:
            assert i not in dead, (kind, dead.get(i))
        elif kind == "repeat":
            assert dead[i].reason_class == "duplicate", dead[i]
        elif i not in dead:
            # a hostile draw can happen to be a valid transaction (e.g. a memo change)
            assert kind in ("field",), (kind, batch[i])
    assert result.transactions + len(result.dead) == len(batch)
    for letter in result.dead:
        assert letter.reason_class in DEAD_LETTER_REASON_CLASSES
        assert len(letter.reason) > 10
    assert state.offsets["transactions"] == len(batch)


# ---------------------------------------------------------------------- the failure policy
def test_a_message_whose_handling_raises_is_set_aside_and_the_rest_processed(monkeypatch):
    """A bug on one row (here: column building raises on txn_id POISON) costs that row,
    not the worker: bisection finds it, the others are processed, a metric counts it."""
    real = columns_module.transaction_columns

    def columns_or_raise(decoded, reference):
        if "POISON" in decoded.txn_ids:
            raise ZeroDivisionError("a bug")
        return real(decoded, reference)

    for module in (detector_module, isolate_module):
        monkeypatch.setattr(module, "transaction_columns", columns_or_raise)
    metrics = Metrics()
    firehose = Firehose(Settings(), metrics)
    state = firehose.detector.new_state()
    values = [encode(row(txn_id=f"T{i}")) for i in range(9)]
    values.insert(4, encode(row(txn_id="POISON")))
    result = asyncio.run(firehose._detect(state, [], [message(v, i) for i, v in enumerate(values)]))
    assert [(d.offset, d.reason_class) for d in result.dead] == [(4, "handler_error")]
    assert "ZeroDivisionError" in result.dead[0].reason
    assert result.transactions == 9
    assert state.offsets["transactions"] == 10
    assert metrics.handler_errors.labels("firehose")._value.get() == 1


def test_a_failure_after_state_changed_sets_the_batch_aside(monkeypatch):
    """When the stateful stage raises, retrying would apply rows twice: the batch's
    transactions are dead letters, and the worker goes on."""
    firehose = Firehose(Settings(), Metrics())

    def broken(*args, **kwargs):
        raise RuntimeError("kernel bug")

    monkeypatch.setattr(firehose.detector, "detect_columns", broken)
    state = firehose.detector.new_state()
    values = [encode(row(txn_id=f"T{i}")) for i in range(3)]
    result = asyncio.run(firehose._detect(state, [], [message(v, i) for i, v in enumerate(values)]))
    assert [d.reason_class for d in result.dead] == ["handler_error"] * 3
    assert "may be partial" in result.dead[0].reason
    assert state.offsets["transactions"] == 3


def test_the_case_queue_skips_a_package_nested_too_deep():
    from engine.cases.index import CaseIndex

    head = b'{"case_id": "C1", "version": 1, "status": "open", "score": 1, "subjects": []'
    index = CaseIndex()
    assert index.fold(0, 0, b"C1", head + b', "z": ' + deep(5_000).encode() + b"}") == "invalid"
    assert index.invalid == 1 and len(index) == 0


# ---------------------------------------------------------------------- re-delivered transactions
def test_a_transaction_sent_twice_counts_once_within_and_across_batches(detector):
    first = [encode(row(txn_id=f"T{i}", amount=100.0 + i)) for i in range(5)]
    again = [first[1], encode(row(txn_id="T9")), first[1], first[4]]
    state = detector.new_state()
    one = detector.process(state, [], [message(v, i) for i, v in enumerate(first + [first[0]])])
    assert one.transactions == 5
    assert [(d.offset, d.reason_class) for d in one.dead] == [(5, "duplicate")]
    assert "'T0' was already processed" in one.dead[0].reason
    # the memory is in the state, so it holds across batches and through a checkpoint
    two = detector.process(state, [], [message(v, 6 + i) for i, v in enumerate(again)])
    assert two.transactions == 1 and [d.offset for d in two.dead] == [6, 8, 9]
    # the same id from another customer is another transaction
    other = encode(row(txn_id="T1", customer_id="C-OTHER"))
    three = detector.process(state, [], [message(other, 10, key=b"C-OTHER")])
    assert three.transactions == 1 and not three.dead


def test_repeats_survive_a_checkpoint(detector, tmp_path):
    state = detector.new_state()
    detector.process(state, [], [message(encode(row(txn_id="T1")), 0)])
    state.save(tmp_path / "p0.npz", "hash")
    restored = PartitionState.load(tmp_path / "p0.npz", detector.specs)
    result = detector.process(restored, [], [message(encode(row(txn_id="T1")), 1)])
    assert result.transactions == 0 and [d.reason_class for d in result.dead] == ["duplicate"]


def test_duplicates_change_no_alert_wherever_batches_are_cut(small_dataset):
    """A population's transactions with a copy of every 20th sent again a few messages
    later: every copy is a `duplicate` dead letter and the alerts are those of the input
    without copies, for any batch size."""
    lines = (small_dataset / "transactions.jsonl").read_bytes().splitlines()
    with_copies: list[bytes] = []
    for i, line in enumerate(lines):
        with_copies.append(line)
        if i % 20 == 7 and i >= 3:
            with_copies.append(lines[i - 3])  # a retry overtaken by three later sends
    copies = len(with_copies) - len(lines)
    assert copies > 50

    def run(values: list[bytes], chunk: int):
        detector = Detector(Settings())
        state = detector.new_state()
        alerts, dead = [], []
        batch = [
            Message("transactions", 0, i, json.loads(v)["customer_id"].encode(), v)
            for i, v in enumerate(values)
        ]
        for start in range(0, len(batch), chunk):
            result = detector.process(state, [], batch[start : start + chunk])
            alerts += result.alerts
            dead += result.dead
        return comparable(alerts), dead

    baseline, none = run(lines, 1_000)
    assert baseline and not none
    for chunk in (1_000, 97):
        alerts, dead = run(with_copies, chunk)
        assert [d.reason_class for d in dead] == ["duplicate"] * copies, chunk
        assert alerts == baseline, chunk
