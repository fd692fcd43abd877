"""The Lab with real backend processes: real cookies, kill / restart / add / drain, and no orphans."""

import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

import stickylab as sl
from stickylab import live
from stickylab.app import SESSION_COOKIE

from live_helpers import gone, redis_server

HAS_REDIS = live.redis_available()


def wait_for(predicate, within=5.0):
    """Poll ``predicate`` until true or ``within`` seconds have passed; its last value."""
    deadline = time.monotonic() + within
    while not (ok := predicate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return ok


@pytest.fixture(scope="module")
def lab():
    with live.Lab(sl.routers.CookieInsert(), instances=3, health_interval=0.1) as lab:
        yield lab


def test_login_shows_the_real_cookies_and_the_instance(lab):
    browser = sl.Browser("127.3.0.7")
    reply = lab.send(browser, "/login")
    names = [c.name for c in reply.cookies]
    assert reply.status == 200 and reply.instance in lab.ever and names == [SESSION_COOKIE, "SERVERID"]
    assert set(browser.jar) == {SESSION_COOKIE, "SERVERID"} and browser.token == browser.jar[SESSION_COOKIE]
    again = lab.send(browser, "/app")
    assert again.status == 200 and again.instance == reply.instance and again.set_cookies == []


def test_pages_need_the_session_and_the_cart_keeps_data(lab):
    stranger = lab.send(sl.Browser("127.3.0.8"), "/app")
    assert stranger.status == 401 and "you were logged out" in stranger.text
    browser = sl.Browser("127.3.0.9")
    lab.send(browser, "/login")
    for item in ("apple", "pear"):
        assert lab.send(browser, f"/cart?item={item}", "POST").status == 200
    assert lab.send(browser, "/cart").text.strip() == "cart: apple, pear"
    assert lab.send(browser, "/logout").header("X-Session") == "ended"
    assert lab.send(browser, "/app").status == 401
    assert lab.send(browser, "/cart").text.strip() == "cart:", "signed in again, with an empty cart"


def test_everything_listens_on_loopback(lab):
    assert lab.url.startswith("http://127.0.0.1:")
    assert all(addr.startswith("127.0.0.1:") for addr in lab.backends().values())


def test_a_killed_backend_is_found_down_and_its_users_logged_out_then_restarted(lab):
    browser = sl.Browser("127.3.0.10")
    home = lab.send(browser, "/login").instance
    old = browser.jar["SERVERID"]
    lab.kill(home)
    lost = lab.send(browser, "/app")
    assert lost.status == 401 and lost.instance != home, "redispatched, but the session died with it"
    assert browser.jar["SERVERID"] != old, "a new affinity cookie for the new instance"
    assert wait_for(lambda: lab.status()[home] == "down")
    lab.restart(home)
    assert lab.status()[home] == "up" and lab.send(sl.Browser(), "/health").status == 200


def test_the_health_checks_find_a_dead_backend_without_traffic(lab):
    lab.kill("i2")
    assert wait_for(lambda: lab.status()["i2"] == "down"), "active checks of /health"
    lab.restart("i2")
    assert lab.status()["i2"] == "up"


def test_add_and_drain(lab):
    new = lab.add()
    assert new == f"i{len(lab.ever) - 1}" and lab.status()[new] == "up"
    lab.drain(new)
    assert lab.status()[new] == "draining"
    assert all(lab.send(sl.Browser(), "/login").instance != new for _ in range(6))
    lab.remove(new)
    assert new not in lab.status()
    with pytest.raises(ValueError, match="no backend 'i99'"):
        lab.kill("i99")


def test_lab_refuses_bad_settings_by_name():
    with pytest.raises(ValueError, match="store="):
        live.Lab(store="mongo")
    with pytest.raises(ValueError, match="instances="):
        live.Lab(instances=0)
    with pytest.raises(TypeError, match="not the class"):
        live.Lab(sl.routers.RoundRobin)
    with pytest.raises(RuntimeError, match="not running"):
        live.Lab().send(sl.Browser(), "/")


def test_an_exception_inside_the_lab_leaves_no_process():
    with pytest.raises(ZeroDivisionError):
        with live.Lab("RoundRobin", instances=2) as lab:
            pids = list(lab.pids().values())
            assert len(pids) == 2
            raise ZeroDivisionError("a notebook cell failed")
    assert gone(pids)


@pytest.mark.slow
def test_a_killed_parent_leaves_no_orphan(tmp_path):
    """SIGKILL the process that holds a Lab (a kernel restart does no better): its backends exit."""
    code = ("import sys, time\nfrom stickylab import live\n"
            "lab = live.Lab('CookieInsert', instances=2, store='sqlite').start()\n"
            "print(*lab.pids().values(), flush=True)\ntime.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(5)
        assert gone(pids), f"backends {pids} outlived their parent"
    finally:
        parent.kill()
        parent.wait()


@pytest.mark.parametrize("store", ["sqlite", "jwt", "redis"])
def test_external_stores_keep_users_logged_in_across_a_crash(store, tmp_path):
    if store == "redis" and not HAS_REDIS:
        pytest.skip("redis-server is not installed (apt install redis-server): the Redis store is not tested")
    options = {}
    with redis_server(tmp_path) if store == "redis" else _nothing() as url:
        if url:
            options["redis_url"] = url
        with live.Lab(sl.routers.CookieInsert(), instances=2, store=store, **options) as lab:
            browser = sl.Browser("127.3.0.11")
            home = lab.send(browser, "/login").instance
            lab.send(browser, "/cart?item=tea", "POST")
            lab.kill(home)
            after = lab.send(browser, "/cart")
            assert after.status == 200 and after.instance != home and after.text.strip() == "cart: tea"


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


@pytest.mark.skipif(not HAS_REDIS, reason="redis-server is not installed (apt install redis-server)")
def test_the_lab_starts_and_stops_its_own_redis():
    with live.Lab("RoundRobin", instances=2, store="redis") as lab:
        pids = lab.pids()
        assert "redis" in pids
        browser = sl.Browser()
        lab.send(browser, "/login")
        assert all(lab.send(browser, "/app").status == 200 for _ in range(4)), "round robin, no loss"
    assert gone(list(pids.values()))
