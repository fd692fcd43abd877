"""stickylab.viz as a package: one concept per module, short functions, imports that point one way."""

import ast
import subprocess
import sys
from pathlib import Path

import stickylab as sl
from stickylab import viz

FOLDER = Path(sl.__file__).parent / "viz"


def test_viz_imports_neither_widgets_nor_jupyter():
    code = ("import sys, stickylab.viz, stickylab.viz.render; "
            "bad = [m for m in sys.modules if m.startswith('stickylab.widgets') "
            "or m.split('.')[0] in ('ipywidgets', 'IPython', 'ipykernel')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_modules_are_short_and_so_are_their_functions():
    for path in FOLDER.glob("*.py"):
        text = path.read_text()
        assert len(text.splitlines()) <= 700, path.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno - node.lineno < 60, f"{path.name}: {node.name}"


def test_only_the_renderer_reads_matplotlib_privates():
    privates = ("_left_title", "_right_title", "._loc", "_stickylab")
    for path in FOLDER.glob("*.py"):
        if path.name != "render.py":
            assert not [p for p in privates if p in path.read_text()], path.name


def test_the_public_names_are_there():
    assert all(getattr(viz, name) is not None for name in viz.__all__)
    assert {"figure", "plot_losses_over_time", "plot_request_sequence", "plot_metric", "plot_ring",
            "users_logged_out", "as_results", "same_scale", "row_labels"} <= set(viz.__all__)
