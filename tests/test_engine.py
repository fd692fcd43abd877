"""The simulator end to end: the model's behaviour, failures, draining, scaling and bad routers."""

import numpy as np
import pytest

import stickylab as sl
from stickylab.metrics import LOST, NEEDED
from stickylab.routers import CookieInsert, RoundRobin, SourceIPHash, StickTable
from stickylab.workload import LOGIN


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
