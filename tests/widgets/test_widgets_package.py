"""stickylab.widgets as a package: no module reads another's privates; the names the notebooks use.

Module and function sizes are checked for the whole package by tests/test_architecture.py.
"""

import ast
from pathlib import Path

import stickylab as sl
from stickylab import widgets as sw

FOLDER = Path(sl.__file__).parent / "widgets"


def test_no_module_reads_another_s_private_names():
    for path in FOLDER.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not [a.name for a in node.names if a.name.startswith("_")], path.name
            private = node.attr.startswith("_") and not node.attr.startswith("__") if isinstance(
                node, ast.Attribute) else False
            if private:
                assert isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"), (
                    f"{path.name}:{node.lineno} reads {node.attr}")


def test_the_names_the_notebooks_use_are_there():
    assert all(getattr(sw, name) is not None for name in sw.__all__)
    for name in ("AUTO", "CHANGES", "HASH_SCHEMES", "USER_KEY", "DEMO_SECRET", "MS_SUFFIX", "Panel"):
        assert getattr(sw, name) is not None
