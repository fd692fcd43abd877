"""The in-place drawing contract (stickylab.viz.inplace): what a plot keeps, where, and for whom."""

import gc
import weakref

import pytest

import stickylab as sl
from stickylab import viz
from stickylab.viz import inplace

SC = sl.Scenario(users=150, instances=3, duration=120.0, seed=5)


@pytest.fixture(scope="module")
def res():
    return sl.simulate(SC, "CookieInsert", events=[sl.Fail("i1", at=60.0)])


@pytest.fixture
def ax():
    _, axes = viz.figure()
    return axes[0]


def test_an_ordinary_axes_keeps_nothing_and_nothing_is_written_on_it(ax, res):
    before = set(vars(ax))
    viz.plot_instance_load(ax, res)
    assert not inplace.is_live(ax) and inplace.drawing(ax) is None
    assert not [name for name in set(vars(ax)) - before if "stickylab" in name]


def test_a_live_axes_keeps_a_drawing_and_updates_it_under_the_same_key(ax, res):
    live = inplace.LiveAxes([ax])
    viz.plot_instance_load(ax, res)
    first = inplace.drawing(ax)
    assert isinstance(first, inplace.Drawing) and first.key[0] == "bars" and live.drawing(ax) is first
    bars = list(ax.patches)
    viz.plot_instance_load(ax, res)
    assert inplace.drawing(ax).key == first.key and list(ax.patches) == bars


def test_another_key_clears_the_axes_and_draws_afresh(ax, res):
    live = inplace.LiveAxes([ax])
    viz.plot_instance_load(ax, res)
    bars = list(ax.patches)
    viz.plot_users_per_instance(ax, res)
    assert inplace.drawing(ax).key[:2] == ("bars", "users")
    assert not set(map(id, ax.patches)) & set(map(id, bars)) and ax in live


def test_release_makes_the_axes_ordinary_again(ax, res):
    live = inplace.LiveAxes([ax])
    viz.plot_instance_load(ax, res)
    live.release(ax)
    assert not inplace.is_live(ax) and inplace.drawing(ax) is None
    viz.plot_instance_load(ax, res)
    assert inplace.drawing(ax) is None


def test_every_plot_keeps_the_contract_and_says_so():
    plots = {name for name in viz.__all__ if name.startswith("plot_")}
    assert {name for name in plots if inplace.updates_in_place(getattr(viz, name))} == plots
    assert not inplace.updates_in_place(viz.mark_events)
    assert not inplace.updates_in_place(lambda ax, results: None)


def test_an_axes_is_live_only_while_its_owner_keeps_it(ax, res):
    live = inplace.LiveAxes([ax])
    viz.plot_instance_load(ax, res)
    del live
    gc.collect()
    assert not inplace.is_live(ax) and inplace.drawing(ax) is None


def test_nothing_here_keeps_a_dashboard_s_figure_alive(res):
    fig, (ax,) = viz.figure()
    live = inplace.LiveAxes([ax])
    viz.plot_instance_load(ax, res)
    gone = weakref.ref(ax)
    del fig, ax, live
    gc.collect()
    assert gone() is None
