"""Adding an indicator touches one file: a rule in a package of its own is found and checked.

The README's "How to add an indicator" promises that a new rule module, and nothing else, is
discovered by the registry, passes the conformance suite and is listed by
``protect indicators``. This test writes a throw-away rule into a temporary package, names it
in ``PROTECT_RULE_PACKAGES`` (the variable the real registry reads) and checks all three in
fresh processes, so the registry of this process is left as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

RULE = '''"""PP-99 · Repeated large cash withdrawals (a throw-away rule for the extension test)."""

from __future__ import annotations

import numpy as np

from indicators.columns import CASH_WITHDRAWAL, DAY, EMPTY_TS
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import ring_count, ring_insert, select_evidence, window

RING = 8


@kernel
def large_withdrawals(cust, seq, ts, txn_type, amount, attempted, wd_ts, wd_ref,
                      window_days, min_cad, min_count, fired, observed, evidence, touched):
    """Cash withdrawals of at least ``min_cad``; fires when ``min_count`` fall in the window."""
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0 or txn_type[i] != CASH_WITHDRAWAL or not amount[i] >= min_cad:
            continue
        c = cust[i]
        t = ts[i]
        ring_insert(wd_ts, wd_ref, c, t, seq[i])
        touched[i] = 1
        n = ring_count(wd_ts, c, t - width, t)
        if n >= min_count:
            fired[i] = 1
            observed[i] = n
            select_evidence(evidence[i], t, window(wd_ts, wd_ref, c, t - width))


SPEC = IndicatorSpec(
    id="PP-99",
    title="Repeated large cash withdrawals (extension test)",
    description="Several large cash withdrawals within a week; written by a test to show "
                "that a rule in its own package is discovered, checked and listed.",
    family="CASHGEO",
    sources=("FINTRAC-2021-OA001 G1",),
    status="experimental",
    severity="low",
    weight=0.5,
    role_signal="context",
    window="7d",
    threshold_param="min_count",
    false_positives=("People who prefer cash.",),
    required_fields=("txn_type", "amount"),
    inputs=("cust", "seq", "ts", "txn_type", "amount", "attempted"),
    state=(StateArray("wd_ts", (RING,), np.int64, EMPTY_TS),
           StateArray("wd_ref", (RING,), np.int64, -1)),
    params=(
        Param("window_days", 7, 1, 30, "window, days", integer=True),
        Param("min_cad", 1000.0, 100.0, 10_000.0, "smallest withdrawal that counts, CAD"),
        Param("min_count", 3, 2, RING, "large withdrawals in the window", integer=True,
              capacity="wd_ts"),
    ),
    kernel=large_withdrawals,
    must_fire=(example("three large withdrawals in a week",
                       *(txn(n, "cash_withdrawal", 2000.0, days=n, channel="atm")
                         for n in range(1, 4))),),
    must_not_fire=(example("three small withdrawals",
                           *(txn(n, "cash_withdrawal", 200.0, days=n, channel="atm")
                             for n in range(1, 4))),),
)
'''


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("rules")
    package = root / "extra_rules"
    package.mkdir()
    (package / "__init__.py").write_text('"""Rules outside the indicators package."""\n')
    (package / "pp99_large_withdrawals.py").write_text(RULE)
    path = os.pathsep.join([str(root), str(REPO), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "PROTECT_RULE_PACKAGES": "extra_rules"}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_registry_discovers_the_rule(env) -> None:
    done = _run(env, "-c", "from indicators import registry; print(registry.get('PP-99').title)")
    assert done.returncode == 0, done.stderr
    assert "Repeated large cash withdrawals" in done.stdout


def test_the_rule_is_listed_by_protect_indicators(env) -> None:
    done = _run(env, "-m", "engine.tools.cli", "indicators")
    assert done.returncode == 0, done.stderr
    assert "PP-99  CASHGEO  kernel" in done.stdout


def test_the_rule_passes_the_conformance_suite(env) -> None:
    done = _run(
        env,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-k",
        "PP-99",
        "tests/test_conformance.py",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 7 passed" in done.stdout or "7 passed" in done.stdout, done.stdout
