"""The three rings of DESIGN.md section 1, checked on the import graph.

Every module under ``src/stpsim`` is parsed with ``ast`` (nothing is imported). Each import of an
stpsim module becomes an edge: absolute and relative imports, ``from . import x``, and imports
inside functions (a lazy import is still an arrow); imports under ``if TYPE_CHECKING:`` are not
(they never run). A package's ``__init__`` is the package's module.

The rules are data: when code moves, adjust the constants below, not the functions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

import pytest

PACKAGE = "stpsim"
SRC = Path(__file__).resolve().parents[1] / "src"

# A pattern is a module name ("stpsim.engine"), or fnmatch-style ("stpsim.cli_*"); one ending in
# ".*" also names the package itself ("stpsim.store.*" is stpsim.store and all below it).

# The shells. A shell may import its own modules, the service, the package root (for
# __version__) and the leaves below; nothing else.
SHELLS: Mapping[str, tuple[str, ...]] = {
    "cli": ("stpsim.cli.*", "stpsim.cli_*", "stpsim.__main__"),
    "api": ("stpsim.api.*",),
    "web": ("stpsim.web.*",),
}
# Shells may use one another too (the server mounts the web pages on the API's app; `serve`
# starts it): all of them are the outer ring, so none reaches further in that way.
SHELL_MAY_IMPORT: tuple[str, ...] = (
    "stpsim",
    "stpsim.service.*",
    *(pattern for patterns in SHELLS.values() for pattern in patterns),
)
# Pure leaf modules a shell may read directly: constants and labels with no stpsim imports of
# their own, so reading them cannot reach past the service. Keep this list short.
SHELL_LEAVES: tuple[str, ...] = (
    "stpsim.axes",  # axis and year labels, to print and to parse options; imports nothing
    "stpsim.version",  # the version string
    "stpsim.summaries",  # mean and percentiles of draws (numpy only), to print a document's summaries
)

# The core: pure steps of the flow (reference data, geography, population, activity, care
# models, parameters, costs, contracts and payments, finance stages). The engine, the plan
# document, the run record and the analyses above a run are not core.
CORE: tuple[str, ...] = (
    "stpsim.reference",
    "stpsim.assumptions",
    "stpsim.axes",
    "stpsim.geography",
    "stpsim.footprint",
    "stpsim.local_data",
    "stpsim.demography",
    "stpsim.frailty",
    "stpsim.population",
    "stpsim.baseline",
    "stpsim.activity",
    "stpsim.interventions",
    "stpsim.adoption",
    "stpsim.parameters",
    "stpsim.random_streams",
    "stpsim.costs",
    "stpsim.organisations",
    "stpsim.contracts",
    "stpsim.contract_terms",
    "stpsim.payment.*",
    "stpsim.finance.*",
)
# Modules inside a CORE pattern that are not core steps.
NOT_CORE: tuple[str, ...] = ()
# What the core may never import: the engine, the store, the service, and the shells above them.
CORE_MAY_NOT_IMPORT: tuple[str, ...] = (
    "stpsim.engine",
    "stpsim.store.*",
    "stpsim.service.*",
    *(pattern for patterns in SHELLS.values() for pattern in patterns),
)

# module -> {imported stpsim module -> line numbers of the imports}
Graph = dict[str, dict[str, tuple[int, ...]]]


def matches(module: str, patterns: Iterable[str]) -> bool:
    """Whether ``module`` is named by any of ``patterns`` (see the note at the top)."""
    return any(
        fnmatchcase(module, pattern) or (pattern.endswith(".*") and module == pattern[:-2])
        for pattern in patterns
    )


def module_name(relative_path: str) -> str:
    """``stpsim/finance/__init__.py`` -> ``stpsim.finance``; ``stpsim/cli.py`` -> ``stpsim.cli``."""
    parts = relative_path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in or below ``nodes``, except under ``if TYPE_CHECKING:``."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_nodes(node.orelse)
        else:
            yield from _import_nodes(ast.iter_child_nodes(node))


def _known(name: str, modules: set[str]) -> str | None:
    """``name`` or its nearest enclosing module that exists; None outside stpsim."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _targets(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: set[str]
) -> Iterator[str]:
    """The stpsim modules one import statement of ``module`` loads."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                if (target := _known(alias.name, modules)) is not None:
                    yield target
        return
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    if base != PACKAGE and not base.startswith(PACKAGE + "."):
        return
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        target = submodule if submodule in modules else _known(base, modules)
        if target is not None:
            yield target


def build_graph(sources: Mapping[str, str]) -> Graph:
    """The import graph of ``sources`` (path relative to src, e.g. ``stpsim/cli.py`` -> text)."""
    names = {path: module_name(path) for path in sources}
    modules = set(names.values())
    graph: Graph = {}
    for path, text in sources.items():
        module = names[path]
        is_package = path.endswith("/__init__.py")
        lines: dict[str, set[int]] = {}
        for node in _import_nodes([ast.parse(text, filename=path)]):
            for target in _targets(node, module, is_package, modules):
                if target != module:
                    lines.setdefault(target, set()).add(node.lineno)
        graph[module] = {target: tuple(sorted(found)) for target, found in sorted(lines.items())}
    return graph


@cache
def source_paths() -> dict[str, str]:
    """Module name -> its file, relative to the project (for messages)."""
    return {
        module_name(path.relative_to(SRC).as_posix()): path.relative_to(SRC.parent).as_posix()
        for path in sorted((SRC / PACKAGE).rglob("*.py"))
    }


@cache
def import_graph() -> Graph:
    """The import graph of the stpsim source tree."""
    return build_graph(
        {
            path.relative_to(SRC).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted((SRC / PACKAGE).rglob("*.py"))
        }
    )


def _edge(graph: Graph, source: str, target: str) -> str:
    where = source_paths().get(source, source)
    return f"{where}:{','.join(map(str, graph[source][target]))} ({source}) -> {target}"


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Tarjan's strongly connected components, each sorted, in a stable order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def import_cycles(graph: Graph) -> list[str]:
    """Rule a: no import circle. One entry per cycle: its members and the edges inside it."""
    found = []
    for component in strongly_connected(graph):
        if len(component) > 1:
            members = set(component)
            edges = [
                "    " + _edge(graph, source, target)
                for source in component
                for target in graph[source]
                if target in members
            ]
            found.append(f"cycle of {len(component)}: {', '.join(component)}\n" + "\n".join(edges))
    return found


def shell_violations(graph: Graph) -> list[str]:
    """Rule b: a shell imports only itself, the service, the package root and the leaves."""
    found = []
    for source, targets in graph.items():
        for shell, own in SHELLS.items():
            if not matches(source, own):
                continue
            allowed = (*own, *SHELL_MAY_IMPORT, *SHELL_LEAVES)
            found += [f"[{shell}] " + _edge(graph, source, t) for t in targets if not matches(t, allowed)]
    return found


def core_violations(graph: Graph) -> list[str]:
    """Rule c: the core never reaches up to the engine, the store, the service or a shell."""
    return [
        _edge(graph, source, target)
        for source, targets in graph.items()
        if matches(source, CORE) and not matches(source, NOT_CORE)
        for target in targets
        if matches(target, CORE_MAY_NOT_IMPORT)
    ]


def _fail_on(title: str, violations: list[str]) -> None:
    if violations:
        pytest.fail(f"{title} ({len(violations)}):\n" + "\n".join(violations), pytrace=False)


def test_the_resolver_reads_every_kind_of_import():
    sources = {
        "stpsim/__init__.py": "def run():\n    from . import engine\n",
        "stpsim/engine.py": "import stpsim.finance.books\nfrom .finance import params, Books\n",
        "stpsim/finance/__init__.py": "from .books import Books\nfrom . import params as p\n",
        "stpsim/finance/books.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from stpsim import engine\n"
            "else:\n    from ..axes import X\nimport numpy\n"
        ),
        "stpsim/finance/params.py": "from stpsim import __version__\n",
        "stpsim/axes.py": "",
    }
    assert build_graph(sources) == {
        "stpsim": {"stpsim.engine": (2,)},
        "stpsim.engine": {
            "stpsim.finance": (2,),
            "stpsim.finance.books": (1,),
            "stpsim.finance.params": (2,),
        },
        "stpsim.finance": {"stpsim.finance.books": (1,), "stpsim.finance.params": (2,)},
        "stpsim.finance.books": {"stpsim.axes": (5,)},
        "stpsim.finance.params": {"stpsim": (1,)},
        "stpsim.axes": {},
    }


def test_the_rules_name_modules_that_exist():
    graph = import_graph()
    assert len(graph) > 20 and any(graph.values()), "the source tree was not found or has no imports"
    patterns = (*CORE, *NOT_CORE, *CORE_MAY_NOT_IMPORT, *SHELL_MAY_IMPORT, *SHELL_LEAVES)
    patterns += tuple(pattern for own in SHELLS.values() for pattern in own)
    stale = [pattern for pattern in patterns if not any(matches(module, [pattern]) for module in graph)]
    assert not stale, f"rules naming no module (update them to where the code moved): {stale}"
    not_leaves = {leaf: sorted(graph[leaf]) for leaf in SHELL_LEAVES if graph.get(leaf)}
    assert not not_leaves, f"SHELL_LEAVES must import no stpsim module: {not_leaves}"


def test_no_import_cycles():
    _fail_on("import cycles among stpsim modules", import_cycles(import_graph()))


def test_shells_import_only_the_service():
    _fail_on("shell imports past the service", shell_violations(import_graph()))


def test_core_does_not_reach_up():
    _fail_on("core imports of the engine, store, service or a shell", core_violations(import_graph()))
