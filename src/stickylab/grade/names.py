"""Which of a learner's names the tests may see: those the assignment's solution cells define.

The test process binds a learner's name only if the instructor's solution defines it at
the top level of a solution cell (a class, a function, a variable), so a
learner's ``len``, ``range`` or ``sl`` never stands in for the real one inside a test.
The source notebook (``solutions/``) knows them; where it cannot be read, the names the
test cells themselves read (in code, or in the expressions they hand to
``grading.same_across_restarts`` as strings) stand in.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

__all__ = ["defined_names", "names_bound", "names_read", "python_source"]


def python_source(source: str) -> str:
    """A cell's source without IPython's ``%`` and ``!`` lines."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(python_source(source))
    except SyntaxError:
        return None


def names_bound(source: str) -> set[str]:
    """The names a cell defines at its top level: classes, functions, variables.

    Not its imports, nor what its functions, classes or comprehensions bind inside.
    """
    tree = _parse(source)
    found: set[str] = set()
    todo = list(tree.body) if tree else []
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
            continue
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue        # the solution's tools: a test that needs a module imports it itself
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            found |= set(node.names)
        todo += ast.iter_child_nodes(node)
    return found


def names_read(source: str) -> set[str]:
    """The names a cell reads, also inside the Python expressions it holds as strings."""
    tree = _parse(source)
    found: set[str] = set()
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            found.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isprintable():
            with_names = _parse(node.value)
            if with_names is not None and len(node.value) < 2000:
                found |= {n.id for n in ast.walk(with_names) if isinstance(n, ast.Name)}
    return found


def defined_names(source_notebook: Path | None, test_cells: list[str]) -> list[str]:
    """The learner's names the tests may use, never one of Python's built-ins.

    From the solution cells of ``source_notebook`` (nbgrader's source) where it can be
    read; else the names ``test_cells`` read and do not bind themselves.
    """
    names: set[str] = set()
    if source_notebook is not None and Path(source_notebook).is_file():
        import nbformat

        try:
            nb = nbformat.read(source_notebook, as_version=4)
        except Exception:       # unreadable: fall back on the tests
            nb = None
        for cell in nb.cells if nb is not None else ():
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                names |= names_bound(cell.source)
    if not names:
        for source in test_cells:
            names |= names_read(source)
        for source in test_cells:
            names -= names_bound(source)
    return sorted(names - set(dir(builtins)))
