"""What the proxy shows of its traffic: counters per backend, a bounded access log, a connection cap."""

import asyncio
import logging

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

import stickylab as sl
from stickylab.live.proxy import Proxy

from live_helpers import get, raw, stack, status_of


def run(coro, within=20.0):
    return asyncio.run(asyncio.wait_for(coro, within))


def test_each_backend_counts_its_requests_errors_and_bytes():
    async def go():
        async with stack(sl.routers.RoundRobin(), 2) as proxy:
            bodies = []
            for _ in range(6):
                status, _, body = await get(proxy.url, "/login")
                bodies.append(len(body.encode()))
            assert (await get(proxy.url, "/cart?item=pear", "POST", Cookie="SESSION=x"))[0] in (200, 401)
            stats = proxy.stats()
            assert sorted(s["requests"] for s in stats.values()) == [3, 4], "round robin, one at a time"
            assert sum(s["received"] for s in stats.values()) >= sum(bodies)
            assert all(s["errors"] == 0 and s["in_flight"] == 0 for s in stats.values())
        async with stack(sl.routers.RoundRobin(), 2, dead=("i1",), health_interval=60.0, retries=0) as proxy:
            statuses = [(await get(proxy.url, "/login"))[0] for _ in range(4)]
            assert statuses.count(503) >= 1 and proxy.stats()["i1"]["errors"] == statuses.count(503)
    run(go())


def test_the_access_log_keeps_the_newest_requests_and_no_cookie():
    async def go():
        async with stack(sl.routers.CookieInsert(), 2, access_log=5) as proxy:
            for k in range(8):
                await get(proxy.url, f"/login?n={k}", Cookie="SESSION=secret-value")
            await get(proxy.url, "/app", Cookie="SERVERID=a b")      # refused by the proxy itself
            log = list(proxy.access_log)
            assert len(log) == 5 and [e.path for e in log[:4]] == [f"/login?n={k}" for k in range(4, 8)]
            assert all(e.status == 200 and e.backend in ("i0", "i1") and e.bytes > 0 for e in log[:4])
            assert (log[-1].status, log[-1].backend, log[-1].client) == (400, None, "127.0.0.1")
            assert all(e.seconds >= 0 for e in log) and "secret-value" not in repr(log)
    run(go())


def test_past_max_connections_a_new_connection_gets_a_503_and_the_held_ones_are_served():
    async def go():
        async with stack(sl.routers.RoundRobin(), 1, max_connections=3) as proxy:
            held = [await asyncio.open_connection("127.0.0.1", proxy.port) for _ in range(3)]
            await asyncio.sleep(0.05)
            assert status_of(await raw(proxy.port, b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")) == 503
            reader, writer = held[0]
            writer.write(b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert status_of(await asyncio.wait_for(reader.read(), 5.0)) == 200
            for _, writer in held:
                writer.close()
    run(go())


def test_a_malformed_request_logs_one_short_line_and_no_traceback(caplog):
    async def go():
        async with stack(sl.routers.RoundRobin(), 1) as proxy:
            for data in (b"GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01 not http\r\n\r\n",
                         b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"):
                assert status_of(await raw(proxy.port, data)) == 400
    with caplog.at_level(logging.DEBUG):
        run(go())
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING], caplog.text[:2000]


BAD = [("timeout", 0), ("keepalive_timeout", -1.0), ("check_timeout", "2"), ("max_connections", 0),
       ("access_log", 2.5)]


@pytest.mark.parametrize("option, value", BAD)
def test_bad_settings_are_refused_by_name(option, value):
    with pytest.raises(ValueError, match=option):
        Proxy(sl.routers.RoundRobin(), {"i0": "127.0.0.1:1"}, **{option: value})


@pytest.mark.slow
def test_the_lab_shows_the_proxys_counters_and_last_requests():
    from stickylab import live

    with live.Lab(sl.routers.CookieInsert(), instances=2) as lab:
        browser = sl.Browser()
        replies = [lab.send(browser, path) for path in ("/login", "/app", "/app", "/cart")]
        stats = lab.stats()
        home = replies[0].instance
        assert stats[home]["requests"] == 4 and sum(s["requests"] for s in stats.values()) == 4
        assert stats[home]["received"] == sum(len(r.text.encode()) for r in replies)
        log = lab.access_log(2)
        assert [(e.path, e.backend, e.status) for e in log] == [("/app", home, 200), ("/cart", home, 200)]
        assert lab.access_log(0) == []
