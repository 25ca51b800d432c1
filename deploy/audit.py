"""`make audit`: known vulnerabilities in the pinned dependencies (deploy/constraints.txt).

    python deploy/audit.py [--strict] [--ignore-vuln ID ...] deploy/constraints.txt

1. pip-audit (the dev extra's pinned release, next to this interpreter) checks every pin
   against PyPI's vulnerability data: ``--no-deps --disable-pip -r CONSTRAINTS``, the lock
   being complete and exact, nothing is resolved or installed.
2. pip-audit asks PyPI for each release's record (``/pypi/NAME/VERSION/json``). Where
   that answers 404 (some mirrors and proxies serve only the project record), it skips the
   pin. For those this script reads the project record (``/pypi/NAME/json``), whose
   ``vulnerabilities`` are those of the project's latest release: they apply when the pin
   *is* that release; any other pin is reported as not audited.

Exit 1 on any known vulnerability not ignored (and, with ``--strict``, on any pin audited
by neither), 2 if pip-audit itself fails; 0 otherwise. Every ignore needs an ID here and a
reason in the Makefile (AUDIT_IGNORE).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

PYPI = "https://pypi.org/pypi"


@dataclass
class Finding:
    name: str
    version: str
    id: str
    fixed_in: list[str]
    source: str  # "pip-audit" or "pypi-project"


@dataclass
class Report:
    by_pip_audit: list[str] = field(default_factory=list)
    by_project_record: list[str] = field(default_factory=list)
    not_audited: list[str] = field(default_factory=list)  # "name==version: why"
    findings: list[Finding] = field(default_factory=list)


def read_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            if not sep:
                raise SystemExit(f"{path}: {line!r} is not pinned with ==")
            pins[canonical(name)] = version.strip()
    return pins


def canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def project_record(name: str) -> dict:
    with urllib.request.urlopen(f"{PYPI}/{name}/json", timeout=30) as response:
        return json.load(response)


def _ignored(ids: Iterable[str], ignore: set[str]) -> bool:
    return any(i in ignore for i in ids)


def assess(
    pip_audit: dict,
    pins: dict[str, str],
    ignore: set[str],
    fetch: Callable[[str], dict] = project_record,
) -> Report:
    """The report from pip-audit's JSON and, for the pins it skipped, PyPI's project record."""
    report = Report()
    for dep in pip_audit["dependencies"]:
        name = canonical(dep["name"])
        version = dep.get("version") or pins.get(name, "?")
        if "skip_reason" not in dep:
            report.by_pip_audit.append(name)
            for vuln in dep.get("vulns", []):
                if not _ignored([vuln["id"], *vuln.get("aliases", [])], ignore):
                    fixed = vuln.get("fix_versions", [])
                    report.findings.append(Finding(name, version, vuln["id"], fixed, "pip-audit"))
            continue
        try:
            record = fetch(name)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the pin unaudited
            report.not_audited.append(f"{name}=={version}: {dep['skip_reason']}; {exc}")
            continue
        latest = record["info"]["version"]
        if latest != version:
            report.not_audited.append(
                f"{name}=={version}: no release record from PyPI, and the project record "
                f"describes {latest}"
            )
            continue
        report.by_project_record.append(name)
        for vuln in record.get("vulnerabilities") or []:
            if vuln.get("withdrawn") or _ignored([vuln["id"], *vuln.get("aliases", [])], ignore):
                continue
            report.findings.append(
                Finding(name, version, vuln["id"], vuln.get("fixed_in", []), "pypi-project")
            )
    return report


def run_pip_audit(constraints: Path, ignore: Iterable[str]) -> dict:
    tool = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        command = [
            str(tool), "--no-deps", "--disable-pip", "--progress-spinner", "off",
            "-r", str(constraints), "-f", "json", "-o", str(out),
            *(arg for i in ignore for arg in ("--ignore-vuln", i)),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode not in (0, 1) or not out.exists():  # 1: vulnerabilities found
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(2)
        return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("constraints", type=Path)
    parser.add_argument("--ignore-vuln", action="append", default=[], metavar="ID")
    parser.add_argument("--strict", action="store_true", help="fail on pins audited by neither")
    args = parser.parse_args(argv)
    pins = read_pins(args.constraints)
    report = assess(run_pip_audit(args.constraints, args.ignore_vuln), pins, set(args.ignore_vuln))
    print(
        f"audit of {len(pins)} pins in {args.constraints}: {len(report.by_pip_audit)} by "
        f"pip-audit, {len(report.by_project_record)} by PyPI's project record (pin = latest "
        f"release), {len(report.not_audited)} not audited"
    )
    for line in report.not_audited:
        print(f"  NOT AUDITED {line}")
    for f in report.findings:
        fix = ", ".join(f.fixed_in) or "no fixed release"
        print(f"  VULNERABLE {f.name}=={f.version}: {f.id} (fixed in {fix}; {f.source})")
    if report.findings:
        print(f"{len(report.findings)} known vulnerabilities: upgrade, `make lock`, re-test")
        return 1
    if args.strict and report.not_audited:
        print("--strict: some pins were not audited")
        return 1
    print("no known vulnerabilities")
    return 0


if __name__ == "__main__":
    sys.exit(main())
