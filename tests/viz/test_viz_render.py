"""The PNG renderer, and the Matplotlib behaviour it relies on beyond the documented API.

If a Matplotlib upgrade changes one of these, the test named after it fails: change
stickylab/viz/render.py (the only module that relies on them) to match.
"""

import io

import numpy as np
import pytest
from matplotlib.legend import Legend
from matplotlib.text import Text
from PIL import Image

import stickylab as sl
from stickylab import viz
from stickylab.viz import inplace, render

SC = sl.Scenario(users=200, instances=3, duration=120.0, seed=3)


def _pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)), dtype=int)


@pytest.fixture
def ax():
    _, axes = viz.figure()
    return axes[0]


# -- what Matplotlib does ---------------------------------------------------------------------
def test_matplotlib_axes_side_titles_are_private_children_of_the_axes(ax):
    ax.set_title("left", loc="left")
    ax.set_title("right", loc="right")
    assert isinstance(ax._left_title, Text) and ax._left_title.get_text() == "left"
    assert isinstance(ax._right_title, Text) and ax._right_title.get_text() == "right"
    children = ax.get_children()
    assert all(a in children for a in render.frame_artists(ax))


def test_matplotlib_legend_loc_is_zero_only_for_best(ax):
    ax.plot([0, 1], label="a")
    assert ax.legend(loc="best")._loc == 0
    for loc in ("upper left", "upper right", "lower left", "lower right"):
        assert ax.legend(loc=loc)._loc == Legend.codes[loc] != 0


def test_matplotlib_canvas_draw_skips_animated_artists(ax):
    line, = ax.plot([0, 1], [0, 1], color="#ff0000", lw=8)
    line.set_animated(True)
    canvas = ax.figure.canvas
    canvas.draw()
    red = (np.asarray(canvas.buffer_rgba())[..., :3] == (255, 0, 0)).all(axis=2)
    assert not red.any()
    line.set_animated(False)
    canvas.draw()
    red = (np.asarray(canvas.buffer_rgba())[..., :3] == (255, 0, 0)).all(axis=2)
    assert red.any()


def test_matplotlib_agg_regions_copy_and_restore_pixels(ax):
    canvas = ax.figure.canvas
    canvas.draw()
    before = np.asarray(canvas.buffer_rgba()).copy()
    region = canvas.copy_from_bbox(ax.figure.bbox)
    ax.plot([0, 1], [0, 1], lw=10)
    canvas.draw()
    assert not np.array_equal(np.asarray(canvas.buffer_rgba()), before)
    canvas.restore_region(region)
    assert np.array_equal(np.asarray(canvas.buffer_rgba()), before)
    width, height = canvas.get_width_height()
    assert before.shape == (height, width, 4)


# -- the renderer ---------------------------------------------------------------------------------
def test_a_figure_with_an_ordinary_axes_is_drawn_whole(ax):
    ax.plot([0, 1], [0, 1])
    frames = render.FrameRenderer(ax.figure, [ax])
    assert np.array_equal(_pixels(frames.frame()), _pixels(render.png(ax.figure)))


def test_a_data_only_frame_looks_like_a_full_draw(ax):
    runs = [sl.simulate(SC.replace(users=users), "RoundRobin", events=[sl.Fail("i1", at=60.0)])
            for users in (200, 220, 240)]
    live = inplace.LiveAxes([ax])
    frames = render.FrameRenderer(ax.figure, [ax])
    drawn = []
    canvas = ax.figure.canvas
    full_draw = canvas.draw

    def counted(*args, **kwargs):
        drawn.append(1)
        return full_draw(*args, **kwargs)
    canvas.draw = counted
    for res in runs:
        viz.plot_load_over_time(ax, res)
        fast = _pixels(frames.frame())
        full = _pixels(render.png(ax.figure))
        assert fast.shape == full.shape
        assert (np.abs(fast - full).max(axis=2) > 0).mean() < 0.002
    assert len(drawn) < 2 * len(runs) and ax in live        # some frames drew the data only
