"""Seeded workloads: generated once into ``out/bench-data/`` and reused by every benchmark.

A workload is a synthetic population (``engine.synthetic.generate``) with a fixed size and
seed, so two runs of a benchmark on two machines read byte-identical input. Generation
writes into a temporary folder that is renamed when complete, so an interrupted run never
leaves a half-written dataset that a later run would trust.

Example::

    >>> from benchmarks.workload import WORKLOADS, prepare
    >>> path = prepare(WORKLOADS["tiny"])          # doctest: +SKIP
    >>> sorted(p.name for p in path.iterdir())     # doctest: +SKIP
    ['labels.csv', 'profiles.jsonl', 'transactions.jsonl', ...]
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "out" / "bench-data"
_DONE = ".complete"


@dataclass(frozen=True)
class Workload:
    """A population size, a seed, and how many of its transactions (file order) to use."""

    name: str
    customers: int
    days: int
    seed: int
    transactions: int | None = None  # None: all of them

    def folder(self, root: Path = CACHE) -> Path:
        return root / f"{self.customers}x{self.days}-s{self.seed}"


# The generator emits about 1.9 transactions per customer-day (measured: 200 x 10 gives
# 3,862 rows, 2,000 x 30 gives 111,506). "1M" is 10,000 customers over 60 days (about 1.1M
# rows) cut to its first 1,000,000 rows; the file is in event-time order, so the cut is a
# time prefix of every customer's history. (10,000 rather than more customers over fewer
# days: the generator runs out of fictional 555 phone numbers somewhere above 10,000.)
WORKLOADS: dict[str, Workload] = {
    "tiny": Workload("tiny", 200, 10, 7),
    "quick": Workload("quick", 2_000, 30, 7, 50_000),
    "1M": Workload("1M", 10_000, 60, 7, 1_000_000),
    # A bank's population (the issues' measurements): 20,000 customers over 60 days, 2.3M
    # rows, cut to the first 1,000,000; nearly every customer appears in every batch.
    "bank": Workload("bank", 20_000, 60, 2026, 1_000_000),
}


def dataset(customers: int, days: int, seed: int, root: Path = CACHE) -> Path:
    """Folder with ``transactions.jsonl``, ``profiles.jsonl`` and ``labels.csv``; generated
    on first use, reused afterwards."""
    folder = Workload("", customers, days, seed).folder(root)
    if _marker(folder).get("generator") == generator_version():
        return folder
    from engine.synthetic import generate

    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    generate(partial, customers=customers, days=days, seed=seed, progress=False)
    marker = {
        "transactions": count_lines(partial / "transactions.jsonl"),
        "generator": generator_version(),
    }
    (partial / _DONE).write_text(json.dumps(marker) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def prepare(workload: Workload, root: Path = CACHE) -> Path:
    """The workload's folder (generated if needed)."""
    return dataset(workload.customers, workload.days, workload.seed, root)


def transactions_file(folder: Path, limit: int | None = None) -> Path:
    """``transactions.jsonl`` or a cached copy of its first ``limit`` lines.

    The copy is named ``transactions-<limit>.jsonl`` so ``engine.tools.produce.topic_for`` still
    sends it to the transactions topic. When the file is shorter than ``limit`` the whole
    file is used.
    """
    full = folder / "transactions.jsonl"
    if limit is None or limit >= total_transactions(folder):
        return full
    cut = folder / f"transactions-{limit}.jsonl"
    if not cut.exists():
        tmp = cut.with_suffix(".tmp")
        with open(full, "rb") as src, open(tmp, "wb") as dst:
            for n, line in enumerate(src):
                if n >= limit:
                    break
                dst.write(line)
        tmp.rename(cut)
    return cut


def total_transactions(folder: Path) -> int:
    return _marker(folder).get("transactions") or count_lines(folder / "transactions.jsonl")


def generator_version() -> str:
    """Digest of the generator's source: a changed generator invalidates cached datasets."""
    import engine.synthetic

    digest = hashlib.sha256()
    for path in sorted(Path(engine.synthetic.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _marker(folder: Path) -> dict:
    try:
        marker = json.loads((folder / _DONE).read_text())
    except (OSError, ValueError):
        return {}
    return marker if isinstance(marker, dict) else {}


def shown(path: Path) -> str:
    """``path`` relative to the repository when inside it (results files stay portable)."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def read_lines(path: Path, limit: int | None = None) -> list[bytes]:
    """Non-empty lines of a JSONL file (without the newline), at most ``limit`` of them."""
    lines: list[bytes] = []
    with open(path, "rb") as handle:
        for line in handle:
            line = line.strip()
            if line:
                lines.append(line)
                if limit is not None and len(lines) >= limit:
                    break
    return lines


def count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(buf.count(b"\n") for buf in iter(lambda: handle.read(1 << 20), b""))
