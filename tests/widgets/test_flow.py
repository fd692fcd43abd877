"""The request-flow view's data, built from real runs: what the browser is sent and plays."""

import numpy as np
import pytest

import stickylab as sl
from stickylab import widgets as sw
from stickylab.widgets.flow_data import STATES, wire_bytes

SC = sl.Scenario(users=600, instances=4, duration=200.0, seed=5)


@pytest.fixture(scope="module")
def crash():
    return sl.simulate(SC, "CookieInsert", events=[sl.Fail("i0", at=100.0, detect=6.0)])


@pytest.fixture(scope="module")
def drain():
    return sl.simulate(SC, "CookieInsert", events=[sl.Drain("i1", at=80.0)])


def _state(frames, iid, t):
    k = frames.instance_ids.index(iid)
    return STATES[frames.state[k, np.searchsorted(frames.frame_times, t, side="right") - 1]]


def test_the_counters_match_the_result_whatever_the_sample(crash):
    frames = sw.flow_frames(crash, max_users=50)
    assert len(frames.users) == 50 < frames.users_total
    assert frames.requests[-1] == len(crash.times)
    assert frames.lost[-1] == crash.lost.sum() > 0
    assert frames.failed[-1] == crash.failed.sum() > 0
    # Counters only grow, and nothing is lost or fails before the crash.
    assert (np.diff(frames.lost) >= 0).all() and (np.diff(frames.requests) >= 0).all()
    before = frames.frame_times < 100.0
    assert frames.lost[before].max() == 0 and frames.failed[before].max() == 0


def test_a_failed_instance_s_window_is_marked_and_its_requests_fail_until_detected(crash):
    frames = sw.flow_frames(crash)
    assert _state(frames, "i0", 99.0) == "healthy" and _state(frames, "i0", 101.0) == "failed"
    assert _state(frames, "i1", 150.0) == "healthy"
    i0 = frames.instance_ids.index("i0")
    assert frames.time[frames.instance == i0].max() < 100.0        # nobody is served by a dead instance
    failed = (frames.flags & sl.trace.FAILED) != 0
    assert failed.any() and (frames.time[failed] >= 100.0).all() and (frames.time[failed] < 106.0).all()
    assert (frames.instance[failed] == -1).all()
    assert (frames.in_flight[i0, frames.frame_times > 100.0] == 0).all()
    assert frames.events == [(100.0, "i0 fails")]


def test_a_failure_s_users_are_re_pinned_elsewhere_and_logged_out_there(crash):
    frames = sw.flow_frames(crash)
    i0 = frames.instance_ids.index("i0")
    lost = (frames.flags & sl.trace.LOST) != 0
    failed = (frames.flags & sl.trace.FAILED) != 0       # sent to i0 before the balancer noticed
    assert lost.any()
    sent_to_i0 = set(frames.slot[(frames.instance == i0) | failed].tolist())
    assert set(frames.slot[lost].tolist()) <= sent_to_i0             # only i0's users are logged out
    assert (frames.instance[lost] >= 0).all() and not (frames.instance[lost] == i0).any()


def test_the_drained_instance_gets_no_new_users_and_empties(drain):
    frames = sw.flow_frames(drain)
    i1 = frames.instance_ids.index("i1")
    on_i1 = frames.instance == i1
    before, after = frames.time < 80.0, frames.time >= 80.0
    assert (on_i1 & after).any()                                     # its users finish their visits
    assert set(frames.slot[on_i1 & after].tolist()) <= set(frames.slot[on_i1 & before].tolist())
    assert _state(frames, "i1", 81.0) == "draining"
    at_drain = frames.recent[:, np.searchsorted(frames.frame_times, 80.0)]
    others = np.arange(len(frames.instance_ids)) != i1
    assert frames.recent[i1, -1] < at_drain[i1]                      # its users leave, none come ...
    assert (frames.recent[others, -1] > at_drain[others]).all()      # ... while the others gain users
    assert frames.recent[i1, -1] < frames.recent[others, -1].mean() / 2
    assert frames.lost[-1] == 0


def test_in_flight_is_what_had_arrived_and_was_not_yet_answered():
    res = sl.simulate(sl.Scenario(users=1500, instances=4, duration=300.0, seed=1, skew=1.2), "CookieInsert")
    frames = sw.flow_frames(res, frames=50)
    k, f = np.unravel_index(np.argmax(frames.in_flight), frames.in_flight.shape)
    t = frames.frame_times[f]
    mine = res.served & (res.instance == k)
    by_hand = int(((res.times[mine] <= t) & (res.times[mine] + res.latency[mine] > t)).sum())
    assert frames.in_flight[k, f] == by_hand
    assert frames.in_flight.max() > 5 * np.median(frames.in_flight.max(axis=1))   # one hot instance


def test_recent_users_are_the_distinct_users_each_instance_served_in_the_last_span(crash):
    frames = sw.flow_frames(crash, frames=40)
    for k in range(len(frames.instance_ids)):
        mine = crash.served & (crash.instance == k)
        for f, t in enumerate(frames.frame_times):
            window = mine & (crash.times > t - frames.recent_span) & (crash.times <= t)
            assert frames.recent[k, f] == np.unique(crash.users[window]).size, (k, t)


def test_a_window_and_the_budgets_bound_what_is_sent(crash):
    whole = sw.flow_frames(crash)
    part = sw.flow_frames(crash, window=(90.0, 120.0), max_dots=500, frames=60)
    assert part.start == 90.0 and part.end == 120.0
    assert ((part.time >= 90.0) & (part.time <= 120.0)).all() and 0 < len(part.time) <= 500
    inside = (crash.times >= 90.0) & (crash.times <= 120.0)
    assert part.requests[-1] == inside.sum() and part.lost[-1] == (crash.lost & inside).sum()
    wire = part.wire()
    assert wire_bytes(wire) == len(part.time) * 9 + 61 * (4 * 9 + 12)
    assert wire_bytes(wire) < wire_bytes(whole.wire()) / 5
    # Every dot of a sampled user is sent: a user's story is whole.
    shown = np.isin(crash.users, part.users) & inside
    assert shown.sum() == len(part.time)


def test_the_wire_holds_typed_arrays_the_browser_reads_back(crash):
    frames = sw.flow_frames(crash, max_users=80)
    wire = frames.wire()
    t = np.frombuffer(wire["dots"]["t"], dtype="<f4")
    assert np.allclose(t + frames.start, frames.time, atol=1e-3)
    assert (np.frombuffer(wire["dots"]["i"], dtype="<i2") == frames.instance).all()
    states = np.frombuffer(wire["series"]["state"], dtype="u1").reshape(len(frames.instance_ids), -1)
    assert (states == frames.state).all() and wire["states"] == list(STATES)


@pytest.mark.parametrize("bad, message", [
    ("a run", "got str 'a run'"),
    ({"requests": 3}, "got dict"),
])
def test_anything_but_a_result_is_refused_by_name(bad, message):
    with pytest.raises(TypeError, match=message):
        sw.flow_frames(bad)


def test_an_empty_run_is_refused_naming_it():
    empty = sl.simulate(sl.Scenario(users=1, instances=1, duration=1.0, seed=3), "RoundRobin")
    assert len(empty.times) == 0
    with pytest.raises(ValueError, match="has no requests: there is nothing to play"):
        sw.flow_frames(empty)
    with pytest.raises(ValueError, match="<Result RoundRobin: 0 requests"):
        sw.FlowView({"empty": empty})


@pytest.mark.parametrize("window", [(50.0, 10.0), (-1.0, 10.0), (0.0, 500.0), (0, float("nan")), "all", (1,)])
def test_a_bad_window_is_refused_naming_it(crash, window):
    with pytest.raises(ValueError, match="window"):
        sw.flow_frames(crash, window=window)


def test_a_window_without_requests_and_bad_budgets_are_refused(crash):
    with pytest.raises(ValueError, match="no request falls in window"):
        sw.flow_frames(crash, window=(0.0, 1e-9))
    for name, value in (("max_users", 0), ("max_dots", 2.5), ("frames", True)):
        with pytest.raises(ValueError, match=f"{name}={value!r}"):
            sw.flow_frames(crash, **{name: value})


def test_the_view_offers_runs_and_sends_the_chosen_one(crash, drain):
    view = sw.FlowView({"crash": crash, "drain": drain}, show="drain", max_users=100)
    assert view.names == ["crash", "drain"] and view.choice == "drain"
    assert view.run["events"] == [{"at": 80.0, "text": "i1 drains"}]
    view.time = 50.0
    view.choice = "crash"
    assert view.run["events"][0]["text"] == "i0 fails" and view.time == 0.0 and not view.playing
    assert 0 < view.sent_bytes < 200_000
    assert "export default" in view._esm and ".stickylab-flow" in view._css


def test_the_view_refuses_bad_runs_names_and_values(crash):
    with pytest.raises(TypeError, match="runs must be a Result"):
        sw.FlowView([crash])
    with pytest.raises(TypeError, match="got int 3"):
        sw.FlowView({"a": crash, "b": 3})
    with pytest.raises(ValueError, match="show='other'"):
        sw.FlowView(crash, show="other")
    view = sw.FlowView(crash)
    for name, value in (("choice", "nope"), ("speed", 7.0), ("time", 999.0)):
        with pytest.raises(Exception, match=f"{name}={value!r}"):
            setattr(view, name, value)
