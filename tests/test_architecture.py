"""The package's shape, enforced: no import cycles, and the transports (``serve/``, ``cli/``)
on top, never imported by the pipeline below them.

Every import counts, wherever it is written: at the top of a module, inside a function, or
under ``TYPE_CHECKING`` (a type-only cycle still ties the modules together for a reader and
for a refactor). The graph is read from the source with :mod:`ast`, so the test needs nothing
installed and names the modules and lines that break a rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ecoagent"
TRANSPORTS = ("ecoagent.cli", "ecoagent.serve")


def modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: dotted name → (file, is a package's ``__init__``)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def imports() -> dict[str, dict[str, int]]:
    """Module → the package's modules it imports, each with the first line that does."""
    known = modules()
    graph: dict[str, dict[str, int]] = {}
    for name, (path, is_package) in known.items():
        edges: dict[str, int] = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    where = ".".join(base + ([node.module] if node.module else []))
                else:
                    where = node.module or ""
                # `from .pkg import sub` imports the submodule when there is one
                targets = [f"{where}.{a.name}" if f"{where}.{a.name}" in known else where for a in node.names]
            for target in targets:
                while target and target not in known and "." in target:  # `import ecoagent.x.Name` → ecoagent.x
                    target = target.rsplit(".", 1)[0]
                if target in known and target != name:
                    edges.setdefault(target, node.lineno)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_walker_sees_every_kind_of_import() -> None:
    graph = imports()
    assert "ecoagent.judge.base" in graph["ecoagent.ladder"] or "ecoagent.judge" in graph["ecoagent.ladder"]
    assert "ecoagent.assistant" in graph["ecoagent.serve.server"]  # imported inside a function
    assert "ecoagent.config" in graph["ecoagent.batch.runner"]  # imported under TYPE_CHECKING
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]


def test_there_are_no_import_cycles() -> None:
    graph = imports()
    found = cycles(graph)
    detail = [
        " → ".join(c)
        + ": "
        + "; ".join(f"{m} imports {t} (line {line})" for m in c for t, line in graph[m].items() if t in c)
        for c in found
    ]
    assert not found, "import cycles:\n" + "\n".join(detail)


def test_the_pipeline_never_imports_the_transports() -> None:
    graph = imports()
    bad = [
        f"{m} imports {t} (line {line})"
        for m, edges in sorted(graph.items())
        for t, line in edges.items()
        if t.startswith(TRANSPORTS) and not m.startswith(TRANSPORTS) and m != "ecoagent.__main__"
    ]
    assert not bad, "below serve/ and cli/, nothing imports them:\n" + "\n".join(bad)
    assert not [
        m
        for m, edges in graph.items()
        if m.startswith("ecoagent.serve") and any(t.startswith("ecoagent.cli") for t in edges)
    ]
