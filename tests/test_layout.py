"""The house plan, checked: import layers, no import cycles, small modules, listed packages.

Layers, lowest first; a module may import its own layer and the ones below, never above:

    extract  <-  crawler.clock, crawler.web  <-  crawler.registry, crawler.search,
    crawler.framing, crawler.items  <-  crawler.archive  <-  crawl components (ingest, ops,
    distributed, spiders, settings, middlewares, pipelines, runner, context)  <-  crawler.cli

Imports inside functions count (they are cycles at run time too); imports under
`if TYPE_CHECKING:` do not (they never run).
"""

from __future__ import annotations

import ast
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"crawler": ROOT / "crawler", "extract": ROOT / "extract",
            "mediawatch_schema": ROOT / "schema", "demoweb": ROOT / "demoweb"}
LAYERS: list[tuple[str, ...]] = [
    ("extract",),
    ("crawler.clock", "crawler.textscan", "crawler.web"),
    ("crawler.registry", "crawler.search", "crawler.framing", "crawler.items"),
    ("crawler.archive",),
    ("crawler.ingest", "crawler.ops", "crawler.distributed", "crawler.spiders", "crawler.backfill",
     "crawler.settings", "crawler.downloader", "crawler.middlewares", "crawler.pipelines",
     "crawler.runner", "crawler.context"),
    ("crawler.cli",),
]
MAX_LINES = 400
# Append-only by rule (never edited once shipped), so they grow past any size limit.
LONG_BY_RULE = {"schema/migrations.py"}

pytestmark = pytest.mark.unit


def _modules() -> dict[str, Path]:
    found = {}
    for top, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([top, *parts])] = path
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `module` imports at run time (resolved to the longest known name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _type_checking(node):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    resolved = set()
    for name in names:
        parts = name.split(".")
        for n in range(len(parts), 0, -1):
            candidate = ".".join(parts[:n])
            if candidate in known:
                resolved.add(candidate)
                break
    resolved.discard(module)
    return resolved


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {m: _imports(m, p, known) for m, p in modules.items()}


def _layer(module: str) -> int | None:
    for level, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return level
    return None


def test_every_crawler_and_extract_module_has_a_layer() -> None:
    unplaced = [m for m in _graph() if m.split(".")[0] in ("crawler", "extract")
                and m != "crawler" and _layer(m) is None]
    assert not unplaced, f"add these modules to a layer in tests/test_layout.py: {unplaced}"


def test_imports_point_down_the_layers() -> None:
    upward = []
    for module, targets in _graph().items():
        mine = _layer(module)
        for target in targets:
            theirs = _layer(target)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(f"{module} (layer {mine}) imports {target} (layer {theirs})")
    assert not upward, "imports that point up the layers:\n" + "\n".join(sorted(upward))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_anywhere() -> None:
    graph = _graph()
    # A package's __init__ re-exporting its submodules is not a cycle of design: leave out
    # the edges from a package to its own children.
    graph = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_modules_stay_small() -> None:
    long = []
    for path in sorted([*ROOT.glob("crawler/**/*.py"), *ROOT.glob("extract/**/*.py"),
                        *ROOT.glob("schema/*.py"), *ROOT.glob("demoweb/*.py"),
                        *ROOT.glob("bench/*.py"), *ROOT.glob("datasette/plugins/*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and rel not in LONG_BY_RULE:
            long.append(f"{rel}: {lines} lines")
    assert not long, f"modules over {MAX_LINES} lines (split them by role):\n" + "\n".join(long)


def test_every_package_folder_is_installed() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    folders = {m for m, p in _modules().items() if p.name == "__init__.py"}
    assert folders == listed, f"pyproject [tool.setuptools] packages: add {folders - listed}, " \
                              f"drop {listed - folders}"


def test_extract_imports_no_crawl_stack() -> None:
    banned = ("scrapy", "click", "sqlite3", "sqlite_utils", "twisted", "crawler")
    offenders = defaultdict(set)
    for path in (ROOT / "extract").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            for name in names:
                if name.split(".")[0] in banned:
                    offenders[path.name].add(name)
    assert not offenders, f"extract/ must stay pure: {dict(offenders)}"


def test_project_imports_in_bench_and_plugins_resolve() -> None:
    """bench/ and datasette/plugins/ are not type-checked: a stale import path fails here."""
    import importlib

    broken = []
    for path in sorted([*ROOT.glob("bench/*.py"), *ROOT.glob("datasette/plugins/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.module and not node.level
                    and node.module.split(".")[0] in PACKAGES):
                continue
            try:
                module = importlib.import_module(node.module)
            except ImportError as exc:
                broken.append(f"{path.relative_to(ROOT)}:{node.lineno}: {exc}")
                continue
            for alias in node.names:
                if not hasattr(module, alias.name):
                    try:
                        importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        broken.append(f"{path.relative_to(ROOT)}:{node.lineno}: "
                                      f"{node.module} has no {alias.name}")
    assert not broken, "\n".join(broken)
