"""Run the streaming detector over files: the same Detector and state code as the worker.

Input is JSONL (one contract message per line, exactly the bytes a producer would put on
the topic) or Parquet with the contract's columns, read with polars in chunks and turned
back into the same contract JSON the stream carries, so :meth:`Detector.process`, the one
detection path, runs unchanged and the stream's alerts equal the backtest's (a test).

Two ways in:

* :func:`backtest`: profiles first, then the transactions in chunks, with a progress bar;
  returns the totals and the end state. ``protect backtest`` writes the alerts as JSONL.
* :class:`DecodedInput`: decode once, detect many times. The tuning sweep (``protect tune``)
  caches each chunk's kernel columns and re-runs :meth:`Detector.detect_columns` (kernels,
  constellation, alert building: the code after decoding) per setting, so a sweep costs
  kernel time, not JSON decoding.

Row numbers are the event refs (``seq``), as Kafka offsets are in the stream: line *k*
of a JSONL file, row *k* of a Parquet file.

With ``cross_customer`` on (the default), the second stage's PP-19 findings (customers
sharing a phone, e-mail or address, ``engine.crosscustomer.identifiers``) are computed from
all profiles before the first transaction: the stream's steady state, once the identifier index has
caught up. Compare with a stream run with ``cross_customer = false`` for exact equality.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np
import polars as pl

from engine.config import Settings
from engine.core.columnar import decode_transactions
from engine.core.decode import Message, decode_profile
from engine.core.detector import BatchResult, Detector, drop_repeats
from engine.core.kernel_columns import transaction_columns
from engine.core.reference import ReferenceLists
from engine.core.repeats import RecentTxns
from engine.core.state import PartitionState
from engine.crosscustomer.identifiers import FINDING_FACTS, Observation, update_holders
from engine.crosscustomer.parties import PartyIndex
from engine.errors import ProtectError
from engine.private_files import open_private
from schemas import Alert, Profile

PRUNE_EVERY = 20  # chunks
CHUNK = 50_000
_ALERT_ENCODER = msgspec.json.Encoder()
_OBSERVATION = msgspec.json.Decoder(Observation)
# JSON nulls that polars writes for missing optional columns: the contract omits them.
_NULL_AFTER_COMMA = re.compile(rb',"[A-Za-z0-9_]+":null')
_NULL_FIRST = re.compile(rb'(?<=\{)"[A-Za-z0-9_]+":null,?')


# ---------------------------------------------------------------------------- reading
def is_parquet(path: Path) -> bool:
    return Path(path).suffix.lower() in (".parquet", ".pq")


def count_rows(path: Path) -> int:
    """Rows in a Parquet file (metadata) or non-empty lines in a JSONL file (one fast pass)."""
    path = Path(path)
    if is_parquet(path):
        return int(pl.scan_parquet(path).select(pl.len()).collect().item())
    n, last = 0, b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(1 << 24):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


def read_messages(path: Path, topic: str, chunk: int = CHUNK) -> Iterator[list[Message]]:
    """Chunks of contract messages from a JSONL or Parquet file; offset = row number."""
    for messages, _ in _read_chunks(Path(path), topic, chunk, positions=False):
        yield messages


def _read_chunks(
    path: Path, topic: str, chunk: int, positions: bool
) -> Iterator[tuple[list[Message], np.ndarray | None]]:
    """Like :func:`read_messages`; with ``positions``, also each JSONL line's byte offset
    (for :class:`DecodedInput`, which keeps raw rows in the file rather than in memory)."""
    if not path.is_file():
        raise ProtectError(f"{path}: no such file")
    if is_parquet(path):
        offset = 0
        for frame in pl.scan_parquet(path).collect_batches(chunk_size=chunk):
            lines = contract_json_lines(frame, topic)
            yield [Message(topic, 0, offset + k, None, line) for k, line in enumerate(lines)], None
            offset += len(lines)
        return
    offsets: list[int] = []
    starts: list[int] = []
    lines: list[bytes] = []
    for offset, start, line in _jsonl_lines(path):
        offsets.append(offset)
        starts.append(start)
        lines.append(line)
        if len(lines) >= chunk:
            yield _messages(topic, offsets, lines), _positions(starts, positions)
            offsets, starts, lines = [], [], []
    if lines:
        yield _messages(topic, offsets, lines), _positions(starts, positions)


def _jsonl_lines(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte position, text without surrounding whitespace) of each non-blank
    line. Read in large blocks and split in C."""
    number = position = 0
    tail = b""
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            pieces = (tail + block).split(b"\n")
            tail = pieces.pop()
            for text in pieces:
                line = text.strip()
                if line:
                    yield number, position + len(text) - len(text.lstrip()), line
                number += 1
                position += len(text) + 1
    line = tail.strip()
    if line:
        yield number, position + len(tail) - len(tail.lstrip()), line


def _messages(topic: str, offsets: list[int], lines: list[bytes]) -> list[Message]:
    return [Message(topic, 0, o, None, line) for o, line in zip(offsets, lines, strict=True)]


def _positions(starts: list[int], wanted: bool) -> np.ndarray | None:
    return np.array(starts, dtype=np.int64) if wanted else None


def contract_json_lines(frame: pl.DataFrame, topic: str = "transactions") -> list[bytes]:
    """Rows of a contract-shaped frame as the JSON messages a producer would send.

    Missing values are left out rather than written as ``null`` (the contract's optional
    fields); timestamps stored as Parquet datetimes are written in RFC 3339 with their
    offset (a time-zone-aware column; a naive one has no offset and is dead-lettered with
    that reason, as the contract requires); an integer ``mcc`` becomes its 4-digit code.
    """
    if frame.height == 0:
        return []
    fixes = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            fmt = "%Y-%m-%dT%H:%M:%S%.f%:z" if dtype.time_zone else "%Y-%m-%dT%H:%M:%S%.f"
            fixes.append(pl.col(name).dt.strftime(fmt))
        elif name == "mcc" and dtype.is_integer():
            fixes.append(pl.col(name).cast(pl.Utf8).str.zfill(4))
        elif isinstance(dtype, pl.Decimal | pl.Categorical | pl.Enum):
            fixes.append(pl.col(name).cast(pl.Utf8))
    if fixes:
        frame = frame.with_columns(fixes)
    text = frame.write_ndjson().encode()
    text = _NULL_FIRST.sub(b"", _NULL_AFTER_COMMA.sub(b"", text))
    return text.splitlines()


def transaction_schema() -> dict[str, pl.DataType | type[pl.DataType]]:
    """The contract's transaction columns as a Parquet schema: money as float64, ``attempted``
    boolean, everything else text (``ts`` keeps its RFC 3339 form and local offset)."""
    from schemas import Transaction

    kinds: dict[str, type[pl.DataType]] = {
        "amount": pl.Float64,
        "amount_cad": pl.Float64,
        "balance_after": pl.Float64,
        "attempted": pl.Boolean,
    }
    return {name: kinds.get(name, pl.Utf8) for name in Transaction.__struct_fields__}


def write_parquet(jsonl: Path, out: Path, kind: str = "transactions") -> int:
    """A JSONL file of contract messages as Parquet (streamed for transactions)."""
    if kind == "transactions":
        pl.scan_ndjson(jsonl, schema=transaction_schema()).sink_parquet(out, compression="zstd")
    else:
        pl.read_ndjson(jsonl, infer_schema_length=None).write_parquet(out, compression="zstd")
    return count_rows(Path(out))


# ---------------------------------------------------------------------------- backtest
def backtest(
    transactions: Path,
    profiles: Path | None,
    settings: Settings,
    chunk: int = CHUNK,
    detector: Detector | None = None,
    progress: bool = False,
) -> tuple[BatchResult, PartitionState]:
    """Apply all profiles, then stream the transactions through in chunks; returns totals."""
    detector = detector or Detector(settings)
    detector.parties = PartyIndex()  # a run starts knowing no one, as a fresh stream does
    state = detector.new_state()
    total = BatchResult()
    if profiles is not None:
        _apply_profiles(detector, state, Path(profiles), total)
    with _bar(progress, transactions) as bar:
        for n, batch in enumerate(
            read_messages(Path(transactions), "transactions", chunk), start=1
        ):
            part = detector.process(state, [], batch)
            _announce(detector, part)
            _merge(total, part)
            bar.update(len(batch))
            _maybe_prune(state, settings, n)
    return total, state


def _apply_profiles(
    detector: Detector, state: PartitionState, profiles: Path, total: BatchResult
) -> None:
    for batch in read_messages(profiles, "profiles"):
        _merge(total, detector.process(state, batch, []))
    if detector.settings.cross_customer:
        apply_shared_identifier_findings(
            state, total.observations, detector.settings.shared_identifier_min_holders
        )
    total.observations = []  # large, and only the stream's second stage needs them


def apply_shared_identifier_findings(
    state: PartitionState, observations: list[tuple[bytes, bytes]], min_holders: int
) -> int:
    """What the stream's identifier index (``engine.crosscustomer.identifiers``) would find,
    applied at once."""
    table: dict[str, dict] = {}
    found = 0
    for _, value in observations:
        obs = _OBSERVATION.decode(value)
        table[obs.identifier], findings = update_holders(
            table.get(obs.identifier, {}), obs, min_holders
        )
        for finding in findings:
            state.apply_finding(finding.customer_id, FINDING_FACTS[finding.rule])
            found += 1
    return found


def _announce(detector: Detector, part: BatchResult) -> None:
    """The party index learns a chunk's signals before the next chunk, as the stream's does
    after each batch has gone round the ``party-signals`` topic."""
    if detector.settings.cross_customer:
        detector.parties.add_all(part.party_signals)


def _maybe_prune(state: PartitionState, settings: Settings, n: int) -> None:
    if n % PRUNE_EVERY == 0:  # keep the evidence store bounded, as checkpoints do in the worker
        state.prune(state.newest_event_ts(), settings.constellation.window_days * 86_400)


def _merge(total: BatchResult, part: BatchResult) -> None:
    total.alerts += part.alerts
    total.dead += part.dead
    total.transactions += part.transactions
    total.profiles += part.profiles
    total.observations += part.observations
    for key, value in part.fired.items():
        total.fired[key] = total.fired.get(key, 0) + value


def _bar(progress: bool, path: Path, desc: str = "backtest"):
    from tqdm import tqdm

    total = count_rows(Path(path)) if progress else None
    return tqdm(
        total=total, desc=desc, unit="tx", unit_scale=True, disable=not progress, smoothing=0.1
    )


def write_alerts(alerts: Sequence[Alert], out: Path) -> None:
    """Alerts as JSONL, one CONTRACT §4 message per line (what the ``alerts`` topic carries)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_private(out) as handle:
        for alert in alerts:
            handle.write(_ALERT_ENCODER.encode(alert) + b"\n")


# ---------------------------------------------------------------------------- decode once
class _TxnIds(Sequence):
    """``txn_ids[i]`` as text, from the cached fixed-width bytes, on demand."""

    def __init__(self, txn_ids: np.ndarray):
        self.txn_ids = txn_ids

    def __len__(self) -> int:
        return len(self.txn_ids)

    def __getitem__(self, i):  # type: ignore[override]
        return self.txn_ids[i].decode()


class _Customers(Sequence):
    """``customer_ids[i]`` from the cached ``cust`` column and the slot order, on demand."""

    def __init__(self, cust: np.ndarray, names: list[str]):
        self.cust, self.names = cust, names

    def __len__(self) -> int:
        return len(self.cust)

    def __getitem__(self, i):  # type: ignore[override]
        return self.names[int(self.cust[i])]


class _Raws(Sequence):
    """Each row's message bytes, sliced from the memory-mapped input on demand."""

    def __init__(self, data, starts: np.ndarray, ends: np.ndarray):
        self.data, self.starts, self.ends = data, starts, ends

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i):  # type: ignore[override]
        return bytes(self.data[int(self.starts[i]) : int(self.ends[i])])


@dataclass
class _Chunk:
    columns: dict[str, np.ndarray]
    txn_ids: np.ndarray  # fixed-width bytes
    starts: np.ndarray  # byte span of each row in the raw store
    ends: np.ndarray


@dataclass
class DecodedInput:
    """Transactions decoded once into kernel columns, ready for many detection runs.

    Memory is about 150 bytes per transaction (the columns); the raw rows stay in the
    input file (memory-mapped; for Parquet input, in a JSONL copy beside ``cache_dir``)
    and are read only for evidence.
    """

    profiles: list[list[Message]]
    chunks: list[_Chunk]
    customers: list[str]  # in order of first appearance: the state's slot order
    raw: object  # mmap of the JSONL rows
    reference: ReferenceLists  # the lists the columns were computed with
    transactions: int = 0
    dead: int = 0

    def days(self) -> float:
        """Days between the first and the last transaction (whole days, at least 1)."""
        if not self.chunks:
            return 0.0
        first = min(int(c.columns["ts"].min()) for c in self.chunks)
        last = max(int(c.columns["ts"].max()) for c in self.chunks)
        return float(max(1, round((last - first) / 86_400)))

    @classmethod
    def load(
        cls,
        transactions: Path,
        profiles: Path | None,
        settings: Settings,
        chunk: int = CHUNK,
        progress: bool = False,
        cache_dir: Path | None = None,
    ) -> DecodedInput:
        transactions = Path(transactions)
        reference_detector = Detector(settings)  # only its reference lists are used
        profile_batches = list(read_messages(Path(profiles), "profiles")) if profiles else []
        slots: dict[str, int] = {}
        for batch in profile_batches:
            for m in batch:
                profile = decode_profile(m, settings.limits)  # slots go to valid profiles only
                if isinstance(profile, Profile):
                    slots.setdefault(profile.customer_id, len(slots))
        source = transactions
        if is_parquet(transactions):  # the rows as JSONL once, so evidence can be read back
            folder = Path(cache_dir) if cache_dir else transactions.parent
            folder.mkdir(parents=True, exist_ok=True)
            source = folder / (transactions.stem + ".rows.jsonl")
        chunks: list[_Chunk] = []
        recent = RecentTxns(len(slots))
        dead = n_rows = 0
        writer = open(source, "wb") if source != transactions else None  # noqa: SIM115
        written = 0
        try:
            with _bar(progress, transactions, "decode") as bar:
                for batch, starts in _read_chunks(
                    transactions, "transactions", chunk, positions=writer is None
                ):
                    if writer is not None:
                        lengths = np.fromiter(
                            (len(m.value or b"") + 1 for m in batch),
                            dtype=np.int64,
                            count=len(batch),
                        )
                        starts = written + np.concatenate([[0], np.cumsum(lengths)[:-1]])
                        writer.write(b"".join(m.value + b"\n" for m in batch))  # type: ignore[operator]
                        written += int(lengths.sum())
                    decoded = decode_transactions(batch, settings.limits)
                    dead += len(decoded.dead)
                    bar.update(len(batch))
                    if not len(decoded):
                        continue
                    columns = transaction_columns(decoded, reference_detector.reference)
                    columns["cust"] = np.array(
                        [slots.setdefault(c, len(slots)) for c in decoded.customer_ids],
                        dtype=np.int64,
                    )
                    # a re-delivered transaction counts once, as in Detector.process
                    recent.grow(len(slots))
                    repeated = BatchResult()
                    decoded, columns = drop_repeats(recent, decoded, columns, batch, repeated)
                    dead += len(repeated.dead)
                    if not len(decoded):
                        continue
                    pos = {m.offset: k for k, m in enumerate(batch)}
                    take = np.array([pos[o] for o in decoded.offsets.tolist()], dtype=np.int64)
                    row_starts = starts[take]  # type: ignore[index]
                    row_ends = row_starts + np.array(
                        [len(v) for v in decoded.values], dtype=np.int64
                    )
                    # ASCII by the contract's pattern: fixed-width bytes, a tenth of str objects
                    txn_ids = np.array(decoded.txn_ids, dtype=np.bytes_)
                    chunks.append(_Chunk(columns, txn_ids, row_starts, row_ends))
                    n_rows += len(decoded)
        finally:
            if writer is not None:
                writer.close()
        with open(source, "rb") as handle:
            raw = (
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                if source.stat().st_size
                else b""
            )
        return cls(
            profile_batches, chunks, list(slots), raw, reference_detector.reference, n_rows, dead
        )

    def run(
        self, settings: Settings, detector: Detector | None = None
    ) -> tuple[BatchResult, PartitionState]:
        """Detection under ``settings`` over the cached columns: the same result as
        :func:`backtest` with these settings (the reference lists are those decoded with)."""
        detector = detector or Detector(settings)
        detector.parties = PartyIndex()
        state = detector.new_state()
        total = BatchResult()
        for batch in self.profiles:
            _merge(total, detector.process(state, batch, []))
        if settings.cross_customer:
            apply_shared_identifier_findings(
                state, total.observations, settings.shared_identifier_min_holders
            )
        total.observations = []
        # Slots are handed out in order of first appearance, so registering everyone up
        # front gives each customer the slot the cached ``cust`` column already holds.
        slots = state.slots_for(self.customers)
        if not np.array_equal(slots, np.arange(len(self.customers))):
            raise ProtectError("cached input does not match the state's slot order")
        for n, c in enumerate(self.chunks, start=1):
            part = BatchResult()
            n_rows = len(c.txn_ids)
            detector.detect_columns(
                state,
                _Customers(c.columns["cust"], self.customers),
                _TxnIds(c.txn_ids),
                c.columns,
                part,
                np.zeros(n_rows, dtype=np.int64),
                _Raws(self.raw, c.starts, c.ends),
            )
            _announce(detector, part)
            _merge(total, part)
            _maybe_prune(state, settings, n)
        total.profiles = sum(len(b) for b in self.profiles)
        return total, state
