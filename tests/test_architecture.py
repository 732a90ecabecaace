"""The bridge's modules import one another without cycles.

Every import counts: those under `if TYPE_CHECKING:` (a cycle there still couples the
modules and turns into a runtime cycle as soon as one of them is used for real) and
those inside functions (deferred imports hide a cycle instead of removing it).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Import:
    target: str
    path: Path
    line: int


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Every module of `package` (a folder under `root`), by dotted name."""
    modules: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imports_of(name: str, path: Path, modules: dict[str, Path]) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    # what a relative import of level 1 is relative to
    here = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):  # every node: TYPE_CHECKING blocks and function bodies too
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    yield Import(alias.name, path, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = here.split(".")
                if node.level - 1 >= len(base_parts):
                    continue  # above the top package: not one of ours
                base = ".".join(base_parts[: len(base_parts) - (node.level - 1)])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            if source not in modules:
                continue  # a third-party module, or one that does not exist
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                # `from bridge.x import y` loads bridge.x.y when y is a module of its own
                yield Import(submodule if submodule in modules else source, path, node.lineno)


def import_graph(root: Path, package: str) -> dict[str, dict[str, Import]]:
    """For each module, the modules of the package it imports (the first such import)."""
    modules = module_names(root, package)
    graph: dict[str, dict[str, Import]] = {name: {} for name in modules}
    for name, path in modules.items():
        for found in _imports_of(name, path, modules):
            if found.target != name:
                graph[name].setdefault(found.target, found)
    return graph


def strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; only components of more than one module (imports
    of a module by itself are left out of the graph)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return sorted(components)


def describe_cycles(root: Path, graph: dict[str, dict[str, Import]],
                    components: list[list[str]]) -> str:
    """Each cycle's modules and the imports that tie them together, with their lines."""
    lines = [f"{len(components)} import cycle(s) among the modules:"]
    for component in components:
        members = set(component)
        lines.append("  cycle: " + ", ".join(component))
        for module in component:
            for target, found in sorted(graph[module].items()):
                if target in members:
                    where = found.path.relative_to(root)
                    lines.append(f"    {module} -> {target}  ({where}:{found.line})")
    return "\n".join(lines)


def test_bridge_modules_have_no_import_cycles() -> None:
    graph = import_graph(REPO, "bridge")
    assert len(graph) > 10, "the bridge's modules were not found"
    components = strongly_connected(graph)
    assert not components, describe_cycles(REPO, graph, components)


def _write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_cycle_finder_sees_hidden_imports_and_passes_a_clean_tree(
        tmp_path: Path) -> None:
    cyclic = tmp_path / "cyclic"
    _write_tree(cyclic, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg.b import helper\n",
        # only for the type checker, yet a cycle
        "pkg/b.py": ("from typing import TYPE_CHECKING\n"
                     "if TYPE_CHECKING:\n    from pkg import a\n"
                     "def helper() -> None: ...\n"),
        "pkg/sub/__init__.py": "VALUE = 1\n",
        # relative and inside a function
        "pkg/sub/c.py": "def late() -> None:\n    from ..d import thing\n",
        "pkg/d.py": "from .sub import c\nfrom .sub import VALUE\nthing = 1\n",
        "pkg/e.py": "import pkg.sub\nimport json\nfrom . import a\n",
    })
    graph = import_graph(cyclic, "pkg")
    # a name of a package's __init__ resolves to the package, a submodule to itself
    assert set(graph["pkg.d"]) == {"pkg.sub.c", "pkg.sub"}
    assert set(graph["pkg.e"]) == {"pkg.sub", "pkg.a"}
    assert set(graph["pkg.sub.c"]) == {"pkg.d"}
    components = strongly_connected(graph)
    assert components == [["pkg.a", "pkg.b"], ["pkg.d", "pkg.sub.c"]]
    message = describe_cycles(cyclic, graph, components)
    assert "pkg.b -> pkg.a  (pkg/b.py:3)" in message
    assert "pkg.sub.c -> pkg.d  (pkg/sub/c.py:2)" in message

    clean = tmp_path / "clean"
    _write_tree(clean, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg.b import helper\nfrom pkg import c\n",
        "pkg/b.py": "from pkg.c import value\ndef helper() -> None: ...\n",
        "pkg/c.py": "value = 1\n",
    })
    graph = import_graph(clean, "pkg")
    assert set(graph["pkg.a"]) == {"pkg.b", "pkg.c"}
    assert strongly_connected(graph) == []


@pytest.mark.parametrize("edges, expected", [
    # a long ring is one component, however it is entered
    ({"r.a": ["r.b"], "r.b": ["r.c"], "r.c": ["r.d"], "r.d": ["r.a"]},
     [["r.a", "r.b", "r.c", "r.d"]]),
    # two rings joined one way stay two components
    ({"r.a": ["r.b"], "r.b": ["r.a", "r.c"], "r.c": ["r.d"], "r.d": ["r.c"]},
     [["r.a", "r.b"], ["r.c", "r.d"]]),
    ({"r.a": ["r.b", "r.c"], "r.b": ["r.c"], "r.c": []}, []),
])
def test_components_of_small_graphs(edges: dict[str, list[str]],
                                    expected: list[list[str]]) -> None:
    graph = {name: {target: Import(target, Path(name), 1) for target in targets}
             for name, targets in edges.items()}
    assert strongly_connected(graph) == expected
