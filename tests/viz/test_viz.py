import subprocess
import sys

import numpy as np
import pytest
from matplotlib.colors import to_rgba

import stickylab as sl
from stickylab import viz
from stickylab.viz import inplace

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
    assert viz.row_labels(ax) == ["user 0", "user 5"]


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


def test_an_event_label_lies_under_the_data(ax, runs):
    """An event's label, at the foot of its line, never hides a line that runs there (a new instance's)."""
    viz.plot_load_over_time(ax, runs["RoundRobin"])
    label = next(t for t in ax.texts if t.get_text() == "i1 fails")
    instances = [ln for ln in ax.get_lines() if ln.get_label() in runs["RoundRobin"].instance_ids]
    assert instances and all(label.get_zorder() < ln.get_zorder() for ln in instances)


def test_a_bar_label_follows_its_bar_when_redrawn_in_place(ax):
    """Redrawn in place, each bar's value is written on its new top, not where the old bar ended."""
    live = inplace.LiveAxes([ax])                        # as a dashboard's panel
    viz.plot_key_movement(ax, ["mod N", "ring"], [0.8, 0.2], ideal=[0.2, 0.2])
    viz.plot_key_movement(ax, ["mod N", "ring"], [0.75, 0.27], ideal=[0.25, 0.25])
    assert [t.get_position()[1] for t in ax.texts] == [0.75, 0.27]
    assert [t.get_text() for t in ax.texts] == ["75%", "27%"] and ax in live


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


@pytest.fixture
def live():
    """The Axes a test redraws in place, as a dashboard's are (kept for the test's length)."""
    return inplace.LiveAxes()


def test_nice_ceiling_rounds_up_to_a_round_number():
    assert [viz.nice_ceiling(x) for x in (0.0, 7.0, 11.0, 0.031, 2600.0)] == [1.0, 8.0, 12.0, 0.04, 3000.0]


def test_a_live_bar_chart_keeps_its_scale_while_the_data_fits(ax, runs, live):
    live.add(ax)
    viz.plot_metric(ax, runs, "max_mean_load")
    bars, top = list(ax.patches), ax.get_ylim()[1]
    heights = [r.max_mean_load() for r in runs.values()]
    assert top >= max(heights)
    smaller = {k: v for k, v in runs.items()}
    viz.plot_metric(ax, smaller, "max_mean_load")
    assert list(ax.patches) == bars and ax.get_ylim()[1] == top       # same bars, same frame


def test_metric_bars_update_in_place_and_mark_a_baseline(ax, runs, live):
    live.add(ax)
    viz.plot_metric(ax, runs, "failed_requests", baseline={"RoundRobin": runs["CookieInsert"]})
    bars = list(ax.patches)
    marks = ax.collections[0]
    assert np.allclose(marks.get_offsets(), [[0, runs["CookieInsert"].failed_requests()]])
    swapped = {"RoundRobin": runs["CookieInsert"], "CookieInsert": runs["RoundRobin"]}
    viz.plot_metric(ax, swapped, "failed_requests", baseline={"RoundRobin": runs["RoundRobin"]})
    assert list(ax.patches) == bars
    assert [b.get_height() for b in bars] == [r.failed_requests() for r in swapped.values()]
    values = [r.failed_requests() for r in swapped.values()]
    assert [t.get_text() for t in ax.texts] == [f"{v:.0f}" if v >= 10 else f"{v:.2f}" for v in values]


def test_sweep_updates_its_lines_in_place_and_log_ticks_are_plain_numbers(ax, live):
    live.add(ax)
    viz.plot_sweep(ax, [1, 2, 4], {"a": [3, 30, 300]}, "x", "y", log=True)
    line = ax.lines[0]
    viz.plot_sweep(ax, [1, 2, 4], {"a": [5, 50, 800]}, "x", "y", log=True)
    assert list(ax.lines) == [line] and list(line.get_ydata()) == [5, 50, 800]
    assert ax.get_ylim() == (1.0, 1000.0)
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all("$" not in s for s in labels) and "100" in labels
    with pytest.raises(ValueError, match="one value per x"):
        viz.plot_sweep(ax, [1, 2], {"a": [1, 2, 3]}, "x", "y")


def test_latency_axis_spans_whole_decades_with_plain_ticks(ax, runs):
    viz.plot_latency_cdf(ax, runs)
    lo, hi = ax.get_xlim()
    assert np.isclose(np.log10(lo), round(np.log10(lo))) and np.isclose(np.log10(hi), round(np.log10(hi)))
    ax.figure.canvas.draw()
    assert all("$" not in t.get_text() for t in ax.get_xticklabels())


def test_a_baseline_is_drawn_as_a_dashed_ghost_and_named(ax, runs):
    viz.plot_losses_over_time(ax, {"CookieInsert": runs["CookieInsert"]},
                              baseline={"RoundRobin": runs["RoundRobin"]})
    ghost = [ln for ln in ax.lines if ln.get_linestyle() not in ("-", ":")]
    assert len(ghost) == 1
    width = SC.duration / 60
    assert np.isclose(ghost[0].get_ydata().sum() * width, runs["RoundRobin"].timeline()["lost"].sum())
    assert "dashed: baseline (RoundRobin)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert ax.get_ylabel() == "requests that lost their session / s"


def test_bars_mark_the_baseline_per_instance(ax, runs):
    viz.plot_instance_load(ax, runs["CookieInsert"], baseline=runs["RoundRobin"])
    marks = ax.collections[0].get_offsets()
    assert np.allclose(marks[:, 1], list(runs["RoundRobin"].per_instance_requests().values()))


def test_request_sequence_keeps_its_artists_when_other_users_are_shown(ax, runs, live):
    live.add(ax)
    res = runs["RoundRobin"]
    viz.plot_request_sequence(ax, res, users=[0, 5], until=60.0)
    artists = list(ax.collections)
    viz.plot_request_sequence(ax, res, users=[1, 5], until=60.0)
    if list(ax.collections) == artists:          # the same instances appear: updated in place
        assert viz.row_labels(ax) == ["user 1", "user 5"]
    wl = res.workload
    expected = int((np.isin(wl.users, [1, 5]) & (wl.times <= 60.0)).sum())
    assert sum(len(c.get_offsets()) for c in ax.collections if c.get_label() in res.instance_ids) == expected


def test_same_scale_gives_side_by_side_bars_one_axis(runs):
    fig, (left, right) = viz.figure(1, 2)
    viz.plot_users_per_instance(left, runs["RoundRobin"])
    viz.plot_users_per_instance(right, runs["CookieInsert"])
    viz.same_scale(left, right)
    assert left.get_ylim() == right.get_ylim()
    with pytest.raises(ValueError, match="axis must be"):
        viz.same_scale(left, axis="z")


def test_ring_picture_colours_each_key_by_its_node_and_rings_moved_keys(ax, live):
    from stickylab import hashing
    before = hashing.Ring(["n0", "n1", "n2"], vnodes=4)
    after = hashing.Ring(["n0", "n1", "n2", "n3"], vnodes=4)
    keys = hashing.mix64(np.arange(50))
    moved = before.lookup_many(keys) != after.lookup_many(keys)
    live.add(ax)
    viz.plot_ring(ax, after, keys, moved)
    arcs, points, dots, rings = ax.collections[:4]
    assert len(points.get_offsets()) == 16 and len(dots.get_offsets()) == 50
    owners = after.index_many(keys)
    assert np.allclose(dots.get_facecolors(), [to_rgba(viz.instance_color(k)) for k in owners])
    assert len(rings.get_offsets()) == int(moved.sum()) > 0
    viz.plot_ring(ax, hashing.Ring(["n0", "n1", "n2", "n4"], vnodes=4), keys)
    assert ax.collections[:4] == [arcs, points, dots, rings] and len(rings.get_offsets()) == 0
    with pytest.raises(TypeError, match="Ring"):
        viz.plot_ring(ax, hashing.Jump(["a", "b"]))


def test_a_failure_detection_delay_is_shaded(ax):
    viz.mark_events(ax, [sl.Fail("i1", at=30.0, detect=6.0)])
    assert [t.get_text() for t in ax.texts] == ["i1 fails (seen 6 s later)"]
    span = ax.patches[0]
    assert np.isclose(span.get_x(), 30.0) and np.isclose(span.get_width(), 6.0)


def test_tables_are_updated_in_place_and_reject_ragged_rows(ax, live):
    live.add(ax)
    viz.plot_table(ax, ["a", "b"], [["1", "2"]], "t")
    table = ax.tables[0]
    viz.plot_table(ax, ["a", "b"], [["1", "2"], ["3", "4"]], "t")
    assert list(ax.tables) == [table] and table.get_celld()[(2, 1)].get_text().get_text() == "4"
    with pytest.raises(ValueError, match="every row needs 2 cells"):
        viz.plot_table(ax, ["a", "b"], [["1"]], "t")


def test_a_flat_zero_line_says_nothing_was_lost(ax, live):
    calm = sl.simulate(SC, "CookieInsert")
    live.add(ax)
    viz.plot_losses_over_time(ax, calm, what="failed")
    assert "no request failed in this run" in [t.get_text() for t in ax.texts]
    crash = sl.simulate(SC, "CookieInsert", events=[sl.Fail("i1", at=60.0)])
    viz.plot_losses_over_time(ax, crash, what="lost")
    assert "no request lost its session in this run" not in [t.get_text() for t in ax.texts]


def test_users_logged_out_is_its_own_metric(ax, runs):
    res = runs["RoundRobin"]
    assert viz.metric_value(res, "users_logged_out") == len(np.unique(res.users[res.lost]))
    viz.plot_metric(ax, runs, "users_logged_out")
    assert [p.get_height() for p in ax.patches] == [viz.users_logged_out(r) for r in runs.values()]
    assert ax.get_ylabel() == "users logged out (distinct users)"
    with pytest.raises(ValueError, match="unknown metric 'speed'"):
        viz.metric_value(res, "speed")


def test_grouped_bars_put_routers_side_by_side_on_one_axis(ax, runs, live):
    live.add(ax)
    viz.plot_per_instance(ax, runs, what="users")
    bars = list(ax.patches)
    assert len(bars) == 2 * 3
    for n, res in enumerate(runs.values()):
        served = res.served
        expected = [len(np.unique(res.users[served & (res.instance == k)])) for k in range(3)]
        assert [b.get_height() for b in bars[3 * n: 3 * n + 3]] == expected
    assert ax.get_ylim()[1] >= max(b.get_height() for b in bars)
    viz.plot_per_instance(ax, runs, what="users")
    assert list(ax.patches) == bars
    with pytest.raises(ValueError, match="what must be"):
        viz.plot_per_instance(ax, runs, what="latency")


def test_arc_shares_are_each_nodes_share_of_the_circle(ax):
    from stickylab import hashing
    ring = hashing.Ring(["a", "b", "c"], vnodes=3)
    viz.plot_arc_shares(ax, ring)
    assert np.allclose([p.get_height() for p in ax.patches], list(ring.arc_shares().values()))
    assert np.isclose(sum(p.get_height() for p in ax.patches), 1.0)


def test_a_baseline_flat_at_zero_is_dotted_over_the_axis_and_said(ax, runs):
    calm = sl.simulate(SC, "CookieInsert")
    viz.plot_losses_over_time(ax, {"RoundRobin": runs["RoundRobin"]}, baseline={"calm": calm})
    ghost = [ln for ln in ax.lines if ln.get_linestyle() not in ("-", ":")][0]
    assert not ghost.get_ydata().any()
    assert ghost.get_marker() == "o" and not ghost.get_clip_on()
    assert viz.BASELINE_ZERO in [t.get_text() for t in ax.texts]


def test_a_run_flat_at_zero_beside_one_with_losses_is_dotted_over_the_axis(ax, runs):
    viz.plot_losses_over_time(ax, {"RoundRobin": runs["RoundRobin"], "calm": sl.simulate(SC, "CookieInsert")})
    lossy, calm = ax.lines[:2]
    assert not calm.get_ydata().any() and calm.get_marker() == "o" and not calm.get_clip_on()
    assert lossy.get_marker() in ("None", "none", "")
    handles = ax.get_legend().legend_handles
    assert handles[1].get_marker() == "o"                    # the legend shows the dots too


def test_a_baseline_with_losses_keeps_its_plain_dashes_and_no_zero_note(ax, runs, live):
    live.add(ax)
    calm = sl.simulate(SC, "CookieInsert")
    viz.plot_losses_over_time(ax, {"CookieInsert": runs["CookieInsert"]}, baseline={"CookieInsert": calm})
    assert viz.BASELINE_ZERO in [t.get_text() for t in ax.texts]
    viz.plot_losses_over_time(ax, {"CookieInsert": calm}, baseline={"CookieInsert": runs["RoundRobin"]})
    ghost = [ln for ln in ax.lines if ln.get_linestyle() not in ("-", ":")][0]
    assert ghost.get_ydata().any() and ghost.get_marker() in ("None", "none", "")
    assert viz.BASELINE_ZERO not in [t.get_text() for t in ax.texts]


def test_sweep_lines_have_their_own_markers_and_predictions_are_dashed_over_them(ax):
    viz.plot_sweep(ax, [1, 2, 4], {"a": [1.0, 0.1, 0.01], "b": [1.0, 1.0, 1.0]}, "N", "share",
                   percent=True, log=True, reference={"theory": [1.0, 0.125, 0.0156]})
    a, b, theory = ax.lines
    assert a.get_marker() != b.get_marker() and theory.get_linestyle() not in ("-", "None")
    assert theory.get_zorder() > a.get_zorder()
    assert "theory" in [t.get_text() for t in ax.get_legend().get_texts()]
    lo, hi = ax.get_ylim()
    assert lo == 0.01 and 1.0 < hi < 1.5           # a share's log axis stops just past 100 %
    ax.figure.canvas.draw()
    shown = [t.get_text() for t, y in zip(ax.get_yticklabels(), ax.get_yticks()) if lo <= y <= hi]
    assert shown == ["1%", "10%", "100%"]
    with pytest.raises(ValueError, match="each reference needs one value per x"):
        viz.plot_sweep(ax, [1, 2], {"a": [1, 2]}, "x", "y", reference={"r": [1]})


def test_a_linear_share_axis_does_not_run_past_100_percent(ax):
    viz.plot_sweep(ax, [1, 2, 3], {"a": [1.0, 0.5, 0.2]}, "N", "share", percent=True)
    assert ax.get_ylim() == (0, 1.05)


def test_a_long_metric_label_is_wrapped_to_fit_the_plots_height(ax, runs):
    viz.plot_metric(ax, runs, "session_loss_rate")
    assert ax.get_ylabel() == "requests that lost their session\n(share of those needing one)"
    ax.figure.canvas.draw()
    label = ax.yaxis.label.get_window_extent()
    assert label.height < ax.figure.bbox.height


def test_table_text_is_readable_and_fits_its_rows(ax):
    viz.plot_table(ax, ["client", "sent to"], [["198.51.100.7", "i0"]], "t")
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    cell = ax.tables[0].get_celld()[(1, 0)]
    text = cell.get_text().get_window_extent(renderer)
    assert cell.get_text().get_fontsize() * ax.figure.dpi / 72 >= 12      # px, at the figure's dpi
    assert text.height < cell.get_window_extent(renderer).height


def test_home_users_count_each_user_once_whatever_the_router(ax):
    from stickylab.viz.runs import home_counts, user_counts
    sc = SC.replace(duration=600.0)              # long enough for second visits (a new cookie each)
    cookie, iphash = sl.simulate(sc, "CookieInsert"), sl.simulate(sc, "SourceIPHash")
    served = {name: len(np.unique(r.users[r.served])) for name, r in (("c", cookie), ("h", iphash))}
    assert home_counts(cookie).sum() == served["c"] == home_counts(iphash).sum() == served["h"]
    assert user_counts(cookie).sum() > home_counts(cookie).sum()      # a user on two instances, twice
    assert list(home_counts(iphash)) == list(user_counts(iphash))     # one address, one instance
    viz.plot_per_instance(ax, {"cookie": cookie, "hash": iphash}, what="home users")
    heights = [p.get_height() for p in ax.patches]
    assert heights == [*home_counts(cookie), *home_counts(iphash)]
    assert ax.get_ylabel() == "users (each counted once)"
    with pytest.raises(ValueError, match="'home users'"):
        viz.plot_per_instance(ax, {"cookie": cookie}, what="homes")


def test_users_per_instance_can_count_each_user_once(ax):
    from stickylab.viz.runs import home_counts
    cookie = sl.simulate(SC.replace(duration=600.0), "CookieInsert")
    viz.plot_users_per_instance(ax, cookie, what="home users")
    assert [p.get_height() for p in ax.patches] == list(home_counts(cookie))
    assert sum(p.get_height() for p in ax.patches) == len(np.unique(cookie.users[cookie.served]))
    assert ax.get_ylabel() == "users (each counted once)"
    with pytest.raises(ValueError, match="'home users'"):
        viz.plot_users_per_instance(ax, cookie, what="requests")
