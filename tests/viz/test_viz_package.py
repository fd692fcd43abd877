"""stickylab.viz as a package: matplotlib privates in one module, the names the notebooks use.

Sizes and import layers (viz below widgets) are checked for the whole package by
tests/test_architecture.py; tests/viz/test_viz.py checks that viz imports no Jupyter.
"""

from pathlib import Path

import stickylab as sl
from stickylab import viz

FOLDER = Path(sl.__file__).parent / "viz"


def test_only_the_renderer_reads_matplotlib_privates():
    privates = ("_left_title", "_right_title", "._loc", "_stickylab")
    for path in FOLDER.glob("*.py"):
        if path.name != "render.py":
            assert not [p for p in privates if p in path.read_text()], path.name


def test_the_public_names_are_there():
    assert all(getattr(viz, name) is not None for name in viz.__all__)
    assert {"figure", "plot_losses_over_time", "plot_request_sequence", "plot_metric", "plot_ring",
            "users_logged_out", "as_results", "same_scale", "row_labels"} <= set(viz.__all__)
