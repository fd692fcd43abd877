"""Dashboards that compare: baselines, events the learner places, consistent hashing, the ring, steppers."""

import numpy as np
import pytest

import stickylab as sl
from stickylab import viz
from stickylab import widgets as sw
from stickylab.viz.render import png
from stickylab.routers.iphash import nginx_ip_hash

SC = sl.Scenario(users=200, instances=3, duration=120.0, seed=3)


def _dashboard(**options):
    return sw.scenario_dashboard(
        SC, {"CookieInsert": "CookieInsert", "RoundRobin": "RoundRobin"},
        {"users": sw.int_slider("users", 200, 100, 400, 100)}, **options)


# -- the baseline ------------------------------------------------------------------------------
def test_the_previous_run_becomes_the_baseline_drawn_and_tabled():
    dash = _dashboard()
    assert dash.baseline is None and dash.note.value == ""
    first = dash.results
    dash.controls["router"].value = "RoundRobin"
    assert dash.baseline is first
    ghosts = [ln for ln in dash.axes[0].lines if ln.get_alpha() == 0.5]
    assert len(ghosts) == 1
    width = SC.duration / 60
    assert np.isclose(ghosts[0].get_ydata().sum() * width, first["CookieInsert"].timeline()["lost"].sum())
    assert "previous: CookieInsert" in dash.table.value
    assert "router &#x27;CookieInsert&#x27; → &#x27;RoundRobin&#x27;" in dash.note.value


def test_a_pinned_baseline_stays_while_knobs_move():
    dash = _dashboard()
    pinned = dash.results
    dash.pin()
    dash.controls["users"].value = 300
    dash.controls["users"].value = 400
    assert dash.baseline is pinned and "baseline: CookieInsert" in dash.table.value
    assert dash.pin_button.value
    dash.pin_button.value = False                     # the toggle unpins too
    assert not dash.pinned
    dash.controls["users"].value = 300
    assert dash.baseline is not pinned and dash.baseline["CookieInsert"].scenario.users == 400


def test_a_dashboard_can_open_comparing_with_another_setting():
    dash = _dashboard(events=[sl.Fail("i1", at=60.0)], compare={"events": []})
    assert dash.pinned and dash.pin_button.value
    assert dash.baseline["CookieInsert"].events == [] and dash.results["CookieInsert"].events
    assert "baseline: CookieInsert" in dash.table.value
    assert "events none → i1 fails at 60 s" in dash.note.value
    dash.controls["users"].value = 300                # still compared with the run without the failure
    assert dash.baseline["CookieInsert"].events == []
    with pytest.raises(ValueError, match="compare names no control: 'skew'"):
        _dashboard(compare={"skew": 1.0})


def test_a_cached_rerun_keeps_the_baseline():
    dash = _dashboard()
    dash.controls["users"].value = 300
    baseline = dash.baseline
    dash.update()                                     # same values: the same results come back
    assert dash.baseline is baseline


def test_no_ghost_when_turned_off():
    dash = _dashboard(ghost=False)
    dash.controls["users"].value = 300
    assert all(len(ln.get_xdata()) == 0 for ln in dash.axes[0].lines if ln.get_alpha() == 0.5)
    assert "previous" not in dash.table.value


# -- one meaning per label ------------------------------------------------------------------------
def test_users_logged_out_and_lost_requests_are_different_numbers():
    res = sl.simulate(SC, "RoundRobin")
    users = sw.users_logged_out(res)
    assert users == len(set(res.users[res.lost].tolist()))
    assert 0 < users < int(res.lost.sum())            # users are logged out more than once
    html = sw.summary_html({"RoundRobin": res})
    assert "requests that lost their session" in html and "users logged out" in html
    assert f"<td style='padding:0 8px;text-align:right'>{users:,}</td>" in html


def test_a_milliseconds_knob_sets_a_field_in_seconds():
    dash = sw.scenario_dashboard(
        SC.replace(session_store="external"), {"RoundRobin": "RoundRobin"},
        {"store_latency_ms": sw.float_slider("store round trip (ms)", 2.0, 0.0, 20.0, 0.5)})
    assert dash.results["RoundRobin"].scenario.store_latency == pytest.approx(0.002)
    dash.controls["store_latency_ms"].value = 10.0
    assert dash.results["RoundRobin"].scenario.store_latency == pytest.approx(0.010)


def test_side_by_side_a_knob_reruns_only_the_routers_that_take_it():
    dash = sw.scenario_dashboard(
        SC, {"table": lambda expire: sl.routers.StickTable("src", expire=expire), "rr": "RoundRobin"},
        {"expire": sw.float_slider("expire", 600.0, 5.0, 600.0, 5.0)}, choose=False)
    rr = dash.results["rr"]
    dash.controls["expire"].value = 5.0
    assert dash.results["rr"] is rr and dash.results["table"].router.table.expire == 5.0


# -- events the learner places ------------------------------------------------------------------
def test_the_learner_chooses_which_instance_fails():
    dash = _dashboard(events=True)
    dash.event_controls["instance"].value = "i2"
    dash.event_controls["at"].value = 60.0
    dash.event_controls["fail"].click()
    assert dash.events() == [sl.Fail("i2", at=60.0)]
    res = dash.results["CookieInsert"]
    assert not (res.instance[res.times > 60.0] == 2).any()
    assert [bool(p.get_hatch()) for p in dash.axes[1].patches[:3]] == [False, False, True]


def test_failing_an_instance_already_down_is_refused_and_named():
    dash = _dashboard(events=True)
    dash.fail_instance(at=30.0, instance="i1")
    with pytest.raises(ValueError, match="'i1' is failed"):
        dash.fail_instance(at=60.0, instance="i1")
    assert dash.events() == [sl.Fail("i1", at=30.0)]
    dash.event_controls["instance"].value = "i1"
    dash.event_controls["fail"].click()                     # the button says so instead of raising
    assert "i1" in dash.status.value and "failed" in dash.status.value
    with pytest.raises(TypeError, match="instance id"):
        dash.fail_instance(at=10.0, instance=1)


def test_drain_then_remove_an_instance():
    dash = _dashboard(events=True)
    dash.drain_instance(at=40.0, instance="i1")
    dash.remove_instance(at=90.0, instance="i1")
    assert dash.events() == [sl.Drain("i1", at=40.0), sl.ScaleIn("i1", at=90.0)]
    res = dash.results["CookieInsert"]
    on_i1 = res.instance == 1
    assert on_i1[(res.times > 40.0) & (res.times < 90.0)].any()     # its sticky users stay...
    assert not on_i1[res.times > 90.0].any()                         # ...until it is removed
    with pytest.raises(ValueError, match="'i1' is removed"):
        dash.recover_instance(at=100.0, instance="i1")


def test_a_dashboard_opens_on_the_events_it_is_given():
    dash = _dashboard(events=[sl.Fail("i1", at=60.0, detect=6.0), sl.ScaleOut(at=80.0)])
    assert dash.actions == [("fail", 60.0, "i1"), ("add", 80.0, None)]
    assert dash.detect == 6.0 and dash.event_controls["detect"].value == 6.0
    assert dash.events() == [sl.Fail("i1", at=60.0, detect=6.0), sl.ScaleOut(at=80.0)]
    res = dash.results["CookieInsert"]
    assert res.events == dash.events() and res.timeline()["lost"].sum() > 0   # not flat lines
    assert list(dash.event_controls["instance"].options) == [sw.AUTO, "i0", "i1", "i2", "i3"]
    with pytest.raises(ValueError, match="no instance 'i9'"):
        _dashboard(events=[sl.Fail("i9", at=60.0)])


def test_the_detection_slider_sets_every_failures_delay():
    dash = _dashboard(events=[sl.Fail("i1", at=60.0)])
    dash.event_controls["detect"].value = 6.0              # HAProxy's inter 2s fall 3
    assert dash.events() == [sl.Fail("i1", at=60.0, detect=6.0)]
    assert dash.results["CookieInsert"].events == [sl.Fail("i1", at=60.0, detect=6.0)]
    dash.set_detect(0.0)
    assert dash.events() == [sl.Fail("i1", at=60.0)] and dash.event_controls["detect"].value == 0.0
    with pytest.raises(ValueError, match="detect must be"):
        dash.set_detect(-1)
    with pytest.raises(ValueError, match="at most 30 s"):
        dash.set_detect(45.0)


# -- consistent hashing --------------------------------------------------------------------------
def test_consistent_hash_dashboard_opens_on_a_scale_out_and_a_failure():
    sc = sl.Scenario(users=300, instances=4, duration=150.0, seed=2, skew=1.0)
    dash = sw.consistent_hash_dashboard(sc)
    assert dash.events() == [sl.ScaleOut(at=50.0), sl.Fail("i1", at=100.0)]
    assert list(dash.controls["router"].options) == ["ring", "bounded load", "mod N", "CookieInsert"]
    lost = {}
    for name in ("ring", "mod N"):
        dash.controls["router"].value = name
        res = dash.results[name]
        window = (res.times >= 50.0) & (res.times < 100.0)
        lost[name] = int(res.lost[window].sum())
    assert lost["ring"] < lost["mod N"]               # the ring moves fewer users on a scale-out
    dash.controls["router"].value = "bounded load"
    before = dash.results["bounded load"]
    dash.controls["factor"].value = 2.0
    assert dash.results["bounded load"].router.options["factor"] == 2.0
    assert dash.results["bounded load"] is not before


def test_ring_dashboard_moves_only_keys_onto_the_added_node():
    dash = sw.ring_dashboard(nodes=3, vnodes=4, keys=80)
    assert not dash.results["moved"].any()
    dash.controls["nodes"].value = 4
    ring, moved = dash.results["ring"], dash.results["moved"]
    owners = ring.lookup_many(dash.results["keys"])
    assert moved.any() and set(owners[moved].tolist()) == {"n3"}    # every moved key went to n3
    assert f"o = a key that moved: {int(moved.sum())} of 80" in [t.get_text() for t in dash.axes[0].texts]
    assert len(dash.axes[0].collections[1].get_offsets()) == 16       # 4 nodes x 4 points
    with pytest.raises(ValueError, match="vnodes must be an integer"):
        sw.ring_dashboard(vnodes=0)


# -- steppers -------------------------------------------------------------------------------------
def test_cookie_stepper_shows_set_cookie_the_jar_and_a_redispatch():
    stepper = sw.CookieStepper()
    first = stepper.step()
    names = [c.name for c in stepper.responses[0].cookies]
    assert names == ["SESSION", "SERVERID"]
    jar = stepper.browsers["198.51.100.7"].jar
    assert set(jar) == {"SESSION", "SERVERID"}
    stepper.step()
    assert stepper.step() == first                     # the cookie brings the client back
    assert stepper.log[2][0].cookies["SERVERID"] == jar["SERVERID"]
    rows, _ = stepper.rows()
    assert rows[2][1].startswith("SESSION=") and rows[2][3] == "-"
    second = stepper.log[1][1]
    stepper.fail(second)
    stepper.step()                                     # 203.0.113.20 again, its instance down
    cookie_rows, _ = stepper.rows()
    request, iid = stepper.log[3]
    assert request.client_ip == "203.0.113.20" and iid != second
    assert request.cookies["SERVERID"] != stepper.browsers["203.0.113.20"].jar["SERVERID"]
    assert "SERVERID=" in cookie_rows[3][3]             # a new cookie names the new instance
    table = stepper.axes[1].tables[0]
    assert table.get_celld()[(2, 1)].get_text().get_text().startswith("SESSION=")
    with pytest.raises(ValueError, match=f"'{second}' is not healthy"):
        stepper.fail(second)


def test_ip_hash_stepper_shows_the_arithmetic_and_a_rehash():
    clients = ["198.51.100.7", "172.16.5.4", "198.51.100.42", "198.51.100.9"]
    stepper = sw.IPHashStepper(requests=[sl.Request(ip, time=float(t)) for t, ip in enumerate(clients)])
    for _ in range(3):
        stepper.step()
    rows, _ = stepper.rows()
    index, h = nginx_ip_hash("198.51.100.7", 3)
    assert rows[0] == ["198.51.100.7", "198.51.100", str(h), f"{h} % 3 = {index}", f"i{index}"]
    assert rows[2][4] == rows[0][4]                    # 198.51.100.42: the same /24, the same instance
    stepper.fail(rows[0][4])
    stepper.step()
    rows, _ = stepper.rows()
    assert "rehash" in rows[-1][3] and rows[-1][4] != rows[0][4]
    with pytest.raises(TypeError, match="SourceIPHash"):
        sw.IPHashStepper(sl.routers.RoundRobin())


def test_steppers_update_their_tables_in_place():
    stepper = sw.Stepper(sl.routers.StickTable("src"),
                         [sl.Request(ip, time=float(t)) for t, ip in enumerate(["192.0.2.1", "192.0.2.2"])],
                         sl.Pool(healthy=["i0", "i1"]))
    tables = [list(ax.tables) for ax in stepper.axes]
    stepper.step()
    stepper.step()
    assert [list(ax.tables) for ax in stepper.axes] == tables
    assert stepper.axes[0].get_title() == "Requests routed: 2"
    assert stepper.axes[0].tables[0].get_celld()[(2, 2)].get_text().get_text() == "i1"


def _pixels(png):
    import io

    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png)), dtype=int)


def test_every_fast_update_looks_like_a_full_draw_legends_included():
    """Lines cross the load plot's legend (upper left): it must stay drawn above them, as in a full draw."""
    dash = sw.scenario_dashboard(
        SC.replace(users=300), {"RoundRobin": "RoundRobin", "CookieInsert": "CookieInsert"},
        {"skew": sw.float_slider("skew", 1.0, 0.0, 1.5, 0.1)},
        panels=[sw.panel(viz.plot_load_over_time), sw.panel(viz.plot_latency_cdf, which=None)],
        events=[sl.Fail("i1", at=60.0)])
    for skew in (1.1, 1.2, 0.9, 0.5):
        dash.controls["skew"].value = skew
        fast, full = _pixels(dash.image.value), _pixels(png(dash.fig))
        assert fast.shape == full.shape
        assert (np.abs(fast - full).max(axis=2) > 0).mean() < 0.002, skew


def test_an_unknown_router_is_named():
    with pytest.raises(ValueError, match="unknown router 'Magic'"):
        _dashboard(compare={"router": "Magic"})


def test_the_widget_shows_every_control():
    import ipywidgets as w
    dash = _dashboard(events=True)
    everything = []

    def walk(widget):
        everything.append(widget)
        for child in getattr(widget, "children", ()):
            walk(child)
    walk(dash.widget)
    assert dash.image in everything and dash.table in everything and dash.pin_button in everything
    labels = {b.description for b in everything if isinstance(b, w.Button)}
    assert {"Fail", "Drain", "Remove", "Recover", "Add an instance", "Clear events"} <= labels
    assert dash.event_controls["instance"] in everything and dash.event_controls["detect"] in everything
    stepper = sw.CookieStepper()
    assert isinstance(stepper.widget, w.VBox) and stepper.fail_button in stepper.widget.children[0].children


def test_requests_sent_before_the_failure_is_seen_fail():
    dash = _dashboard(events=[sl.Fail("i1", at=60.0)])
    assert dash.results["CookieInsert"].failed_requests() == 0
    dash.set_detect(6.0)
    res = dash.results["CookieInsert"]
    failed = res.times[res.failed]
    assert len(failed) > 0 and failed.min() >= 60.0 and failed.max() < 66.0


def test_numpy_numbers_are_accepted_where_numbers_are():
    dash = _dashboard(events=True)
    dash.fail_instance(at=np.int64(60), instance="i1")
    dash.set_detect(np.float32(3.0))
    assert dash.events() == [sl.Fail("i1", at=60.0, detect=3.0)]
    with pytest.raises(ValueError, match="at must be a time in \\[0, 120\\] seconds, got at='soon'"):
        dash.fail_instance(at="soon")
