"""The package layout holds: no import cycles (counting imports inside functions and under
``TYPE_CHECKING``), only ``pipeline.config`` reads the environment or the config files, and
only ``runtime/kafka/faust_compat`` reaches into faust's or aiokafka's private attributes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "pipeline"


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(REPO).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The pipeline modules ``name`` imports anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    known = modules()
    graph = {name: imports(name, path, known) for name, path in known.items()}
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _sources_outside(folder: str) -> dict[str, str]:
    return {str(p.relative_to(REPO)): p.read_text(encoding="utf-8")
            for p in PACKAGE.rglob("*.py") if folder not in p.parts}


def test_only_the_config_package_reads_the_environment_and_config_files() -> None:
    offenders = [name for name, text in _sources_outside("config").items()
                 if re.search(r"os\.environ|os\.getenv|yaml\.safe_(load|dump)", text)]
    assert offenders == []


def test_only_faust_compat_reads_private_attributes_of_other_objects() -> None:
    """``x._name`` on anything but ``self``/``cls``: faust's and aiokafka's internals, which
    only runtime/kafka/faust_compat may touch (it checks the faust version first)."""
    private = re.compile(r"(?<![\w.])(?!self\.|cls\.)[A-Za-z_]\w*(?:\(\))?\._[a-z]\w*")
    offenders = [f"{name}: {m.group(0)}" for name, text in _sources_outside("faust_compat").items()
                 for m in private.finditer(text)]
    assert offenders == []
    compat = PACKAGE / "runtime" / "kafka" / "faust_compat" / "offsets.py"
    assert private.search(compat.read_text(encoding="utf-8"))  # the pattern does find them
