import io

import ipywidgets as w
import numpy as np
import pytest

import stickylab as sl
from stickylab import viz
from stickylab import widgets as sw
from stickylab.viz.render import png

SC = sl.Scenario(users=200, instances=3, duration=120.0, seed=3)


def _dashboard(**options):
    return sw.scenario_dashboard(
        SC, {"CookieInsert": "CookieInsert", "RoundRobin": "RoundRobin"},
        {"instances": sw.int_slider("instances", 3, 1, 6)}, **options)


def _bar_heights(dash, panel=1):
    return [p.get_height() for p in dash.axes[panel].patches]


def test_changing_a_control_reruns_and_redraws():
    dash = _dashboard()
    first, image = dash.results, dash.image.value
    assert bytes(image).startswith(b"\x89PNG")
    assert list(first) == ["CookieInsert"] and len(_bar_heights(dash)) == 3
    dash.controls["instances"].value = 5          # what the slider does when released
    assert dash.results is not first
    assert dash.results["CookieInsert"].scenario.instances == 5
    assert len(_bar_heights(dash)) == 5 and dash.image.value != image
    dash.controls["router"].value = "RoundRobin"
    assert list(dash.results) == ["RoundRobin"]
    assert dash.results["RoundRobin"].session_loss_rate() > 0.5
    assert dash.seconds > 0


def test_the_figure_is_reused_not_recreated():
    dash = _dashboard()
    fig, axes = dash.fig, list(dash.axes)
    dash.controls["instances"].value = 4
    assert dash.fig is fig and dash.axes == axes
    assert len(fig.axes) == 2


def _dashboard_with_a_users_knob():
    return sw.scenario_dashboard(
        SC, {"CookieInsert": "CookieInsert", "RoundRobin": "RoundRobin"},
        {"users": sw.int_slider("users", 200, 100, 400, 100)},
        panels=[sw.panel(viz.plot_losses_over_time, which=None), sw.panel(viz.plot_instance_load)])


def test_an_update_changes_the_artists_data_instead_of_adding_artists():
    dash = _dashboard_with_a_users_knob()
    dash.controls["router"].value = "RoundRobin"       # a new label: the panels start afresh
    fig = dash.fig
    lines, bars = list(dash.axes[0].lines), list(dash.axes[1].patches)
    children = [len(ax.get_children()) for ax in dash.axes]
    heights = [b.get_height() for b in bars]
    ys = lines[0].get_ydata().copy()
    dash.controls["users"].value = 400
    assert dash.fig is fig
    assert list(dash.axes[0].lines) == lines and list(dash.axes[1].patches) == bars   # the same artists...
    assert [len(ax.get_children()) for ax in dash.axes] == children
    assert not np.array_equal(lines[0].get_ydata(), ys)                        # ...with new data
    assert [b.get_height() for b in bars] != heights
    assert [b.get_height() for b in bars] == list(
        dash.results["RoundRobin"].per_instance_requests().values())
    assert dash.axes[1].get_ylim()[1] >= max(b.get_height() for b in bars)    # rescaled to fit


def test_an_unchanged_knob_reuses_the_simulation_and_the_image_matches_a_full_draw():
    from PIL import Image
    dash = _dashboard_with_a_users_knob()
    first = dash.results["CookieInsert"]
    dash.controls["users"].value = 300
    dash.controls["users"].value = 200                 # back again: not simulated twice
    assert dash.results["CookieInsert"] is first
    fast = np.asarray(Image.open(io.BytesIO(dash.image.value)), dtype=int)
    full = np.asarray(Image.open(io.BytesIO(png(dash.fig))), dtype=int)
    assert fast.shape == full.shape
    assert (np.abs(fast - full).max(axis=2) > 0).mean() < 0.002     # lines over the frame, at most


def test_custom_panels_still_get_a_cleared_axes():
    calls = []

    def mine(ax, results):
        calls.append(len(ax.lines))
        ax.plot([0, 1], [0, 1])

    dash = sw.Dashboard(lambda k: {"x": k}, [mine], {"k": sw.int_slider("k", 1, 0, 5)}, summary=False)
    dash.controls["k"].value = 2
    assert calls == [0, 0] and len(dash.axes[0].lines) == 1


def test_fail_button_fails_an_instance():
    dash = _dashboard(events=True)
    assert dash.results["CookieInsert"].failed_requests() == 0
    dash.event_controls["at"].value = 60.0
    dash.event_controls["fail"].click()
    assert dash.events() == [sl.Fail("i0", at=60.0)]
    res = dash.results["CookieInsert"]
    assert res.events == [sl.Fail("i0", at=60.0)]
    assert not (res.instance[res.times > 60.0] == 0).any()
    assert res.timeline()["lost"].sum() > 0
    assert dash.axes[1].patches[0].get_hatch()          # the failed instance's bar is hatched


def test_add_button_adds_an_instance_and_clear_forgets_events():
    dash = _dashboard(events=True)
    dash.event_controls["add"].click()
    assert dash.results["CookieInsert"].instance_ids == ["i0", "i1", "i2", "i3"]
    assert len(_bar_heights(dash)) == 4
    dash.event_controls["clear"].click()
    assert dash.events() == [] and len(_bar_heights(dash)) == 3


def test_fail_picks_instances_that_are_healthy_then():
    dash = _dashboard(events=True)
    dash.controls["instances"].value = 2
    dash.add_instance(at=10.0)
    for at in (20.0, 30.0, 40.0, 50.0):
        dash.fail_instance(at=at)
    assert dash.events() == [sl.ScaleOut(at=10.0), sl.Fail("i0", at=20.0), sl.Fail("i1", at=30.0),
                             sl.Fail("i2", at=40.0)]
    assert dash.results["CookieInsert"].failed_requests() > 0      # nobody left after t=40
    with pytest.raises(ValueError, match="at must be a time"):
        dash.fail_instance(at=500.0)


def test_router_options_come_from_knobs_that_are_not_scenario_fields():
    dash = sw.scenario_dashboard(
        SC, {"table": lambda expire: sl.routers.StickTable("src", expire=expire)},
        {"expire": sw.float_slider("expire", 600.0, 5.0, 600.0, 5.0)})
    assert dash.results["table"].router.table.expire == 600.0
    dash.controls["expire"].value = 5.0
    assert dash.results["table"].router.table.expire == 5.0
    assert dash.results["table"].session_loss_rate() > 0


def test_running_every_router_side_by_side():
    dash = sw.scenario_dashboard(SC, {"a": "RoundRobin", "b": "CookieInsert"}, choose=False,
                                 panels=[sw.panel(viz.plot_metric, which=None)])
    assert list(dash.results) == ["a", "b"] and "router" not in dash.controls
    assert "<td><b>a</b></td>" in dash.table.value and "<td><b>b</b></td>" in dash.table.value


def test_a_bad_combination_is_reported_and_the_last_plot_kept():
    def run(users):
        return sl.simulate(SC.replace(users=users), "RoundRobin")
    dash = sw.Dashboard(run, [sw.panel(viz.plot_instance_load)], {"users": w.IntText(value=100)})
    good = dash.results
    dash.controls["users"].value = -1
    assert dash.results is good and "users must be a positive integer" in dash.status.value
    dash.controls["users"].value = 120
    assert dash.status.value == "" and dash.results is not good


def test_panel_picks_a_result_by_position_or_label_and_names_it_so():
    seen = []
    runs = {"x": sl.simulate(SC, "RoundRobin"), "y": sl.simulate(SC, "CookieInsert")}
    _, (ax,) = viz.figure()
    sw.panel(lambda ax, res: seen.append(res), which="y")(ax, runs)
    sw.panel(lambda ax, res: seen.append(res), which=0)(ax, runs)
    sw.panel(lambda ax, res: seen.append(res), which=None)(ax, runs)
    assert seen == [runs["y"], runs["x"], runs]
    sw.panel(viz.plot_instance_load, which="y")(ax, runs)
    assert ax.get_title() == "Load per instance (y)"


def test_dashboard_rejects_bad_arguments():
    with pytest.raises(TypeError, match="run must be callable"):
        sw.Dashboard(None, [lambda ax, r: None])
    with pytest.raises(TypeError, match="panels"):
        sw.Dashboard(lambda: None, [])
    with pytest.raises(TypeError, match="control 'n'"):
        sw.Dashboard(lambda n: None, [lambda ax, r: None], {"n": 3})
    with pytest.raises(ValueError, match="routers"):
        sw.scenario_dashboard(SC, {})


def test_sweep_fills_its_progress_bar_and_keeps_order():
    bar = w.IntProgress()
    assert sw.sweep(lambda n: n * n, [3, 1, 2], bar=bar) == [9, 1, 4]
    assert (bar.value, bar.max, bar.bar_style) == (3, 3, "success")


def test_stepper_routes_one_request_per_step_and_stops():
    requests = [sl.Request(ip, time=float(t)) for t, ip in enumerate(["192.0.2.1", "192.0.2.2", "192.0.2.1"])]
    stepper = sw.Stepper(sl.routers.StickTable("src"), requests, sl.Pool(healthy=["i0", "i1"]))
    assert stepper.step() == "i0" and stepper.step() == "i1"
    stepper.button.click()
    assert [iid for _, iid in stepper.log] == ["i0", "i1", "i0"]
    assert stepper.step() is None and stepper.button.disabled
    assert len(stepper.router.table) == 2
    with pytest.raises(TypeError, match="Request"):
        sw.Stepper(sl.routers.RoundRobin(), ["192.0.2.1"], sl.Pool(healthy=["i0"]))


def test_key_movement_matches_the_closed_forms():
    r = sw.key_movement(4, "add a node", keys=20_000)
    assert abs(r["moved"]["mod N"] - 0.8) < 0.01 and r["least"] == 0.2
    assert all(abs(r["moved"][s] - 0.2) < 0.05 for s in ("ring", "rendezvous", "jump", "maglev"))
    assert all(b >= 1.0 for b in r["busiest"].values())
    removed = sw.key_movement(4, "remove the last node", keys=20_000)
    assert removed["least"] == 0.25 and abs(removed["moved"]["jump"] - 0.25) < 0.02
    with pytest.raises(ValueError, match="nodes must be a positive integer"):
        sw.key_movement(0, "add a node")
    with pytest.raises(ValueError, match="unknown change"):
        sw.key_movement(3, "shuffle")


def test_hashing_dashboard_follows_its_controls():
    dash = sw.hashing_dashboard(keys=5_000)
    before = dash.results["moved"]["mod N"]
    dash.controls["nodes"].value = 9
    assert dash.results["moved"]["mod N"] != before
    assert np.isclose([p.get_height() for p in dash.axes[0].patches][0], dash.results["moved"]["mod N"])


def test_stepper_clients_carry_the_applications_cookie_so_app_cookie_learn_keeps_them():
    """The instance's application sets SESSION; the router learns it; the client sends it back."""
    requests = [sl.Request(ip, time=float(t)) for t, ip in enumerate(["192.0.2.1", "192.0.2.2"] * 3)]
    stepper = sw.Stepper(sl.routers.AppCookieLearn(), requests, sl.Pool(healthy=["i0", "i1", "i2"]))
    picks = [stepper.step() for _ in requests]
    assert picks[0::2] == [picks[0]] * 3 and picks[1::2] == [picks[1]] * 3
    assert len(stepper.router.table) == 2
    assert all("SESSION" in request.cookies for request, _ in stepper.log[2:])


def test_stepper_draws_a_hashing_router_without_an_affinity_table():
    requests = [sl.Request(ip, time=float(t)) for t, ip in enumerate(["192.0.2.1", "192.0.2.9"] * 2)]
    stepper = sw.Stepper(sl.routers.ConsistentHash("ring"), requests, sl.Pool(healthy=["i0", "i1", "i2"]))
    picks = [stepper.step() for _ in requests]
    assert picks[:2] == picks[2:] and not stepper.axes[1].axison


def test_stepper_sends_a_prepared_requests_own_cookies():
    router = sl.routers.StickTable("cookie:team")
    requests = [sl.Request(ip, cookies={"team": "red"}) for ip in ("192.0.2.1", "192.0.2.2")]
    stepper = sw.Stepper(router, requests, sl.Pool(healthy=["i0", "i1"]))
    assert stepper.step() == stepper.step() and stepper.log[0][0].cookies["team"] == "red"
