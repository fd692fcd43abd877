"""Each router against what the real load balancer it copies does (see REFERENCE.md)."""

import os
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stickylab as sl
from stickylab.browser import Browser
from stickylab.routers import (AppCookieLearn, CookieInsert, HeaderHash, LeastConnections, Random,
                               RoundRobin, SourceIPHash, StickTable, nginx_ip_hash)

from conftest import pool_of, request

POOL4 = ("i0", "i1", "i2", "i3")


# -- stateless routers -------------------------------------------------------------------------
def test_round_robin_cycles_over_healthy_only():
    rr = RoundRobin()
    picks = [rr.route(request(), pool_of("i0", "i2", draining=["i1"], members=POOL4[:3]))
             for _ in range(4)]
    assert picks == ["i0", "i2", "i0", "i2"]


def test_routers_raise_no_healthy_instance_on_an_empty_pool():
    for router in (RoundRobin(), Random(), LeastConnections(), SourceIPHash(), CookieInsert(),
                   StickTable(), HeaderHash()):
        with pytest.raises(sl.NoHealthyInstance):
            router.route(request(headers={"x-user-id": "u1"}), sl.Pool())


def test_random_is_seeded_and_covers_the_pool():
    r1, r2 = Random(seed=3), Random(seed=3)
    seq1 = [r1.route(request(), pool_of(*POOL4)) for _ in range(200)]
    seq2 = [r2.route(request(), pool_of(*POOL4)) for _ in range(200)]
    assert seq1 == seq2
    assert seq1 != [Random(seed=4).route(request(), pool_of(*POOL4)) for _ in range(200)]
    assert set(seq1) == set(POOL4) and max(Counter(seq1).values()) < 80


def test_least_connections_prefers_least_loaded_and_round_robins_ties():
    loads = {"i0": 5, "i1": 0, "i2": 0, "i3": 2}
    pool = sl.Pool(healthy=POOL4, load=loads)
    lc = LeastConnections()
    assert [lc.route(request(), pool) for _ in range(4)] == ["i1", "i2", "i1", "i2"]


# -- source IP ------------------------------------------------------------------------------------
def test_nginx_ip_hash_matches_hand_computed_arithmetic():
    # 1.2.3.4: h = 89; (89*113 + 1) % 6271 = 3787; (3787*113 + 2) % 6271 = 1505;
    # (1505*113 + 3) % 6271 = 751; 751 % 4 = 3.
    assert nginx_ip_hash("1.2.3.4", 4) == (3, 751)
    # A retry feeds the octets in again from 751: 3341, 1275, 6116; 6116 % 4 = 0.
    assert nginx_ip_hash("1.2.3.4", 4, tries=1) == (0, 6116)


def test_nginx_mode_keeps_a_whole_slash_24_together_and_rehashes_past_dead_peers():
    router = SourceIPHash(prefix24=True)
    pool = pool_of(*POOL4)
    assert {router.route(request(ip=f"1.2.3.{k}"), pool) for k in range(256)} == {"i3"}
    # i3 down (still a configured member): nginx rehashes from the same state -> i0.
    assert router.route(request(ip="1.2.3.4"), pool_of("i0", "i1", "i2", members=POOL4)) == "i0"
    with pytest.raises(ValueError, match="'not-an-address'"):
        router.route(request(ip="not-an-address"), pool)


def by_hand(data: bytes, servers: int) -> int:
    h = 89
    for byte in data:
        h = (h * 113 + byte) % 6271
    return h % servers


@pytest.mark.parametrize("ip, data", [
    ("2001:db8::1", bytes.fromhex("20010db8000000000000000000000001")),     # IPv6: all 16 bytes
    ("::1", bytes(15) + b"\x01"),
    ("::ffff:1.2.3.4", bytes(10) + b"\xff\xff\x01\x02\x03\x04"),          # still an IPv6 address to ip_hash
    ("1.2.3.4:5678", b"\x01\x02\x03"),                                      # the port is dropped
    ("[2001:db8::1]:443", bytes.fromhex("20010db8000000000000000000000001")),
])
def test_nginx_ip_hash_takes_ipv6_and_addresses_with_a_port(ip, data):
    """nginx ip_hash: three octets of IPv4, the whole 16 bytes of IPv6 (mapped ones included)."""
    for servers in (2, 3, 4, 7):
        assert nginx_ip_hash(ip, servers)[0] == by_hand(data, servers)
    router, pool = SourceIPHash(prefix24=True), pool_of(*POOL4)
    assert router.route(request(ip=ip), pool) == POOL4[by_hand(data, 4)]


def test_whole_address_hash_is_map_based_so_a_failure_moves_most_clients():
    router = SourceIPHash()
    ips = [f"10.{k // 256}.{k % 256}.9" for k in range(2000)]
    before = [router.route(request(ip=ip), pool_of(*POOL4)) for ip in ips]
    after = [router.route(request(ip=ip), pool_of("i0", "i1", "i2")) for ip in ips]
    moved = sum(b != a for b, a in zip(before, after)) / len(ips)
    # HAProxy map-based hash over 4 -> 3 servers moves 1 - 3/lcm(4, 3) = 75% of clients.
    assert 0.70 < moved < 0.80
    assert all(a == b for a, b in zip(before, [router.route(request(ip=ip), pool_of(*POOL4))
                                              for ip in ips]))


def test_ip_hash_is_stable_across_processes_with_different_hash_seeds():
    code = ("import stickylab as sl; from stickylab.routers import SourceIPHash; r = SourceIPHash();"
            "p = sl.Pool(healthy=['i0','i1','i2','i3','i4']);"
            "print(','.join(r.route(sl.Request(f'198.51.{k}.{k}', {}, {}, '/', 0), p) "
            "for k in range(40)))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1


# -- cookie insert --------------------------------------------------------------------------------
def test_cookie_insert_sets_cookie_once_then_follows_it():
    router, client, pool = CookieInsert(), Browser(), pool_of(*POOL4)
    first, resp = client.send(router, pool)
    value = resp.cookie("SERVERID").value
    assert first not in value and "i0" not in value and len(value) >= 16
    for t in range(1, 6):
        iid, resp = client.send(router, pool, time=t)
        assert iid == first and resp.cookie("SERVERID") is None  # not set again


@pytest.mark.parametrize("garbage", ["", "x", "i1", "0" * 16, "\u00e9\u00e9", "a.b.c.d", "%00"])
def test_cookie_insert_repicks_and_rewrites_garbage_cookies(garbage):
    router, pool = CookieInsert(), pool_of(*POOL4)
    client = Browser()
    client.jar["SERVERID"] = garbage
    iid, resp = client.send(router, pool)
    assert iid in POOL4 and resp.cookie("SERVERID") is not None
    assert resp.cookie("SERVERID").value != garbage


def test_cookie_insert_rejects_tampered_and_foreign_cookies():
    router, pool = CookieInsert(secret=b"first-test-secret"), pool_of(*POOL4)
    client = Browser()
    home, resp = client.send(router, pool)
    good = resp.cookie("SERVERID").value
    tampered = good[:-1] + ("0" if good[-1] != "0" else "1")
    foreign = CookieInsert(secret=b"second-test-secret").encode(home)
    for value in (tampered, foreign):
        client.jar["SERVERID"] = value
        _, resp = client.send(router, pool)
        assert resp.cookie("SERVERID") is not None and resp.cookie("SERVERID").value != value


def test_cookie_insert_redispatches_a_dead_instance_unless_persist():
    router, client = CookieInsert(), Browser()
    home, _ = client.send(router, pool_of(*POOL4))
    rest = [i for i in POOL4 if i != home]
    new, resp = client.send(router, pool_of(*rest, members=POOL4))
    assert new != home and resp.cookie("SERVERID") is not None
    assert client.send(router, pool_of(*rest, members=POOL4))[0] == new     # sticks to the new one
    stubborn, c2 = CookieInsert(persist=True), Browser()
    home2, _ = c2.send(stubborn, pool_of(*POOL4))
    assert stubborn.route(c2.request("/", 1), pool_of(
        *[i for i in POOL4 if i != home2])) == home2


def test_cookie_insert_keeps_users_of_a_draining_instance():
    router, client = CookieInsert(), Browser()
    home, _ = client.send(router, pool_of(*POOL4))
    draining = pool_of(*[i for i in POOL4 if i != home], draining=[home], members=POOL4)
    assert client.send(router, draining)[0] == home
    picks = {Browser(f"198.51.100.{k}").send(router, draining)[0] for k in range(12)}
    assert home not in picks


def test_cookie_insert_max_idle_slides_and_max_life_does_not():
    pool = pool_of(*POOL4)
    sliding, c = CookieInsert(max_idle=100), Browser()
    home, _ = c.send(sliding, pool, time=0)
    for t in (90, 180, 270):          # each visit inside the idle window refreshes it
        iid, resp = c.send(sliding, pool, time=t)
        assert iid == home and resp.cookie("SERVERID") is not None
    stale = c.jar["SERVERID"]
    assert sliding.decode(stale, 270 + 100) is not None and sliding.decode(stale, 270 + 101) is None
    absolute, c2 = CookieInsert(max_life=100), Browser()
    c2.send(absolute, pool, time=0)
    for t in (40, 80):
        _, resp = c2.send(absolute, pool, time=t)
        assert resp.cookie("SERVERID") is None          # absolute expiry: nothing to refresh
    assert absolute.decode(c2.jar["SERVERID"], 101) is None  # dead at 100 s despite activity


def test_alb_preset_follows_aws_limits():
    alb = CookieInsert.alb()
    assert (alb.cookie, alb.max_idle, alb.max_age) == ("AWSALB", 86400, 86400)
    with pytest.raises(ValueError, match="duration"):
        CookieInsert.alb(duration=8 * 86400)


@pytest.mark.parametrize("kwargs,error", [
    ({"max_idle": 0}, ValueError), ({"max_life": -5}, ValueError), ({"max_idle": 0.5}, ValueError),
    ({"name": "a b"}, ValueError), ({"balance": "RoundRobin"}, TypeError), ({"max_age": "1d"}, ValueError),
    ({"max_life": float("inf")}, ValueError), ({"same_site": "Lax\r\nX-Evil: 1"}, ValueError),
    ({"max_age": 0.5}, ValueError), ({"max_age": 0}, ValueError),
])
def test_cookie_insert_rejects_bad_options(kwargs, error):
    with pytest.raises(error) as err:
        CookieInsert(**kwargs)
    assert repr(next(iter(kwargs.values()))) in str(err.value)


def test_cookie_insert_learns_the_members_of_each_new_pool_object():
    """Two balancers sharing a secret read each other's cookies, whichever Pool object comes in."""
    secret = b"shared-balancer-secret"
    issued = CookieInsert(secret=secret).encode("i5")
    router = CookieInsert(secret=secret)
    router.route(request(), pool_of(*POOL4))
    wider = pool_of(*POOL4, "i4", "i5")
    assert wider.version == 1
    assert router.route(request(cookies={"SERVERID": issued}), wider) == "i5"


def test_cookie_insert_max_age_under_a_second_is_refused_as_it_would_delete_the_cookie():
    with pytest.raises(ValueError, match="Max-Age=0 deletes"):
        CookieInsert(max_age=0.5)
    pool, client = pool_of(*POOL4), Browser()
    _, resp = client.send(CookieInsert(max_age=1.5), pool)
    assert "Max-Age=2" in resp.cookie("SERVERID").header()


@pytest.mark.parametrize("secret, error, named", [
    (b"", ValueError, "got 0 bytes"), (b"k", ValueError, "got 1 bytes"),
    (b"fifteen-bytes!!", ValueError, "got 15 bytes"), ("a text secret", TypeError, "got str"),
])
def test_cookie_insert_needs_a_signing_secret_of_16_bytes_and_never_echoes_it(secret, error, named):
    with pytest.raises(error, match=named) as err:
        CookieInsert(secret=secret)
    assert str(secret) not in str(err.value) and repr(secret) not in str(err.value)
    assert CookieInsert(secret=b"sixteen-bytes!!!").encode("i0")


@pytest.mark.parametrize("garbage", ["\u00e9", "\u00e9\u2202\u0192.1.2.sig", "a.b.c.\u00e9", "\udcff.1.2.sig",
                                     "x" * 4096, "", "....", "1.2.3"])
def test_dated_cookie_insert_re_picks_any_garbage_cookie_instead_of_crashing(garbage):
    """AWS ALB and HAProxy re-pick and rewrite a cookie they cannot read; a crash would abort a run."""
    router, pool = CookieInsert.alb(), pool_of(*POOL4)
    assert router.decode(garbage, 0.0) is None
    client = Browser()
    client.jar["AWSALB"] = garbage
    iid, resp = client.send(router, pool, time=5.0)
    assert iid in POOL4 and resp.cookie("AWSALB").value == router.encode(iid, 5.0, 5.0)
    assert client.send(router, pool, time=6.0)[0] == iid


def test_cookie_insert_numpy_numbers_are_accepted():
    router = CookieInsert(max_idle=np.int64(60), max_life=np.float32(600), max_age=np.int64(60))
    assert router.decode(router.encode("i0", 0, 0), np.int64(30)) == ("i0", 0.0)
    table = StickTable(size=np.int64(10), expire=np.int64(60))
    assert table.table.size == 10 and type(table.table.size) is int
    numpy_seeded, seeded = Random(seed=np.int64(3)), Random(seed=3)
    assert ([numpy_seeded.route(request(), pool_of(*POOL4)) for _ in range(20)]
            == [seeded.route(request(), pool_of(*POOL4)) for _ in range(20)])


@pytest.mark.parametrize("kwargs", [{"expire": "30"}, {"expire": True}, {"expire": 0}, {"size": -1}])
def test_tables_reject_bad_sizes_and_expiries(kwargs):
    with pytest.raises(ValueError) as err:
        StickTable(**kwargs)
    assert repr(next(iter(kwargs.values()))) in str(err.value)


# -- app cookie learn ---------------------------------------------------------------------------
def test_app_cookie_learn_follows_the_application_session_cookie():
    router, pool, apps = AppCookieLearn(timeout=600), pool_of(*POOL4), sl.Apps()
    client = Browser()
    home, response = client.send(router, pool, apps, time=0)
    token = client.jar["SESSION"]
    assert response.cookie("SESSION").value == token
    assert all(client.send(router, pool, apps, time=t)[0] == home for t in (10, 300, 890))
    # idle more than 10 minutes: forgotten, the client is balanced again
    assert router.table.lookup(token, 890 + 601) is None
    dead = pool_of(*[i for i in POOL4 if i != home], members=POOL4)
    assert AppCookieLearn().route(request(cookies={"SESSION": "zzz"}), dead) in dead.healthy


def test_app_cookie_learn_forgets_a_deleted_session_cookie():
    router, pool, client, apps = AppCookieLearn(), pool_of(*POOL4), Browser(), sl.Apps()
    client.send(router, pool, apps)
    token = client.jar["SESSION"]
    client.send(router, pool, apps, path="/logout", time=1)
    assert token not in router.table and "SESSION" not in client.jar


# -- header hash ---------------------------------------------------------------------------------
def test_header_hash_uses_the_header_and_falls_back_without_it():
    router, pool = HeaderHash("X-User-Id", fallback=RoundRobin()), pool_of(*POOL4)
    picks = {router.route(request(headers={"x-user-id": "u42"}), pool) for _ in range(10)}
    assert len(picks) == 1
    fallback = [router.route(request(), pool) for _ in range(4)]
    assert fallback == list(POOL4)
    spread = Counter(router.route(request(headers={"X-USER-ID": f"u{k}"}), pool) for k in range(400))
    assert set(spread) == set(POOL4) and min(spread.values()) > 60


# -- stick table -------------------------------------------------------------------------------------
def test_stick_table_sticks_expires_and_evicts_oldest():
    router, pool = StickTable(size=3, expire=100), pool_of(*POOL4)
    first = router.route(request(ip="1.1.1.1", t=0), pool)
    assert router.route(request(ip="1.1.1.1", t=90), pool) == first
    assert router.route(request(ip="1.1.1.1", t=180), pool) == first     # 90 s idle: refreshed
    for k, t in zip(range(2, 5), (181, 182, 183)):
        router.route(request(ip=f"1.1.1.{k}", t=t), pool)
    assert "1.1.1.1" not in router.table and len(router.table) == 3       # oldest evicted
    assert router.table.evictions == 1
    router.route(request(ip="1.1.1.4", t=400), pool)
    assert "1.1.1.2" not in router.table                                  # expired entries purged


def test_stick_table_redispatches_dead_and_keeps_draining():
    router = StickTable()
    home = router.route(request(), pool_of(*POOL4))
    others = [i for i in POOL4 if i != home]
    assert router.route(request(), pool_of(*others, draining=[home], members=POOL4)) == home
    moved = router.route(request(), pool_of(*others, members=POOL4))
    assert moved != home and router.table.snapshot()["203.0.113.7"] == moved


def test_stick_table_keys_and_bad_specs():
    router = StickTable(key="cookie:JSESSIONID")
    a = router.route(request(cookies={"JSESSIONID": "x"}), pool_of(*POOL4))
    assert router.route(request(ip="9.9.9.9", cookies={"JSESSIONID": "x"}), pool_of(*POOL4)) == a
    assert len(router.table) == 1
    router.route(request(), pool_of(*POOL4))       # no key: balanced, not stored
    assert len(router.table) == 1
    for bad in ("ip", "cookie:", "header", 5):
        with pytest.raises(ValueError, match="stick key"):
            StickTable(key=bad)
    with pytest.raises(ValueError, match="size"):
        StickTable(size=0)


def test_kubernetes_client_ip_affinity_preset():
    router = StickTable.kubernetes()
    assert (router.key, router.table.expire) == ("src", 10800.0)
    assert isinstance(router.balance, sl.routers.Random)     # kube-proxy's iptables mode: a random pick
    home = router.route(request(t=0), pool_of(*POOL4))
    assert router.route(request(t=10799), pool_of(*POOL4)) == home
    ipvs = StickTable.kubernetes(balance=RoundRobin())
    assert isinstance(ipvs.balance, RoundRobin)


def test_make_builds_by_name_and_rejects_unknown_names():
    assert isinstance(sl.routers.make("cookie_insert"), CookieInsert)
    assert isinstance(sl.routers.make("StickTable", size=5), StickTable)
    with pytest.raises(ValueError, match="'sticky-magic'.*known routers"):
        sl.routers.make("sticky-magic")


# -- the property sticky routing is for ------------------------------------------------------------
STICKY = {"CookieInsert": CookieInsert, "StickTable": StickTable, "AppCookieLearn": AppCookieLearn}


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(STICKY)),
       steps=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5)), min_size=1, max_size=40))
def test_sticky_router_never_moves_a_client_whose_instance_stays_healthy(name, steps):
    """Clients come back in any order while other instances fail, recover and scale out."""
    router = STICKY[name]()
    members = ["i0", "i1", "i2", "i3"]
    down: set[str] = set()
    homes: dict[int, str] = {}
    clients = {k: Browser(f"192.0.2.{k}") for k in range(5)}
    apps = sl.Apps()
    for t, (who, action) in enumerate(steps):
        if action == 4:                                   # scale out
            members.append(f"i{len(members)}")
        elif action == 5 and down:                        # recover one
            down.discard(sorted(down)[0])
        elif action < 4:                                  # fail an instance nobody lives on
            candidate = members[action]
            if candidate not in homes.values() and len(down) < len(members) - 1:
                down.add(candidate)
        pool = pool_of(*[m for m in members if m not in down], members=members)
        iid, _ = clients[who].send(router, pool, apps, time=float(t))
        if who in homes:
            assert iid == homes[who], f"{name} moved client {who} from {homes[who]} to {iid}"
        homes[who] = iid
