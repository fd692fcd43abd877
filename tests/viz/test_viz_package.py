"""stickylab.viz as a package: imports that point one way, matplotlib privates in one module.

Module and function sizes are checked for the whole package by tests/test_architecture.py.
"""

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


def test_only_the_renderer_reads_matplotlib_privates():
    privates = ("_left_title", "_right_title", "._loc", "_stickylab")
    for path in FOLDER.glob("*.py"):
        if path.name != "render.py":
            assert not [p for p in privates if p in path.read_text()], path.name


def test_the_public_names_are_there():
    assert all(getattr(viz, name) is not None for name in viz.__all__)
    assert {"figure", "plot_losses_over_time", "plot_request_sequence", "plot_metric", "plot_ring",
            "users_logged_out", "as_results", "same_scale", "row_labels"} <= set(viz.__all__)
