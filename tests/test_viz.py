import subprocess
import sys

import numpy as np
import pytest

import stickylab as sl
from stickylab import viz

SC = sl.Scenario(users=200, instances=3, duration=120.0, seed=3)


@pytest.fixture(scope="module")
def runs():
    crash = [sl.Fail("i1", at=60.0)]
    return {"RoundRobin": sl.simulate(SC, "RoundRobin", events=crash),
            "CookieInsert": sl.simulate(SC, "CookieInsert", events=crash)}


@pytest.fixture
def ax():
    fig, axes = viz.figure(1, 1)
    return axes[0]


def _labelled(ax):
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_viz_imports_no_jupyter():
    code = ("import sys, stickylab.viz; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('ipywidgets', 'IPython', 'ipykernel')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_figure_is_not_registered_with_pyplot():
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    viz.figure(2, 2)
    assert plt.get_fignums() == before


def test_instance_load_bars_are_the_counts_and_the_failed_one_is_hatched(ax, runs):
    res = runs["CookieInsert"]
    viz.plot_instance_load(ax, res)
    heights = [p.get_height() for p in ax.patches]
    assert heights == list(res.per_instance_requests().values())
    assert [bool(p.get_hatch()) for p in ax.patches] == [False, True, False]
    _labelled(ax)


def test_losses_over_time_draws_the_lost_requests_per_second(ax, runs):
    viz.plot_losses_over_time(ax, runs)
    lines = [ln for ln in ax.get_lines() if ln.get_label() in runs]
    assert [ln.get_label() for ln in lines] == list(runs)
    width = SC.duration / 60
    for line, res in zip(lines, runs.values()):
        assert np.isclose(line.get_ydata().sum() * width, res.timeline()["lost"].sum())
    viz.plot_losses_over_time(ax, runs["CookieInsert"], what="failed")
    with pytest.raises(ValueError, match="what"):
        viz.plot_losses_over_time(ax, runs, what="latency")


def test_load_over_time_hides_an_instance_before_it_joins(ax):
    res = sl.simulate(SC, "RoundRobin", events=[sl.ScaleOut(at=60.0)])
    viz.plot_load_over_time(ax, res)
    new = next(ln for ln in ax.get_lines() if ln.get_label() == "i3")
    x, y = new.get_xdata(), new.get_ydata()
    assert np.isnan(y[x < 55]).all() and (y[x > 65] > 0).all()
    assert any(ln.get_label() == "capacity" and ln.get_ydata()[0] == SC.capacity
               for ln in ax.get_lines())
    _labelled(ax)


def test_request_sequence_has_a_dot_per_request_of_the_chosen_users(ax, runs):
    res = runs["RoundRobin"]
    viz.plot_request_sequence(ax, res, users=[0, 5], until=60.0)
    wl = res.workload
    expected = int((np.isin(wl.users, [0, 5]) & (wl.times <= 60.0)).sum())
    by_instance = sum(len(c.get_offsets()) for c in ax.collections
                      if c.get_label() in res.instance_ids)
    assert by_instance == expected
    assert [t.get_text() for t in ax.get_yticklabels()] == ["user 0", "user 5"]


def test_metric_bars_are_the_summary_values(ax, runs):
    viz.plot_metric(ax, runs, "session_loss_rate")
    assert [p.get_height() for p in ax.patches] == [r.session_loss_rate() for r in runs.values()]
    ax.clear()
    viz.plot_metric(ax, runs, "p99_latency")
    assert np.allclose([p.get_height() for p in ax.patches],
                       [r.p99_latency() * 1000 for r in runs.values()])
    with pytest.raises(ValueError, match="unknown metric 'speed'"):
        viz.plot_metric(ax, runs, "speed")


def test_latency_cdf_ends_at_one_on_a_log_axis(ax, runs):
    viz.plot_latency_cdf(ax, runs)
    assert ax.get_xscale() == "log"
    for line in ax.get_lines():
        assert line.get_ydata()[-1] == 1.0 and np.all(np.diff(line.get_ydata()) >= 0)


def test_hit_rate_over_time_is_a_share(ax, runs):
    viz.plot_hit_rate_over_time(ax, runs)
    for line in ax.get_lines()[: len(runs)]:
        y = line.get_ydata()
        assert np.nanmin(y) >= 0 and np.nanmax(y) <= 1


def test_users_per_instance_counts_distinct_users(ax, runs):
    res = runs["CookieInsert"]
    viz.plot_users_per_instance(ax, res)
    served = res.served
    for k, patch in enumerate(ax.patches):
        users = np.unique(res.workload.users[served & (res.instance == k)])
        assert patch.get_height() == len(users)
    assert [bool(p.get_hatch()) for p in ax.patches] == [False, True, False]   # i1 failed


def test_tables_show_the_mapping_and_the_log(ax):
    router, pool = sl.routers.StickTable("src"), sl.Pool(healthy=["i0", "i1"])
    log = []
    for t, ip in enumerate(["192.0.2.1", "192.0.2.2", "192.0.2.1"]):
        request = sl.Request(ip, time=float(t))
        log.append((request, router.route(request, pool)))
    viz.plot_affinity_table(ax, router.table, pool.members)
    cells = ax.tables[0].get_celld()
    assert {cells[(r, 0)].get_text().get_text(): cells[(r, 1)].get_text().get_text()
            for r in (1, 2)} == router.table.snapshot()
    ax.clear()
    viz.plot_routing_log(ax, log, pool.members)
    assert ax.get_title() == "Requests routed: 3"


def test_key_movement_and_sweep(ax):
    viz.plot_key_movement(ax, ["mod N", "ring"], [0.8, 0.2], ideal=[0.2, 0.2])
    assert [p.get_height() for p in ax.patches] == [0.8, 0.2]
    ax.clear()
    viz.plot_sweep(ax, [1, 2, 4], {"a": [10, 100, 1000]}, "x", "y", log=True)
    assert ax.get_yscale() == "log"


def test_events_are_marked(ax, runs):
    viz.mark_events(ax, [sl.Fail("i1", at=30.0), sl.ScaleOut(at=90.0)])
    assert [ln.get_xdata()[0] for ln in ax.get_lines()] == [30.0, 90.0]
    assert [t.get_text() for t in ax.texts] == ["i1 fails", "+1 added"]


def test_as_results_rejects_what_is_not_a_result():
    with pytest.raises(TypeError, match="Result"):
        viz.as_results({"a": 1})
    with pytest.raises(TypeError):
        viz.as_results({})


def test_plots_on_an_ordinary_axes_still_overlay(ax, runs):
    viz.plot_losses_over_time(ax, runs["RoundRobin"])
    once = len(ax.lines)
    viz.plot_losses_over_time(ax, runs["RoundRobin"])
    assert len(ax.lines) == 2 * once         # only a dashboard's axes are updated in place
