"""Legends of the bar plots sit in room the axis leaves above the data: over no bar, label or mark."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import stickylab as sl  # noqa: E402
from stickylab import viz  # noqa: E402


def _covered(ax) -> list:
    """The bars, marks and texts of ``ax`` whose box meets its legend's."""
    ax.figure.canvas.draw()
    box = ax.get_legend().get_window_extent()
    shown = [*ax.patches, *[t for t in ax.texts if t.get_text()]]
    covered = [a for a in shown if a.get_visible() and a.get_window_extent().overlaps(box)]
    for marks in ax.collections:                       # each mark's centre, in pixels
        covered += [tuple(p) for p in ax.transData.transform(marks.get_offsets()) if box.contains(*p)]
    return covered


@pytest.fixture
def ax():
    fig, ax = plt.subplots(figsize=(4, 2.7), layout="constrained")
    yield ax
    plt.close(fig)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_instance_load_legend_covers_no_bar_even_with_a_baseline(ax, seed):
    sc = sl.Scenario(users=300, instances=4, duration=60.0, seed=seed, skew=1.3)
    res, base = sl.simulate(sc, "CookieInsert"), sl.simulate(sc, "RoundRobin")
    viz.plot_instance_load(ax, res, baseline=base)
    assert max(p.get_height() for p in ax.patches) > 1.2 * min(p.get_height() for p in ax.patches)
    assert _covered(ax) == []


@pytest.mark.parametrize("moved", [[0.8, 0.2, 0.2, 0.2, 0.2], [0.75, 0.25, 0.25, 1.0, 1.0]])
def test_key_movement_legend_covers_no_bar_up_to_all_keys(ax, moved):
    viz.plot_key_movement(ax, ["mod N", "ring", "rendezvous", "jump", "maglev"], moved, [0.2] * 5)
    assert _covered(ax) == []


@pytest.mark.parametrize("busiest", [[1.0, 1.1, 1.0, 1.0, 1.0], [1.0, 1.9, 1.0, 1.3, 2.4]])
def test_key_balance_legend_covers_no_bar(ax, busiest):
    viz.plot_key_balance(ax, ["mod N", "ring", "rendezvous", "jump", "maglev"], busiest)
    assert _covered(ax) == []
