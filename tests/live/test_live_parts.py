"""The live lab's parts in one process: cookie parsing, session stores, the proxy over in-process backends.

Nothing here starts a process; every server listens on a free loopback port and is stopped.
"""

import asyncio
import logging
import time

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

from aiohttp import web

import stickylab as sl
from stickylab.app import SESSION_COOKIE
from stickylab.live import loopback_address
from stickylab.live.cookies import MAX_COOKIE_BYTES, BadCookie, parse_cookie_header, parse_set_cookie
from stickylab.live.stores import JwtStore, SqliteStore, TokenApp, make_store

from live_helpers import To, behind_proxy, get, raw, stack, status_of


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30.0))


# -- cookies -----------------------------------------------------------------------------------------
def test_cookie_header_is_read_as_browsers_send_it():
    got = parse_cookie_header(["a=1; b=\"two\"; ; nameless", "a=ignored; c="])
    assert got == {"a": "1", "b": "two", "c": ""}


@pytest.mark.parametrize("header, status", [
    ("a=b c", 400), ("a=x\x7f", 400), ("a=caf\u00e9", 400), ("b@d=1", 400), ("a=\"b", 400),
    ("x=" + "y" * MAX_COOKIE_BYTES, 431), ("; ".join(f"c{k}=v" for k in range(150)), 431),
])
def test_bad_cookie_headers_are_refused_with_their_status(header, status):
    with pytest.raises(BadCookie) as err:
        parse_cookie_header([header], strict=True)
    assert err.value.status == status


def test_set_cookie_round_trips_through_the_cookie_model():
    c = sl.Cookie("SERVERID", "abc", max_age=60, http_only=True, same_site="Strict")
    assert parse_set_cookie(c.header()) == c
    assert parse_set_cookie("x=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT") is None


def test_loopback_addresses_are_distinct_and_never_the_default():
    addrs = [loopback_address(k) for k in range(70_000)]
    assert len(set(addrs)) == len(addrs) and "127.0.0.1" not in addrs
    assert all(a.startswith("127.") and not a.endswith((".0", ".255")) for a in addrs)
    with pytest.raises(ValueError, match="k must be"):
        loopback_address(-1)


# -- stores --------------------------------------------------------------------------------------------
def test_sqlite_store_is_shared_by_backends_and_survives_a_crash(tmp_path):
    path = f"sqlite:{tmp_path / 's.db'}"
    one, two = make_store(path), make_store(path)
    a, b = one.app(60.0), two.app(60.0)
    token = a.login(100.0)
    one.add(a, token, "apple")
    a.crash()
    assert b.resume(token, 110.0) and two.cart(b, token) == ["apple"]
    assert not b.resume(token, 200.0), "idle longer than the timeout: expired"
    assert b.logout(b.login(300.0), 301.0) and len(b.sessions) == 1


def test_session_ids_are_unguessable_and_unique_across_stores(tmp_path):
    apps = [SqliteStore(str(tmp_path / "s.db")).app(60.0) for _ in range(2)]
    tokens = {app.login(0.0) for app in apps for _ in range(500)}
    assert len(tokens) == 1000


def test_jwt_sessions_need_no_store_and_refuse_forgeries():
    secret = b"k" * 32
    a, b = JwtStore(secret).app(60.0), JwtStore(secret).app(60.0)
    now = time.time()
    token = a.login(now)
    assert isinstance(a, TokenApp) and b.resume(token, now + 1) and not a.sessions
    assert not b.resume(token, now + 120), "expired"
    assert not JwtStore(b"x" * 32).app(60.0).resume(token, now), "another secret"
    head, body, sig = token.split(".")
    assert not b.resume(f"{head}.{body}.{sig[::-1]}", now), "tampered"
    store = JwtStore(secret)
    bigger = store.add(a, token, "pear")
    assert store.cart(b, bigger) == ["pear"]
    with pytest.raises(ValueError, match="32 bytes"):
        JwtStore(b"short")


def test_unknown_store_is_named():
    with pytest.raises(ValueError, match="'mongo'"):
        make_store("mongo")


# -- the proxy over in-process backends -------------------------------------------------------------
def test_cookie_insert_sets_an_opaque_httponly_samesite_cookie_once():
    async def go():
        async with stack(sl.routers.CookieInsert(), 3) as proxy:
            status, headers, _ = await get(proxy.url, "/login")
            cookies = {c.name: c for c in map(parse_set_cookie, headers.getall("Set-Cookie"))}
            affinity = cookies["SERVERID"]
            assert status == 200 and affinity.http_only and affinity.same_site == "Lax"
            for iid, member in proxy.members.items():
                host, port = member.address.split(":")
                assert port not in affinity.value and host not in affinity.value and iid != affinity.value
            cookie = f"SERVERID={affinity.value}; {SESSION_COOKIE}={cookies[SESSION_COOKIE].value}"
            for _ in range(5):
                status, again, _ = await get(proxy.url, "/app", Cookie=cookie)
                assert status == 200 and "Set-Cookie" not in again
                assert again["X-Instance"] == headers["X-Instance"]
    run(go())


def test_proxy_listens_on_loopback_unless_told_otherwise():
    async def go():
        async with stack(sl.routers.RoundRobin(), 1) as proxy:
            assert proxy.host == "127.0.0.1" and [h for h, _ in proxy.addresses] == ["127.0.0.1"]
    run(go())


@pytest.mark.parametrize("cookie, status", [
    ("SERVERID=a b", 400), ("SERVERID=\"x", 400), ("x=" + "y" * (MAX_COOKIE_BYTES + 10), 431),
    ("; ".join(f"c{k}=v" for k in range(150)), 431),
])
def test_bad_cookies_get_a_clean_4xx_from_the_proxy(cookie, status):
    async def go():
        async with stack(sl.routers.CookieInsert(), 2) as proxy:
            got, _, body = await get(proxy.url, "/app", Cookie=cookie)
            assert got == status and str(status) in body
            assert (await get(proxy.url, "/login"))[0] == 200, "the proxy still serves"
    run(go())


def test_raw_garbage_and_oversized_headers_get_a_4xx_and_the_proxy_lives_on():
    attempts = [
        b"GET /app HTTP/1.1\r\nHost: x\r\nCookie: SERVERID=caf\xc3\xa9\r\n\r\n",
        b"GET /app HTTP/1.1\r\nHost: x\r\nCookie: a=\x01\r\n\r\n",
        b"GET /app HTTP/1.1\r\nHost: x\r\nX-Big: " + b"z" * 20000 + b"\r\n\r\n",
        b"GET /app HTTP/1.1\r\nHost: x\r\nCookie: " + b"c=" + b"v" * 20000 + b"\r\n\r\n",
        b"\x16\x03\x01\x02\x00 this is not http\r\n\r\n",
        b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ]

    async def go():
        async with stack(sl.routers.CookieInsert(), 2) as proxy:
            for data in attempts:
                assert 400 <= status_of(await raw(proxy.port, data)) < 500, data[:60]
            assert (await get(proxy.url, "/login"))[0] == 200
    run(go())


def test_a_tampered_or_forged_affinity_cookie_is_redispatched_and_replaced():
    async def go():
        async with stack(sl.routers.CookieInsert(), 3) as proxy:
            for forged in ("deadbeefdeadbeef", "i0", "0" * 200, "x.1.2.3"):
                status, headers, _ = await get(proxy.url, "/login", Cookie=f"SERVERID={forged}")
                new = [c for c in map(parse_set_cookie, headers.getall("Set-Cookie")) if c.name == "SERVERID"]
                assert status == 200 and new and new[0].value != forged
    run(go())


def test_a_cookie_naming_a_backend_that_does_not_exist_is_a_400():
    async def go():
        async with stack(To(), 2) as proxy:
            status, _, body = await get(proxy.url, "/login", **{"X-To": "i9"})
            assert status == 400 and "'i9'" in body and "not a backend" in body
    run(go())


class Broken(sl.Router):
    name = "my broken router"

    def route(self, request, pool):
        return {"a": 1}[request.path]


class Answers42(sl.Router):
    def route(self, request, pool):
        return 42


class BadResponse(sl.routers.RoundRobin):
    def on_response(self, request, instance, response):
        response.set_cookie("bad name", "x")


@pytest.mark.parametrize("router, words", [
    (Broken(), ["my broken router", "KeyError", "while routing Request(", "path='/app'"]),
    (Answers42(), ["Answers42", "returned 42", "not an instance id"]),
    (BadResponse(), ["on_response raised ValueError", "invalid cookie name"]),
])
def test_a_broken_router_is_reported_by_name_with_the_request(router, words, caplog):
    async def go():
        async with stack(router, 2) as proxy:
            status, _, body = await get(proxy.url, "/app")
            assert status == 500
            for word in words:
                assert word in body
            assert proxy.errors and words[0] in proxy.errors[-1]
            return proxy
    with caplog.at_level(logging.ERROR, logger="stickylab.live.proxy"):
        run(go())
    assert any(words[0] in r.getMessage() for r in caplog.records), "a log line names the router"


def test_no_healthy_instance_is_a_503():
    class Nobody(sl.Router):
        def route(self, request, pool):
            raise sl.NoHealthyInstance("all drained")

    async def go():
        async with stack(Nobody(), 1) as proxy:
            status, _, body = await get(proxy.url, "/app")
            assert status == 503 and "all drained" in body
    run(go())


def test_a_dead_backend_is_retried_elsewhere_for_get_and_refused_for_post():
    async def go():
        async with stack(sl.routers.CookieInsert(), 2, dead=("i1",), health_interval=60.0) as proxy:
            # A client holding a genuine cookie for i1, whose process is gone (the checks have not run).
            cookie = f"SERVERID={proxy.router.encode('i1')}"
            status, headers, _ = await get(proxy.url, "/login", Cookie=cookie)
            assert status == 200 and headers["X-Instance"] == "i0", "redispatched after the retry"
            assert proxy.members["i1"].up is False, "the failed connection marked it down"
            proxy.mark("i1", True)      # as if a health check had seen it up again
            status, _, body = await get(proxy.url, "/cart", "POST", Cookie=cookie)
            assert status == 503 and "POST is not retried" in body
    run(go())


def test_persist_keeps_sending_to_the_dead_backend_and_the_client_gets_503():
    async def go():
        router = sl.routers.CookieInsert(persist=True)
        async with stack(router, 2, dead=("i1",), health_interval=60.0) as proxy:
            cookie = f"SERVERID={proxy.router.encode('i1')}"
            status, _, body = await get(proxy.url, "/app", Cookie=cookie)
            assert status == 503 and "backend i1 is down" in body and "after a retry" in body
    run(go())


def test_a_slow_backend_is_a_504_and_stays_up_until_fall_checks_fail():
    """A busy machine makes a backend slow, not dead: its users must not be moved for that."""
    async def slow(request):
        await asyncio.sleep(0.5)
        return web.Response(text="late")

    async def go():
        async with behind_proxy(slow, timeout=0.2, check_timeout=0.2, fall=3) as proxy:
            status, _, body = await get(proxy.url, "/app")
            assert status == 504 and "i0 did not answer within 0.2 s" in body
            assert proxy.members["i0"].up, "a slow answer is not a dead backend"
            for k in range(3):
                assert proxy.members["i0"].up, f"down after {k} slow checks, fewer than fall=3"
                await proxy._check("i0")
            assert not proxy.members["i0"].up, "fall=3 slow checks in a row mark it down"
    asyncio.run(asyncio.wait_for(go(), 20))


def test_draining_keeps_sticky_users_and_takes_no_new_ones():
    async def go():
        async with stack(sl.routers.CookieInsert(), 2) as proxy:
            cookie = f"SERVERID={proxy.router.encode('i1')}"
            proxy.drain("i1")
            assert (await get(proxy.url, "/login", Cookie=cookie))[1]["X-Instance"] == "i1"
            for _ in range(4):
                assert (await get(proxy.url, "/login"))[1]["X-Instance"] == "i0"
    run(go())
