"""The shape of the package: module and function sizes, import layers, no circles.

- No module over 700 lines and no function over 60 (the simulator's hot loop, ``engine._loop``,
  is the one exception: it inlines what it calls, for speed).
- Imports point one way, down the layers below (STYLE.md): widgets -> viz -> metrics/engine ->
  routers/hashing -> model, and grading's host side above the test-cell helpers. An import
  inside a function counts as much as one at the top: a lazy import hides a circle, it
  does not remove it.
- No two modules import each other, directly or around a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "stickylab"
MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 60
LONG_ALLOWED = {"stickylab.engine._loop"}

#: Lowest first. A module may import from its own layer's other parts and from layers below.
LAYERS = [
    {"model", "rules", "builtin_values", "children", "trace"},
    {"scenario", "hashing"},
    {"events", "workload", "routers"},
    {"app", "browser", "metrics"},
    {"engine"},
    {"__init__", "quiz"},          # the public API: ``import stickylab as sl``
    {"viz"},
    {"widgets"},
    {"grading"},                   # the helpers test cells use
    {"live"},
    {"grade"},                     # grading's processes, on top of the helpers
    {"hub", "jupyter"},
]


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The package's modules ``name`` imports anywhere (``from x import y``: x.y where y is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            subs = {f"{source}.{a.name}" for a in node.names} & MODULES.keys()
            found |= subs or {source}
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    for k, layer in enumerate(LAYERS):
        if top in layer:
            return k
    raise AssertionError(f"{module} is in no layer of tests/test_architecture.py: give it one")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_short(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines (at most {MAX_MODULE_LINES})"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_functions_are_short(module):
    long = []
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            size = node.end_lineno - node.lineno + 1
            if size > MAX_FUNCTION_LINES and f"{module}.{node.name}" not in LONG_ALLOWED:
                long.append(f"{node.name} ({size} lines)")
    assert not long, f"{module}: functions over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    up = sorted(m for m in GRAPH[module] if _layer(m) > _layer(module))
    assert not up, f"{module} imports from a layer above its own: {', '.join(up)}"


def test_no_module_imports_around_a_circle():
    circles, state = [], {}

    def visit(module, path):
        state[module] = "open"
        for other in sorted(GRAPH[module]):
            if state.get(other) == "open":
                circles.append(path[path.index(other):] + [other])
            elif other not in state:
                visit(other, [*path, other])
        state[module] = "done"

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [module])
    assert not circles, "modules that import each other: " + "; ".join(" -> ".join(c) for c in circles)


def test_the_layers_name_every_part_of_the_package():
    tops = {m.split(".")[1] if "." in m else "__init__" for m in MODULES}
    named = set().union(*LAYERS)
    assert tops <= named, f"parts of the package in no layer: {sorted(tops - named)}"
