"""Cases from an alerts file, without Kafka: ``protect cases --alerts A --profiles P``.

The worker folds each alert into its subject's :class:`~engine.cases.CaseEntry` with
:func:`~engine.cases.apply_alert` and publishes :func:`~engine.cases.package_for` of the
result (``engine/cases/model.py``). This module runs exactly those functions over a backtest's
alerts, so the offline cases are the stream's: one open case per subject, a repeated
``alert_id`` dropped, the same packages and exports. There are no dispositions offline,
so no case is ever decided and each subject has exactly one case. Related subjects are
linked after the last alert (:func:`engine.cases.links.link_cases`), as the worker's timer
would link them once every case is known.

Then both exports of every package go through :func:`engine.cases.disclosure.export`, the
function that refuses to write an invalid report, and every failure is kept (case id,
format, the schema's complaint) instead of stopping at the first: issue #5 asks that
*every* case of a generated 20,000-customer set validates, and a report that names all
failing cases is what makes a miss fixable::

    assembly = assemble(read_alerts(path), profiles)
    report = validate_all(packages(assembly, profiles))
    report.ok, report.failures
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from engine.cases.assembly import apply_alert, package_for
from engine.cases.disclosure import FORMATS, ExportValidationError, export
from engine.cases.links import link_cases
from engine.cases.model import CaseEntry, decode_alert, decode_profile
from engine.errors import ProtectError
from engine.private_files import write_private
from schemas import Alert, Profile

EXPORT_SUFFIX = {"fintrac": ".fintrac.json", "goaml": ".goaml.xml"}


# ---------------------------------------------------------------------- input
def read_alerts(path: Path) -> Iterator[Alert]:
    """CONTRACT §4 alerts from a JSONL file (what ``protect backtest`` writes), in file order."""
    with open(path, "rb") as handle:
        for n, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield decode_alert(line)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise ProtectError(f"{path}:{n}: not a CONTRACT §4 alert: {exc}") from None


def read_profiles(path: Path) -> dict[str, Profile]:
    """The latest valid profile per customer from JSONL or Parquet, as the worker's table
    keeps them (an invalid profile is skipped there too: the detector dead-letters it)."""
    from engine.tools.backtest import read_messages  # polars: only when profiles are read

    profiles: dict[str, Profile] = {}
    for batch in read_messages(Path(path), "profiles"):
        for message in batch:
            profile = decode_profile(message.value)
            if profile is not None:
                profiles[profile.customer_id] = profile
    return profiles


# ---------------------------------------------------------------------- assembly
@dataclass
class Assembly:
    """Every subject's entry after the alerts, and what each alert did to it."""

    # subject → entry, in the order subjects were first alerted
    entries: dict[str, CaseEntry] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)  # opened / joined / duplicate / ...

    @property
    def alerts(self) -> int:
        return sum(self.outcomes.values())


def assemble(alerts: Iterable[Alert], profiles: Mapping[str, Profile]) -> Assembly:
    """Fold ``alerts`` into cases in order, as the worker's ``assemble_cases`` agent does.

    The order within a subject matters (it sets each version and role history); the
    stream delivers a subject's alerts in the order the detector made them, which is the
    order of a backtest's alerts file.
    """
    assembly = Assembly()
    for alert in alerts:
        entry = assembly.entries.get(alert.customer_id, CaseEntry())
        result = apply_alert(entry, alert, profiles.get(alert.customer_id))
        assembly.entries[alert.customer_id] = result.entry
        assembly.outcomes[result.result] += 1
    # then related subjects, as the worker links them on each alert and on its timer
    linked = link_cases(
        {s: e.case for s, e in assembly.entries.items() if e.case is not None}, profiles
    )
    for subject, case in linked.items():
        assembly.entries[subject] = msgspec.structs.replace(assembly.entries[subject], case=case)
    return assembly


def packages(assembly: Assembly, profiles: Mapping[str, Profile]) -> Iterator[dict]:
    """Each case's disclosure package (built one at a time: a large case is a few MB)."""
    for entry in assembly.entries.values():
        if entry.case is not None:
            yield package_for(entry, profiles)


def assemble_cases(alerts: Iterable[Alert], profiles: Mapping[str, Profile]) -> list[dict]:
    """Every case's package, from ``alerts`` and the subjects' ``profiles``."""
    return list(packages(assemble(alerts, profiles), profiles))


# ---------------------------------------------------------------------- validation
@dataclass(frozen=True)
class Failure:
    """One export of one case that its official schema rejects."""

    case_id: str
    format: str  # "fintrac" or "goaml"
    message: str  # the schema's complaint, every failing path


@dataclass
class ValidationReport:
    """Cases seen, exports that validated per format, and every failure in case order."""

    cases: int = 0
    subjects: set[str] = field(default_factory=set)
    valid: Counter[str] = field(default_factory=Counter)  # format → cases whose export validates
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def invalid(self, fmt: str) -> int:
        return sum(1 for f in self.failures if f.format == fmt)

    def add(self, package: Mapping, files: Mapping[str, bytes], failures: list[Failure]) -> None:
        self.cases += 1
        self.subjects.update(s["customer_id"] for s in package["subjects"])
        self.valid.update(files.keys())
        self.failures.extend(failures)

    def as_json(self) -> dict:
        return {
            "cases": self.cases,
            "subjects": len(self.subjects),
            "exports": {
                fmt: {"valid": self.valid[fmt], "invalid": self.invalid(fmt)} for fmt in FORMATS
            },
            "failures": [vars(f) for f in self.failures],
        }


def checked_exports(package: Mapping) -> tuple[dict[str, bytes], list[Failure]]:
    """Both exports of ``package`` as the files an analyst files, each validated against its
    official schema; an export that fails is a :class:`Failure` instead of a file."""
    files: dict[str, bytes] = {}
    failures: list[Failure] = []
    for fmt in FORMATS:
        try:
            files[fmt] = export(package, fmt)
        except ExportValidationError as exc:
            failures.append(Failure(package["case_id"], fmt, str(exc)))
    return files, failures


def validate_all(packages: Iterable[Mapping]) -> ValidationReport:
    """Validate both exports of every package; the report lists every failure."""
    report = ValidationReport()
    for package in packages:
        files, failures = checked_exports(package)
        report.add(package, files, failures)
    return report


# ---------------------------------------------------------------------- files
def carried_exports(package: Mapping) -> dict[str, bytes]:
    """The exports the package carries, unvalidated (``protect cases`` without ``--validate``)."""
    exports = package["exports"]
    return {
        "fintrac": msgspec.json.format(msgspec.json.encode(exports["fintrac_str"]), indent=2),
        "goaml": exports["goaml_xml"].encode("utf-8"),
    }


def write_case(out: Path, package: Mapping, files: Mapping[str, bytes]) -> None:
    """``CASE.package.json`` (the bytes the ``disclosures`` topic carries) and its exports."""
    case_id = package["case_id"]
    write_private(out / f"{case_id}.package.json", msgspec.json.encode(package))
    for fmt, data in files.items():
        write_private(out / f"{case_id}{EXPORT_SUFFIX[fmt]}", data)


def run(
    assembly: Assembly,
    profiles: Mapping[str, Profile],
    out: Path | None,
    validate: bool,
    progress: bool = False,
) -> ValidationReport:
    """Build every package, validate its exports if asked, write them to ``out`` if given.

    With ``validate``, an export that fails its schema is not written (``export`` refuses
    it, as the analyst's download does) and ``out/validation.json`` lists every failure.
    """
    from tqdm import tqdm

    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    report = ValidationReport()
    cases = sum(1 for e in assembly.entries.values() if e.case is not None)
    bar = tqdm(total=cases, desc="cases", unit="case", disable=not progress, smoothing=0.1)
    with bar:
        for package in packages(assembly, profiles):
            if validate:
                files, failures = checked_exports(package)
                report.add(package, files, failures)
                for failure in failures:
                    bar.write(f"{failure.case_id} {failure.format}: {_headline(failure.message)}")
            else:
                files = carried_exports(package)
                report.add(package, {}, [])
            if out is not None:
                write_case(out, package, files)
            bar.update()
    if out is not None and validate:
        write_private(
            out / "validation.json",
            msgspec.json.format(msgspec.json.encode(report.as_json()), indent=2),
        )
    return report


def summary(assembly: Assembly, report: ValidationReport, validate: bool) -> str:
    """What ``protect cases`` prints at the end."""
    o = assembly.outcomes
    lines = [
        f"{assembly.alerts:,} alerts ({o['duplicate']:,} duplicates dropped) → "
        f"{report.cases:,} cases for {len(report.subjects):,} subjects"
    ]
    if validate:
        for fmt, name in (("fintrac", "FINTRAC STR"), ("goaml", "goAML 5.0.1")):
            lines.append(
                f"{name + ' exports':<22}{report.valid[fmt]:>7,} valid, "
                f"{report.invalid(fmt):,} invalid (official schema)"
            )
    else:
        lines.append("exports not validated (add --validate)")
    return "\n".join(lines)


def _headline(message: str) -> str:
    """The first line and the first failing path of an :class:`ExportValidationError`."""
    head, _, rest = message.partition("\n")
    return f"{head} {rest.strip().splitlines()[0]}" if rest.strip() else head
