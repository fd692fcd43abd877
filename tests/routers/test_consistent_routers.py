"""The consistent-hashing routers: by hand on a pool, and through the simulator with scaling and failure."""

import math

import numpy as np
import pytest

import stickylab as sl
from stickylab import hashing as H
from stickylab.routers import ConsistentHash

SC = sl.Scenario(users=1500, instances=4, duration=600.0, seed=11)   # no NAT, no mobile users
AT = 300.0


def instance_before_and_after(res, at):
    """Per user with requests on both sides of ``at``: instance of the last request before, first after."""
    users, inst, t = res.workload.users, res.instance, res.times
    served = inst >= 0
    before, after = served & (t < at), served & (t >= at)
    last = np.full(res.scenario.users, -1)
    last[users[before]] = inst[before]                       # times ascend: the last write wins
    first = np.full(res.scenario.users, -1)
    first[users[after][::-1]] = inst[after][::-1]
    both = (last >= 0) & (first >= 0)
    return last[both], first[both]


def binomial_tol(p, n, sigmas=5.0):
    return sigmas * math.sqrt(p * (1 - p) / n)


class Fixed(sl.Router):
    """A fallback that always answers the same instance and counts its calls."""

    def __init__(self, iid):
        self.iid, self.calls = iid, 0

    def route(self, request, pool):
        self.calls += 1
        return self.iid


# -- through the simulator -------------------------------------------------------------------------
def test_scale_out_moves_most_clients_with_source_hash_and_about_a_fifth_with_a_ring():
    """HAProxy balance source (map-based) moves 1 - 4/lcm(4,5) = 80% of clients going 4 -> 5;
    a ketama ring (nginx hash consistent, 160 points) moves only the new node's arc, about 1/5."""
    last, first = instance_before_and_after(sl.simulate(SC, sl.routers.SourceIPHash(),
                                                        events=[sl.ScaleOut(at=AT)]), AT)
    assert np.mean(last != first) == pytest.approx(0.8, abs=binomial_tol(0.8, len(last)))

    res = sl.simulate(SC, ConsistentHash("ring"), events=[sl.ScaleOut(at=AT)])
    last, first = instance_before_and_after(res, AT)
    moved = last != first
    assert set(first[moved].tolist()) == {4}                 # every mover went to the new i4
    arc = res.router.table.arc_shares()["i4"]
    assert moved.mean() == pytest.approx(arc, abs=binomial_tol(arc, len(last)))
    assert arc == pytest.approx(1 / 5, rel=4 / math.sqrt(160))


@pytest.mark.parametrize("scheme", ["rendezvous", "jump", "maglev"])
def test_scale_out_moves_about_one_in_n_plus_one_clients(scheme):
    """Rendezvous, jump (L&V) and Maglev: adding a 5th instance moves about 1/5 of clients."""
    res = sl.simulate(SC, ConsistentHash(scheme), events=[sl.ScaleOut(at=AT)])
    last, first = instance_before_and_after(res, AT)
    moved = last != first
    assert moved.mean() == pytest.approx(1 / 5, abs=binomial_tol(0.2, len(last)))
    if scheme != "maglev":                                    # Maglev also shuffles a few entries
        assert set(first[moved].tolist()) == {4}


@pytest.mark.parametrize("scheme", ["ring", "rendezvous", "jump", "maglev"])
def test_a_failure_moves_only_the_failed_instances_clients(scheme):
    """Consistent hashing: when i1 fails, clients of the other instances stay (Maglev: nearly all)."""
    res = sl.simulate(SC, ConsistentHash(scheme), events=[sl.Fail("i1", at=AT)])
    last, first = instance_before_and_after(res, AT)
    others = last != 1
    assert not np.any(first == 1)
    moved_others = np.mean(last[others] != first[others])
    if scheme == "maglev":
        assert moved_others < 0.02
    else:
        assert moved_others == 0.0
    assert len(set(first[~others].tolist())) == 3             # i1's clients spread over the rest


def test_recovery_brings_every_client_back():
    """A rebuilt table is a function of the pool alone: after i1 recovers, everyone is home again."""
    events = [sl.Fail("i1", at=200.0), sl.Recover("i1", at=400.0)]
    res = sl.simulate(SC, ConsistentHash("maglev"), events=events)
    before, _ = instance_before_and_after(res, 200.0)
    users, inst, t = res.workload.users, res.instance, res.times
    home = {}
    for u, i, when in zip(users.tolist(), inst.tolist(), t.tolist()):
        if when < 200.0:
            home[u] = i
        elif when >= 400.0 and u in home:
            assert i == home[u]
    assert len(before) > 500


def test_jump_scale_in_from_the_middle_renumbers():
    """L&V: jump buckets go only at the end; ScaleIn of i1 renumbers i2, i3 and moves their clients too."""
    res = sl.simulate(SC, ConsistentHash("jump"), events=[sl.ScaleIn("i1", at=AT)])
    last, first = instance_before_and_after(res, AT)
    assert np.mean(last[last != 1] != first[last != 1]) > 0.1


# -- by hand on a pool -----------------------------------------------------------------------------
def request(ip="203.0.113.9", headers=None, cookies=None):
    return sl.Request(ip, headers=headers, cookies=cookies)


@pytest.mark.parametrize("key, req, value", [
    ("src", request(), "203.0.113.9"),
    ("header:X-User-Id", request(headers={"x-user-id": "u7"}), "u7"),
    ("cookie:SESSION", request(cookies={"SESSION": "s1f"}), "s1f"),
])
def test_the_key_comes_from_the_address_a_header_or_a_cookie(key, req, value):
    pool = sl.Pool(healthy=["i0", "i1", "i2", "i3"])
    for scheme in H.SCHEMES:
        router = ConsistentHash(scheme, key)
        assert router.route(req, pool) == H.build(scheme, pool.healthy).lookup(value)


@pytest.mark.parametrize("key, req", [
    ("header:X-User-Id", request()), ("header:X-User-Id", request(headers={"X-User-Id": ""})),
    ("cookie:SESSION", request(cookies={"OTHER": "x"})),
])
def test_a_missing_key_goes_to_the_fallback(key, req):
    """nginx: an empty hash key is balanced round robin; here by the given fallback."""
    fallback = Fixed("i2")
    router = ConsistentHash("maglev", key, table_size=251, fallback=fallback)
    assert router.route(req, sl.Pool(healthy=["i0", "i1", "i2"])) == "i2"
    assert fallback.calls == 1


def test_the_table_follows_the_pool_version():
    pool = sl.Pool(healthy=["i0", "i1", "i2"])
    router = ConsistentHash("ring")
    ips = [f"198.51.100.{k}" for k in range(200)]
    first = [router.route(request(ip), pool) for ip in ips]
    pool.update(healthy=["i0", "i2"], members=["i0", "i1", "i2"])
    second = [router.route(request(ip), pool) for ip in ips]
    assert "i1" not in second
    assert all(a == b for a, b in zip(first, second) if a != "i1")
    with pytest.raises(sl.NoHealthyInstance):
        pool.update(healthy=[], members=["i0", "i1", "i2"])
        router.route(request(), pool)


@pytest.mark.parametrize("scheme", sorted(H.SCHEMES))
def test_a_new_pool_object_with_other_members_rebuilds_the_table(scheme):
    """Two Pool objects both at version 1: the membership, not the version, decides."""
    router = ConsistentHash(scheme)
    ips = [f"198.51.100.{k}" for k in range(200)]
    full = sl.Pool(healthy=["i0", "i1", "i2"])
    first = [router.route(request(ip), full) for ip in ips]
    assert "i1" in first
    down = sl.Pool(healthy=["i0", "i2"], members=["i0", "i1", "i2"])
    assert down.version == full.version
    second = [router.route(request(ip), down) for ip in ips]
    assert "i1" not in second
    if scheme in ("ring", "rendezvous", "jump", "bounded"):    # only i1's keys move
        assert all(a == b for a, b in zip(first, second) if a != "i1")


def test_an_equal_membership_in_a_new_pool_keeps_the_table():
    router = ConsistentHash("maglev", table_size=251)
    router.route(request(), sl.Pool(healthy=["i0", "i1", "i2"]))
    table = router.table
    for _ in range(3):      # a pool built per request, as grading helpers and steppers do
        router.route(request(), sl.Pool(healthy=["i0", "i1", "i2"]))
    assert router.table is table
    router.route(request(), sl.Pool(healthy=["i0", "i1"], draining=["i2"]))
    assert router.table is not table and router.table.nodes == ("i0", "i1")


def test_a_pool_changed_behind_the_routers_back_is_seen():
    """A membership tuple replaced without update() (the version unchanged) still rebuilds."""
    pool = sl.Pool(healthy=["i0", "i1", "i2"])
    router = ConsistentHash("ring")
    router.route(request(), pool)
    pool.healthy = ("i0", "i2")
    assert {router.route(request(f"198.51.100.{k}"), pool) for k in range(100)} == {"i0", "i2"}


def test_bounded_router_walks_past_an_instance_at_its_bound():
    """HAProxy hash-balance-factor: a full server is skipped for the next one on the ring."""
    ips = [f"198.51.100.{k}" for k in range(50)]
    idle = sl.Pool(healthy=["i0", "i1", "i2", "i3"])
    router = ConsistentHash("bounded", factor=1.25)
    home = {ip: router.route(request(ip), idle) for ip in ips}
    busy = sl.Pool(healthy=["i0", "i1", "i2", "i3"], load={"i0": 4})
    for ip in ips:
        there = router.route(request(ip), busy)
        assert there != "i0"
        assert there == home[ip] or home[ip] == "i0"


def test_presets_copy_the_real_defaults():
    pool = sl.Pool(healthy=["i0", "i1", "i2"])
    envoy = ConsistentHash.envoy_ring_hash()
    envoy.route(request(), pool)
    assert len(envoy.table.points) >= 1024                    # Envoy minimum_ring_size
    maglev = ConsistentHash.envoy_maglev()
    maglev.route(request(), pool)
    assert maglev.table.table_size == 65537
    nginx = ConsistentHash.nginx()
    nginx.route(request(), pool)
    assert len(nginx.table.points) == 160 * 3
    assert ConsistentHash.haproxy(factor=1.5).scheme == "bounded"


def test_registered_by_name():
    router = sl.routers.make("consistent_hash", scheme="jump", key="header:X-User-Id")
    assert isinstance(router, ConsistentHash) and router.scheme == "jump"
    assert "ConsistentHash" in sl.routers.names() and "ConsistentHash" in sl.routers.__all__


@pytest.mark.parametrize("options, error, named", [
    ({"scheme": "ketama"}, ValueError, "'ketama'"),
    ({"key": "ip"}, ValueError, "'ip'"),
    ({"key": "header:"}, ValueError, "'header:'"),
    ({"scheme": "bounded", "factor": 1.0}, ValueError, "factor=1.0"),
    ({"scheme": "maglev", "table_size": 1000}, ValueError, "table_size=1000"),
    ({"scheme": "ring", "vnodes": 0}, ValueError, "vnodes=0"),
    ({"scheme": "ring", "factor": 1.5}, TypeError, "factor"),
    ({"scheme": "maglev", "min_ring_size": 1024}, TypeError, "'maglev'"),
    ({"fallback": "round_robin"}, TypeError, "'round_robin'"),
])
def test_bad_options_are_refused_when_the_router_is_made(options, error, named):
    with pytest.raises(error, match=named):
        ConsistentHash(**options)
