"""The package layout is the architecture: imports go one way and never round in a cycle.

An AST walk over every module of ``schemas/``, ``indicators/`` and ``engine/`` collects every
import, the lazy ones inside functions included (a lazy import hides a cycle from Python,
not from this test). The layers, lowest first, are :data:`LAYERS`; a module may import its
own layer or lower ones. Kafka, Faust and HTTP libraries are imported only in the adapter
layers (``engine/stream``, ``engine/web``, ``engine/tools``). Reading settings loads neither
the rule modules nor numba.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("schemas", "indicators", "engine")

# (module prefix, layer): the longest matching prefix decides.
LAYERS = {
    "schemas": 0,
    "indicators": 1,
    "engine": 2,  # engine/__init__, config, errors, metrics: used by every layer above
    "engine.core": 3,
    # The cross-customer index is pure and the detector reads it like a reference list
    # (counterparty flags on every row), so it sits beside the core: no cycle between them.
    "engine.crosscustomer": 3,
    "engine.cases": 5,
    "engine.stream": 6,
    "engine.web": 7,
    "engine.tools": 8,
    "engine.synthetic": 8,  # the generator: a tool's library
}
ADAPTER_LIBRARIES = ("faust", "mode", "aiokafka", "aiohttp", "kafka")
ADAPTER_LAYERS = ("engine.stream", "engine.web", "engine.tools")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {
        module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
    }


MODULES = all_modules()


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports anywhere in its body (``from a import b`` names ``a.b``
    when that is a module of ours, else ``a``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return found


def layer_of(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


GRAPH = {
    name: {m for m in imports_of(path) if m in MODULES and m != name}
    for name, path in MODULES.items()
}


def test_imports_go_down_the_layers():
    upward = [
        f"{name} (layer {layer_of(name)}) imports {target} (layer {layer_of(target)})"
        for name, targets in GRAPH.items()
        for target in sorted(targets)
        if layer_of(target) > layer_of(name)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(GRAPH[node]):
            # importing a package's own __init__ from inside it is how Python loads packages
            if node.startswith(target + "."):
                continue
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)
    assert not cycles, "\n".join(" → ".join(c) for c in cycles)


def test_kafka_faust_and_http_only_in_the_adapter_layers():
    misplaced = [
        f"{name} imports {lib}"
        for name, path in MODULES.items()
        if not name.startswith(ADAPTER_LAYERS)
        for lib in sorted(imports_of(path))
        if lib.split(".")[0] in ADAPTER_LIBRARIES
    ]
    assert not misplaced, "\n".join(misplaced)


def test_the_layer_table_knows_every_package():
    """A new subpackage of engine/ must be given a layer, not fall into engine's by default."""
    packages = {module_name(p.parent) for p in (ROOT / "engine").glob("*/__init__.py")}
    assert packages <= set(LAYERS), sorted(packages - set(LAYERS))


@pytest.mark.parametrize(
    "module", ["engine.config", "engine.tools.produce", "engine.stream.case_reader"]
)
def test_reading_settings_loads_no_rules_and_no_numba(module):
    code = (
        f"import sys, {module}\n"
        "from engine.config import Settings\n"
        "Settings.load(env={})\n"
        "loaded = sorted(m for m in sys.modules if m == 'numba' or m.startswith('indicators'))\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"{module} loads {out.stdout.strip()}"


def test_a_bad_layer_is_caught(tmp_path):
    """The checks can fail: a core module importing the stream layer is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from engine.stream.app import create_app\n")
    assert "engine.stream.app" in imports_of(bad)
    assert layer_of("engine.stream.app") > layer_of("engine.core.decode")


def architecture_table_paths() -> list[str]:
    """Every path the README's architecture table names: the row's path and each file its
    description names in backticks (relative to the row's folder)."""
    text = (ROOT / "README.md").read_text()
    table = text.split("| path | role |", 1)[1].split("\n\n", 1)[0]
    paths = []
    for row in table.splitlines()[2:]:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        folders = [p.strip("`") for p in cells[0].split(", ")]
        paths += folders
        base = folders[0] if folders[0].endswith("/") else ""
        for name in re.findall(r"`([\w./]+\.py|[\w]+/)`", cells[1]):
            paths.append(base + name if base and "/" not in name.rstrip("/") else name)
    return paths


def test_every_path_in_the_readme_architecture_table_exists():
    paths = architecture_table_paths()
    assert len(paths) > 30, paths  # the table was found and parsed
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, missing
