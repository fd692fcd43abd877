"""The simulator end to end: the model's behaviour, failures, draining, scaling and bad routers."""

import os
import subprocess
import sys

import numpy as np
import pytest

import stickylab as sl
from stickylab import engine
from stickylab.app import App
from stickylab.metrics import LOST, NEEDED
from stickylab.routers import CookieInsert, LeastConnections, RoundRobin, SourceIPHash, StickTable
from stickylab.trace import split
from stickylab.workload import LOGIN, LOGOUT


def test_same_seed_same_result_and_a_new_seed_differs(small):
    events = [sl.Fail("i1", at=100.0), sl.Recover("i1", at=200.0)]
    a = sl.simulate(small, CookieInsert(), events=events)
    b = sl.simulate(small, CookieInsert(), events=events)
    assert np.array_equal(a.instance, b.instance) and np.array_equal(a.latency, b.latency)
    assert a.summary() == b.summary()
    assert a.summary() != sl.simulate(small.replace(seed=12), CookieInsert(), events=events).summary()


def test_the_router_passed_in_is_not_changed(small):
    router = StickTable()
    res = sl.simulate(small, router)
    assert len(router.table) == 0 and len(res.router.table) > 0


def test_stateless_routing_logs_users_out_and_sticky_routing_does_not(small):
    small = small.replace(cache_size=40)       # room for each instance's share of active users
    rr = sl.simulate(small, RoundRobin()).summary()
    sticky = sl.simulate(small, CookieInsert()).summary()
    # With 3 instances round robin lands a request where its session is not 2 times in 3.
    assert rr["session_loss_rate"] == pytest.approx(2 / 3, abs=0.03)
    assert sticky["session_loss_rate"] == 0.0
    assert sticky["cache_hit_rate"] > rr["cache_hit_rate"] + 0.3
    assert sticky["affinity"] > rr["affinity"]


def test_external_store_loses_nothing_even_with_round_robin_and_a_crash(small):
    ext = small.replace(session_store="external")
    res = sl.simulate(ext, RoundRobin(), events=[sl.Fail("i0", at=150.0)])
    mem = sl.simulate(small, RoundRobin())
    assert res.session_loss_rate() == 0.0 and res.failed_requests() == 0
    lat_ext, lat_mem = np.nanmedian(res.latency), np.nanmedian(mem.latency)
    assert lat_ext > lat_mem         # every request pays the store round trip


def test_a_crash_costs_exactly_the_sessions_it_held(small):
    res = sl.simulate(small, CookieInsert(), events=[sl.Fail("i1", at=150.0)])
    lost = (res.outcome & LOST) != 0
    assert res.failed_requests() == 0            # CookieInsert redispatches: nothing fails
    assert lost.sum() > 0 and np.all(res.times[lost] >= 150.0)
    # Every user who lost a session was on i1 before the crash.
    i1 = res.instance_ids.index("i1")
    before = res.times < 150.0
    on_i1 = set(res.workload.users[before & (res.instance == i1)].tolist())
    assert set(res.workload.users[lost].tolist()) <= on_i1
    assert np.all(res.instance[res.times >= 150.0] != i1)


def test_requests_sent_to_dead_or_unknown_instances_fail_and_are_not_fixed(small):
    class Stubborn(sl.Router):
        def route(self, request, pool):
            return "i1"

    res = sl.simulate(small, Stubborn(), events=[sl.Fail("i1", at=150.0)])
    failed = res.instance < 0
    assert failed.sum() == res.failed_requests() > 0 and np.all(res.times[failed] >= 150.0)

    class Lost(sl.Router):
        def route(self, request, pool):
            return "i7"

    assert sl.simulate(small, Lost()).failed_requests() == len(sl.generate(small))


def test_a_pool_with_nothing_healthy_fails_requests_instead_of_crashing(small):
    events = [sl.Fail(f"i{k}", at=100.0) for k in range(3)] + [sl.Recover("i0", at=200.0)]
    res = sl.simulate(small, CookieInsert(), events=events)
    down = (res.times >= 100.0) & (res.times < 200.0)
    assert np.all(res.instance[down] < 0) and np.all(res.instance[res.times >= 200.0] == 0)


class Raising(sl.Router):
    name = "my-router"

    def route(self, request, pool):
        if request.path == "/app":
            raise KeyError("no such user")
        return pool.healthy[0]


@pytest.mark.parametrize("router,match", [
    (Raising(), r"'my-router' raised KeyError: 'no such user' while routing Request\(client_ip="),
    (type("ReturnsNone", (sl.Router,), {"route": lambda self, r, p: None})(),
     r"'ReturnsNone' returned None, which is not an instance id.*Request\(client_ip="),
    (type("ReturnsIndex", (sl.Router,), {"route": lambda self, r, p: 0})(),
     r"returned 0, which is not an instance id"),
    (type("ReturnsList", (sl.Router,), {"route": lambda self, r, p: ["i0"]})(),
     r"returned \['i0'\]"),
])
def test_a_broken_router_is_reported_with_its_name_and_the_request(router, match, small):
    with pytest.raises(sl.RouterError, match=match):
        sl.simulate(small, router)


def test_on_response_errors_are_reported_too(small):
    class BadCookie(RoundRobin):
        def on_response(self, request, instance, response):
            response.set_cookie("bad name", "x")

    with pytest.raises(sl.RouterError, match=r"'BadCookie'.on_response raised ValueError"):
        sl.simulate(small, BadCookie())


def test_draining_keeps_sticky_users_and_takes_no_new_sessions(small):
    res = sl.simulate(small, CookieInsert(), events=[sl.Drain("i0", at=100.0)])
    after = res.times >= 100.0
    on_i0 = res.instance == 0
    logins = res.workload.kinds == LOGIN
    assert not np.any(after & on_i0 & logins)            # no new visit starts on i0
    assert np.any(after & on_i0)                         # but its users finish their visits
    assert res.session_loss_rate() == 0.0


def test_scale_out_leaves_the_new_instance_underloaded_under_stickiness():
    sc = sl.Scenario(users=600, instances=3, duration=900.0, away_time=600.0)
    sticky = sl.simulate(sc, CookieInsert.alb(), events=[sl.ScaleOut(at=300.0)])
    rr = sl.simulate(sc, RoundRobin(), events=[sl.ScaleOut(at=300.0)])
    tl_s, tl_r = sticky.timeline(bucket=300.0), rr.timeline(bucket=300.0)
    share = lambda tl: tl["load"][3, 1] / tl["load"][:, 1].sum()   # noqa: E731 - i3, 300-600 s
    assert share(tl_r) == pytest.approx(0.25, abs=0.02)   # round robin: a fair quarter at once
    assert share(tl_s) < 0.12                             # sticky: old users stay where they were


def test_cookie_droppers_defeat_cookie_affinity_but_not_ip_affinity(small):
    droppers = small.replace(cookie_drop_fraction=1.0)
    assert sl.simulate(droppers, CookieInsert()).session_loss_rate() > 0.5
    assert sl.simulate(droppers, SourceIPHash()).session_loss_rate() == 0.0


def test_mobile_address_changes_break_ip_affinity(small):
    still = sl.simulate(small, SourceIPHash()).session_loss_rate()
    moving = sl.simulate(small.replace(mobile_fraction=1.0, ip_change_interval=30.0),
                         SourceIPHash()).session_loss_rate()
    assert still == 0.0 and moving > 0.05
    assert sl.simulate(small.replace(mobile_fraction=1.0, ip_change_interval=30.0),
                       CookieInsert()).session_loss_rate() == 0.0


def test_nat_piles_users_onto_one_instance_under_ip_hash():
    sc = sl.Scenario(users=1000, instances=4, duration=300.0)
    spread = sl.simulate(sc, SourceIPHash()).load_cov()
    natted = sl.simulate(sc.replace(nat_fraction=0.6, users_per_nat=150), SourceIPHash()).load_cov()
    assert natted > 2 * spread


def test_heavy_users_unbalance_sticky_load_as_balls_into_bins_predicts():
    """With user weights w, load CoV over n servers is about sqrt((n - 1) / U_eff),
    U_eff = (sum w)^2 / sum w^2 (REFERENCE.md, balls into bins with weights)."""
    n, measured, predicted = 8, [], []
    for seed in range(6):
        sc = sl.Scenario(users=400, instances=n, duration=300.0, skew=1.1, seed=seed,
                         capacity=1000.0)
        res = sl.simulate(sc, SourceIPHash())
        w = np.bincount(res.workload.users, minlength=sc.users).astype(float)
        predicted.append(np.sqrt((n - 1) / (w.sum() ** 2 / (w ** 2).sum())))
        measured.append(res.load_cov())
    assert np.mean(measured) == pytest.approx(np.mean(predicted), rel=0.3)


def test_hot_instance_shows_in_latency():
    sc = sl.Scenario(users=600, instances=3, duration=300.0, nat_fraction=0.5, users_per_nat=300,
                     capacity=20.0)
    hot = sl.simulate(sc, SourceIPHash())
    even = sl.simulate(sc.replace(nat_fraction=0.0), SourceIPHash())
    assert hot.p99_latency() > 2 * even.p99_latency()


def test_login_requests_never_count_as_needing_a_session(small):
    res = sl.simulate(small, RoundRobin())
    logins = res.workload.kinds == LOGIN
    assert not np.any((res.outcome[logins] & NEEDED) != 0)
    assert np.all((res.outcome[~logins] & NEEDED) != 0)


def test_recovering_a_draining_instance_keeps_its_sessions(small):
    res = sl.simulate(small, CookieInsert(), events=[sl.Drain("i0", at=100.0), sl.Recover("i0", at=120.0)])
    assert res.session_loss_rate() == 0.0
    late_logins = (res.times >= 120.0) & (res.workload.kinds == LOGIN)
    assert np.any(late_logins & (res.instance == 0))       # takes new visits again


def test_scale_in_terminates_an_instance_for_good(small):
    res = sl.simulate(small, StickTable(), events=[sl.ScaleIn("i2", at=100.0)])
    late = res.times >= 100.0
    assert not np.any(res.instance[late] == 2) and res.failed_requests() == 0
    lost = (res.outcome & LOST) != 0
    assert lost.sum() > 0 and np.all(res.times[lost] >= 100.0)


# -- requests are read-only for routers ---------------------------------------------------------
class Remembers(RoundRobin):
    """Tries to "remember" its pick by writing to request.cookies (instead of Set-Cookie)."""

    def __init__(self):
        super().__init__()
        self.arrived_with = 0       # requests that came carrying an LB cookie nobody set

    def route(self, request, pool):
        self.arrived_with += "LB" in request.cookies
        iid = super().route(request, pool)
        try:
            request.cookies["LB"] = iid
        except TypeError:
            pass
        return iid


def test_a_routers_write_to_request_cookies_never_reaches_another_request(small):
    """No response ever sets LB, so no request may carry it (one shared jar once leaked it to all)."""
    res = sl.simulate(small, Remembers())
    assert res.router.arrived_with == 0


def test_a_router_writing_request_cookies_is_told_they_are_read_only(small):
    class Writes(RoundRobin):
        def route(self, request, pool):
            request.cookies["LB"] = "i0"
            return "i0"

    with pytest.raises(sl.RouterError, match=r"raised TypeError: request cookies are read-only.*set_cookie"):
        sl.simulate(small, Writes())


# -- sessions time out and are purged -----------------------------------------------------------
def test_an_idle_session_times_out_even_on_a_single_instance():
    """With one instance nothing is lost to routing: a request loses its session exactly when its
    user was idle longer than session_timeout since the previous request of the visit."""
    sc = sl.Scenario(users=60, instances=1, duration=1500.0, think_time=40.0, session_timeout=45.0,
                     requests_per_session=6, away_time=200.0, seed=3)
    res = sl.simulate(sc, RoundRobin())
    seen: dict[int, float | None] = {}       # user -> when the session was last used, None if none
    expected = []
    for t, u, kind in zip(res.times.tolist(), res.users.tolist(), res.workload.kinds.tolist()):
        last = seen.get(u)
        alive = kind != LOGIN and last is not None and t - last <= sc.session_timeout
        expected.append(kind != LOGIN and not alive)
        seen[u] = None if kind == LOGOUT else t
    expected = np.array(expected)
    assert np.array_equal(res.lost, expected) and 0 < expected.sum() < len(expected) / 2
    assert res.failed_requests() == 0


def test_expired_sessions_are_purged_while_the_run_goes_on(monkeypatch):
    """Round robin logs users in again at nearly every request: without purging, abandoned
    sessions would pile up on every instance for the whole run."""
    calls = []
    tidy = App.tidy
    monkeypatch.setattr(App, "tidy", lambda app, now: calls.append(now) or tidy(app, now))
    sc = sl.Scenario(users=400, instances=2, duration=900.0, session_timeout=30.0, seed=4)
    wl = sl.generate(sc)
    run = engine._Run(sc, RoundRobin(), [], wl.keeps_cookies.tolist())
    codes, _ = engine._loop(run, wl)
    _, outcome = split(codes)
    started = int(np.sum((outcome & NEEDED == 0) | (outcome & LOST != 0)))   # logins and logins again
    held = [len(s.app.sessions) for s in run.servers]
    assert len(calls) >= 2 * (900 // 60 - 1) and np.all(np.diff(calls[::2]) >= 60.0)
    assert started > 8000 and sum(held) < started / 4


def test_cookies_with_max_age_outlive_the_visit_and_expire_on_time():
    sc = sl.Scenario(users=200, instances=4, duration=1200.0, think_time=20.0, requests_per_session=8,
                     away_time=120.0, seed=5)
    lasting = sl.simulate(sc, CookieInsert(max_age=100_000))
    per_visit = sl.simulate(sc, CookieInsert())
    assert lasting.affinity() == 1.0 and per_visit.affinity() < 0.8    # the cookie brings users back
    assert per_visit.session_loss_rate() == 0.0
    # A 30 s cookie, set once and not refreshed, is gone mid-visit: the user is balanced anew.
    assert sl.simulate(sc, CookieInsert(max_age=30)).session_loss_rate() > 0.1


# -- the load LeastConnections reads --------------------------------------------------------------
class CountsLoad(LeastConnections):
    """Least connections that records, per request, the load it read for every instance."""

    def __init__(self):
        super().__init__()
        self.loads = []

    def route(self, request, pool):
        self.loads.append([pool.load(iid) for iid in pool.ids])
        return super().route(request, pool)


def test_least_connections_reads_the_requests_in_flight_and_picks_the_fewest():
    sc = sl.Scenario(users=300, instances=3, duration=300.0, capacity=2.0, seed=6)
    res = sl.simulate(sc, CountsLoad())
    loads = np.array(res.router.loads)
    # Each served request left its instance at arrival + latency (less a cache miss's warm-up).
    done = res.times + res.latency - np.where(res.hit, 0.0, sc.miss_penalty)
    for k in range(0, len(loads), 7):
        earlier = slice(0, k)
        in_flight = [np.sum((res.instance[earlier] == i) & (done[earlier] > res.times[k] + 1e-9))
                     for i in range(sc.instances)]
        assert loads[k].tolist() == in_flight
    assert loads.max() > 3 and np.all(loads[np.arange(len(loads)), res.instance] == loads.min(axis=1))


def test_a_run_is_the_same_in_every_process_whatever_the_hash_seed():
    code = (
        "import hashlib, stickylab as sl\n"
        "sc = sl.Scenario(users=400, instances=4, duration=300.0, seed=9, nat_fraction=0.3,\n"
        "                 mobile_fraction=0.2)\n"
        "events = [sl.Fail('i1', at=100.0, detect=4.0), sl.ScaleOut(at=150.0), sl.Drain('i2', at=200.0)]\n"
        "for router in ('CookieInsert', 'SourceIPHash', 'LeastConnections', 'ConsistentHash',\n"
        "               'StickTable'):\n"
        "    res = sl.simulate(sc, router, events)\n"
        "    print(router, hashlib.sha256(res.instance.tobytes() + res.outcome.tobytes()).hexdigest())\n")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(outs) == 1, outs
