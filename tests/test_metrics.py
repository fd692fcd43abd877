"""Each metric on a tiny hand-made trace whose answer can be worked out by hand."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

import stickylab as sl
from stickylab.metrics import FAILED, HIT, LOST, NEEDED


def tiny():
    """Six requests, three users, two instances (i0, i1) plus i2 that served nothing.

    req  user  instance  flags              latency
    0    0     i0        login, miss        0.10
    1    0     i0        needed, hit        0.02
    2    1     i1        login, miss        0.30
    3    1     i0        needed, lost, miss 0.20
    4    2     failed    needed             nan
    5    0     i1        needed, lost, miss 0.40
    """
    workload = SimpleNamespace(users=np.array([0, 0, 1, 1, 2, 0]),
                               times=np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0]))
    return sl.Result(
        scenario=SimpleNamespace(users=3, duration=6.0), router=sl.routers.RoundRobin(), events=[],
        workload=workload, instance_ids=["i0", "i1", "i2"],
        instance=np.array([0, 0, 1, 0, -1, 1]),
        latency=np.array([0.10, 0.02, 0.30, 0.20, np.nan, 0.40]),
        outcome=np.array([0, NEEDED | HIT, 0, NEEDED | LOST, NEEDED | FAILED, NEEDED | LOST]))


def test_session_loss_rate_counts_served_requests_that_needed_a_session():
    assert tiny().session_loss_rate() == pytest.approx(2 / 3)   # requests 1, 3, 5 needed; 3, 5 lost


def test_cache_hit_rate_over_served_requests():
    assert tiny().cache_hit_rate() == pytest.approx(1 / 5)


def test_failed_requests():
    assert tiny().failed_requests() == 1


def test_per_request_masks():
    res = tiny()
    assert res.lost.tolist() == [False, False, False, True, False, True]
    assert res.failed.tolist() == [False, False, False, False, True, False]
    assert res.needed.sum() == 4 and res.hit.sum() == 1 and res.served.sum() == 5


def test_load_metrics_include_idle_instances():
    res = tiny()
    assert res.per_instance_requests() == {"i0": 3, "i1": 2, "i2": 0}
    assert res.max_mean_load() == pytest.approx(3 / (5 / 3))
    assert res.load_cov() == pytest.approx(np.std([3, 2, 0]) / (5 / 3))


def test_affinity_is_the_mean_share_of_each_users_top_instance():
    # user 0: i0 twice, i1 once -> 2/3; user 1: one each -> 1/2; user 2 was never served.
    res = tiny()
    assert sorted(res.affinity_per_user()) == pytest.approx([1 / 2, 2 / 3])
    assert res.affinity() == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_p99_latency_interpolates_served_latencies():
    assert tiny().p99_latency() == pytest.approx(np.percentile([0.10, 0.02, 0.30, 0.20, 0.40], 99))


def test_summary_has_every_headline_metric():
    s = tiny().summary()
    assert set(s) == {"requests", "session_loss_rate", "cache_hit_rate", "failed_requests",
                      "max_mean_load", "load_cov", "affinity", "p99_latency"}
    assert s["requests"] == 6


def test_timeline_buckets_the_trace():
    tl = tiny().timeline(bucket=2.0)
    assert tl["start"].tolist() == [0.0, 2.0, 4.0]
    assert tl["requests"].tolist() == [2, 2, 2]
    assert tl["lost"].tolist() == [0, 1, 1] and tl["failed"].tolist() == [0, 0, 1]
    assert tl["load"].tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 0]]
    assert tl["hit_rate"][0] == pytest.approx(0.5) and math.isclose(tl["p99_latency"][2], 0.40)
    with pytest.raises(ValueError, match="bucket"):
        tiny().timeline(bucket=0)


@pytest.mark.parametrize("bucket", [1e-7, 6.0 / 200_000, 5e-324])
def test_timeline_refuses_more_buckets_than_it_can_hold_saying_how_many(bucket):
    """timeline(bucket=1e-7) on a 600 s run used to allocate billions of buckets and die."""
    with pytest.raises(ValueError, match=r"would make ([\d,]+|inf) buckets .*use bucket >= "):
        tiny().timeline(bucket=bucket)
    for bad in (float("inf"), float("nan"), -1.0, True, "2"):
        with pytest.raises(ValueError, match="bucket"):
            tiny().timeline(bucket=bad)
    assert len(tiny().timeline(bucket=np.float32(2.0))["start"]) == 3


def test_affinity_without_a_users_by_instances_grid_gives_the_same_shares(monkeypatch):
    """Past a grid's size (many users times many instances) affinity counts the pairs that occur."""
    res = sl.simulate(sl.Scenario(users=300, instances=3, duration=300.0, seed=11), "RoundRobin")
    dense = res.affinity_per_user()
    monkeypatch.setattr(sl.metrics, "_DENSE_CELLS", 0)
    sparse = res.affinity_per_user()
    assert sparse.tolist() == dense.tolist() and len(dense) > 100
    assert tiny().affinity_per_user().tolist() == pytest.approx([2 / 3, 1 / 2])


def test_users_logged_out_counts_people_not_requests():
    sc = sl.Scenario(users=300, instances=3, duration=300.0, seed=4)
    res = sl.simulate(sc, "round_robin")
    lost_requests = int((res.lost & res.served).sum())
    users = res.users_logged_out()
    assert 0 < users < lost_requests         # round robin logs each user out many times
    assert users == len(set(res.users[res.lost].tolist()))
    assert sl.simulate(sc, sl.routers.CookieInsert()).users_logged_out() == 0


def two_visits():
    """Two users, six requests, t = 0..5: user 0 one visit on i0, user 1 two visits on i1.

    req  user  kind    instance
    0    0     login   i0
    1    1     login   i1
    2    0     normal  i0
    3    1     logout  i1
    4    0     normal  i0
    5    1     login   i1
    """
    from stickylab.workload import LOGIN, LOGOUT, NORMAL
    workload = SimpleNamespace(users=np.array([0, 1, 0, 1, 0, 1]), times=np.arange(6.0),
                               kinds=np.array([LOGIN, LOGIN, NORMAL, LOGOUT, NORMAL, LOGIN]))
    return sl.Result(
        scenario=SimpleNamespace(users=2, duration=6.0, cache_size=1), router=sl.routers.RoundRobin(),
        events=[], workload=workload, instance_ids=["i0", "i1"], instance=np.array([0, 1, 0, 1, 0, 1]),
        latency=np.full(6, 0.01), outcome=np.zeros(6, dtype=np.int64))


def test_visits_number_each_users_visits_in_turn():
    assert two_visits().visits().tolist() == [0, 1, 0, 1, 0, 2]


def test_work_in_progress_counts_visits_cut_at_that_instance_and_the_requests_they_made():
    res = two_visits()
    assert res.work_in_progress(2.5, "i0") == (1, 2)     # user 0's visit: requests 0 and 2, then 4
    assert res.work_in_progress(2.5, "i1") == (1, 1)     # user 1's first visit: request 1, then 3
    assert res.work_in_progress(3.5, "i1") == (0, 0)     # that visit ended; the next starts after
    with pytest.raises(ValueError, match="'i7'"):
        res.work_in_progress(1.0, "i7")


def test_shared_cache_hits_follow_the_users_not_the_routing():
    res = two_visits()
    assert res.shared_cache_hit_rate(size=1) == 0.0            # users alternate: 0 1 0 1 0 1
    assert res.shared_cache_hit_rate() == pytest.approx(4 / 6)  # 2 instances x 1 user pooled
    with pytest.raises(ValueError, match="size=0"):
        res.shared_cache_hit_rate(size=0)
    sc = sl.Scenario(users=300, instances=3, duration=120.0, seed=4, session_store="external")
    rr, sticky = sl.simulate(sc, "RoundRobin"), sl.simulate(sc, "CookieInsert")
    assert rr.shared_cache_hit_rate() == sticky.shared_cache_hit_rate() > rr.cache_hit_rate()
