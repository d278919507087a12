"""The package's layers, checked from the source: no import cycle, and each layer imports only
what its ``__init__`` docstring says it may.

Every import counts: module level, inside functions and under ``TYPE_CHECKING`` alike (the
algorithm of /work/shared/tools/import_cycles.py, copied here so CI needs nothing beside the
checkout).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "swarmtui"

# package -> the swarmtui packages (top-level modules or subpackages) it may import.
ALLOWED: dict[str, set[str]] = {
    "model": set(),
    "engine": {"model", "validate"},
    "ops": {"model", "engine"},
    "widgets": {"model"},
    "screens": {"model", "engine", "ops", "runtime", "messages", "widgets"},
    "sim": set(),
    "cli": {"settings", "validate", "model", "engine", "ops", "demo", "runtime", "views",
            "app", "shot"},
    "runtime": {"settings", "model", "engine", "ops"},
    "views": {"runtime", "screens"},
}
# package -> third-party libraries it must not import.
FORBIDDEN = {
    "model": {"textual", "rich", "aiodocker", "aiohttp"},
    "engine": {"textual", "rich"},
    "ops": {"textual", "rich"},
    "runtime": {"textual", "rich"},
    "sim": {"textual", "rich", "aiodocker"},
    "widgets": {"aiodocker", "aiohttp"},
    "screens": {"aiodocker", "aiohttp"},
}
DOCUMENTED = ("model", "engine", "ops", "screens", "widgets", "cli", "sim")


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


MODULES = modules()


def imported_names(module: str, path: Path) -> list[str]:
    """Every module name ``module`` imports (absolute; relative imports resolved)."""
    is_pkg = path.name == "__init__.py"
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".") if is_pkg else module.split(".")[:-1]
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.append(base)
            names.extend(f"{base}.{a.name}" for a in node.names)
    return names


def resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def internal_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for name in imported_names(module, path):
            if name.split(".")[0] != "swarmtui":
                continue
            target = resolve(name)
            if target and target != module and not (
                MODULES[target].name == "__init__.py" and module.startswith(target + ".")
            ):
                edges[module].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
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

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in edges:
        if v not in index:
            visit(v)
    return found


def layer(module: str) -> str:
    """``swarmtui.screens.grid`` -> ``screens``; ``swarmtui.app`` -> ``app``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_in_the_package() -> None:
    found = cycles(internal_edges())
    assert found == [], "import cycles: " + "; ".join(" ".join(c) for c in found)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_layer_imports_only_what_it_may(package: str) -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in internal_edges().items()
        if layer(module) == package
        for target in targets
        if layer(target) not in ALLOWED[package] | {package}
    )
    assert wrong == []


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_keep_out_of_the_ui_and_the_engine_libraries(package: str) -> None:
    wrong = sorted(
        f"{module} imports {name}"
        for module, path in MODULES.items()
        if layer(module) == package
        for name in imported_names(module, path)
        if name.split(".")[0] in FORBIDDEN[package]
    )
    assert wrong == []


def test_screens_and_widgets_never_reach_into_the_app() -> None:
    """They are given the runtime: no import of the app or the CLI, no ``swarm_app``, no
    ``type: ignore`` to get at attributes Textual's App does not have."""
    for module, path in MODULES.items():
        if layer(module) not in ("screens", "widgets"):
            continue
        text = path.read_text(encoding="utf-8")
        assert "swarm_app" not in text, module
        assert "ignore[attr-defined" not in text, module
        for name in imported_names(module, path):
            assert not name.startswith(("swarmtui.app", "swarmtui.cli")), (module, name)


@pytest.mark.parametrize("package", DOCUMENTED)
def test_each_package_says_what_it_may_import(package: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text())) or ""
    assert "May import:" in doc, package
    for allowed in ALLOWED[package]:
        assert f"swarmtui.{allowed}" in doc, (package, allowed)


def test_readme_layout_names_the_layers() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    for name in ("model", "engine", "ops", "runtime.py", "views.py", "screens", "widgets",
                 "cli", "sim"):
        assert f"`swarmtui/{name}`" in layout, name
    assert "`styles/*.tcss`" in layout
