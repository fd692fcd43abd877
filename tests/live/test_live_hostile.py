"""Hostile HTTP against the live proxy and the backends behind it, all in one process on loopback.

Every attack must get a clean answer (a 4xx, or the backend's own answer), never a 5xx, a
hang, a traceback or a backend's address, and the proxy must answer the next good request.
"""

import asyncio
import gzip
import logging
import sys

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

from aiohttp import web

import stickylab as sl
from stickylab.live.proxy import Proxy

from live_helpers import behind_proxy, get, stack, status_of


def run(coro, within=20.0):
    return asyncio.run(asyncio.wait_for(coro, within))


async def talk(port, data: bytes, within=5.0, head_only=False) -> bytes:
    """Send ``data`` to 127.0.0.1:port; read until the server closes, or to the end of the answer's head.

    ``within`` seconds at most: a hang is a TimeoutError.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n") if head_only else reader.read(), within)
    finally:
        writer.close()


def request(line: bytes, headers: bytes = b"", body: bytes = b"") -> bytes:
    return line + b"\r\nHost: x\r\nConnection: close\r\n" + headers + b"\r\n" + body


def clean(answer: bytes, proxy) -> bool:
    """No traceback and no backend host:port in ``answer``."""
    ports = [m.address.rsplit(":", 1)[1].encode() for m in proxy.members.values()]
    return b"Traceback" not in answer and not any(b":" + p in answer or p + b"\r" in answer for p in ports)


POST = b"POST /cart?item=a HTTP/1.1"
ATTACKS = {
    "bogus gzip body": request(POST, b"Content-Encoding: gzip\r\nContent-Length: 3\r\n", b"abc"),
    "gzip body": request(POST, b"Content-Encoding: gzip\r\nContent-Length: 25\r\n", gzip.compress(b"hello")),
    "bogus deflate body": request(POST, b"Content-Encoding: deflate\r\nContent-Length: 3\r\n", b"abc"),
    "brotli body": request(POST, b"Content-Encoding: br\r\nContent-Length: 3\r\n", b"abc"),
    "CL and TE": request(POST, b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
    "two Content-Lengths": request(POST, b"Content-Length: 3\r\nContent-Length: 4\r\n", b"abcd"),
    "bad chunk size": request(POST, b"Transfer-Encoding: chunked\r\n", b"zz\r\nabc\r\n0\r\n\r\n"),
    "huge chunk size": request(POST, b"Transfer-Encoding: chunked\r\n", b"f" * 20 + b"\r\nabc\r\n"),
    "TE xchunked": request(POST, b"Transfer-Encoding: xchunked\r\n", b"0\r\n\r\n"),
    "2 MB body": request(POST, b"Content-Length: 2000000\r\n", b"a" * 2_000_000),
    "HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "no Host": b"GET /login HTTP/1.1\r\nConnection: close\r\n\r\n",
    "NUL in path": request(b"GET /a\x00b HTTP/1.1"),
    "non-UTF-8 path": request(b"GET /a\xff\xfe HTTP/1.1"),
    "NUL in header": request(b"GET /login HTTP/1.1", b"X-A: a\x00b\r\n"),
    "500 headers": request(b"GET /login HTTP/1.1", b"".join(b"X-H%d: v\r\n" % k for k in range(500))),
    "100 kB cookie": request(b"GET /app HTTP/1.1", b"Cookie: c=" + b"v" * 100_000 + b"\r\n"),
    "120 Cookies": request(b"GET /app HTTP/1.1", b"".join(b"Cookie: c%d=v\r\n" % k for k in range(120))),
    "non-UTF-8 cookie": request(b"GET /app HTTP/1.1", b"Cookie: SERVERID=\xff\xfe\r\n"),
    "quoted cookie": request(b"GET /app HTTP/1.1", b'Cookie: SERVERID="x;y"; b="q\r\n'),
    "CONNECT": request(b"CONNECT 127.0.0.1:22 HTTP/1.1"),
    "OPTIONS *": request(b"OPTIONS * HTTP/1.1"),
    "absolute form": request(b"GET http://evil/ HTTP/1.1"),
    "percent garbage": request(b"GET /%zz%%%ff%00/ HTTP/1.1"),
    "bogus Expect": request(POST, b"Expect: 200-ok\r\nContent-Length: 3\r\n", b"abc"),
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_hostile_requests_get_a_clean_answer_and_the_proxy_lives_on(name):
    async def go():
        async with stack(sl.routers.CookieInsert(), 2) as proxy:
            answer = await talk(proxy.port, ATTACKS[name])
            assert status_of(answer) < 500 and clean(answer, proxy), answer[:300]
            assert (await get(proxy.url, "/login"))[0] == 200
    run(go())


def test_a_client_that_stops_sending_its_body_gets_a_408():
    async def go():
        async with stack(sl.routers.RoundRobin(), 1, client_timeout=0.3) as proxy:
            slow = request(POST, b"Content-Length: 10\r\n", b"ab")
            assert status_of(await talk(proxy.port, slow, within=3.0, head_only=True)) == 408
            lying = request(POST, b"Transfer-Encoding: chunked\r\n", b"10\r\nabc\r\n")
            assert status_of(await talk(proxy.port, lying, within=3.0, head_only=True)) == 408
            assert (await get(proxy.url, "/login"))[0] == 200
    run(go())


def test_a_client_gone_mid_request_or_mid_response_logs_no_error(caplog):
    async def go():
        async with stack(sl.routers.RoundRobin(), 1) as proxy:
            for data in (request(POST, b"Content-Length: 1000\r\n", b"abc"), request(b"GET /login HTTP/1.1")):
                for _ in range(5):
                    _, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
                    writer.write(data)
                    await writer.drain()
                    writer.transport.abort()
            await asyncio.sleep(0.3)
            assert (await get(proxy.url, "/login"))[0] == 200
    with caplog.at_level(logging.ERROR):
        run(go())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text[:2000]


# -- what a backend is sent -------------------------------------------------------------------------------
async def _echo(request: web.Request) -> web.Response:
    """A backend that answers with the request line and headers it received."""
    lines = [f"{request.method} {request.raw_path}", f"path: {request.path}"]
    lines += [f"{k}: {v}" for k, v in request.headers.items()]
    return web.Response(text="\n".join(lines))


def test_a_client_cannot_spoof_forwarded_headers_or_smuggle_hop_by_hop_ones():
    async def go():
        async with behind_proxy(_echo) as proxy:
            answer = await talk(proxy.port, request(
                b"GET /x HTTP/1.1", b"X-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n"
                b"X-Forwarded-Host: evil\r\nConnection: close, X-Secret\r\nX-Secret: s\r\n"))
            seen = answer.split(b"\r\n\r\n", 1)[1].decode()
            assert "6.6.6.6" not in seen and "evil" not in seen and "X-Secret" not in seen
            assert "X-Forwarded-For: 127.0.0.1" in seen and seen.count("X-Forwarded-For") == 1
    run(go())


class Paths(sl.Router):
    """Sends everything to i0 and remembers the paths it saw."""

    def __init__(self):
        self.paths = []

    def route(self, request, pool):
        self.paths.append(request.path)
        return "i0"


@pytest.mark.parametrize("target", [b"//evil.com/x", b"/a%2Fb?x=%zz&y=%ff", b"/health%3Fx=1", b"/~u/%7e",
                                    b"/%2e%2e/%2e%2e/health", b"/admin/..%2fpublic", b"/%2561dmin"])
def test_the_path_reaches_the_backend_as_sent_and_as_the_router_read_it(target):
    async def go():
        async with behind_proxy(_echo, router := Paths()) as proxy:
            answer = await talk(proxy.port, request(b"GET " + target + b" HTTP/1.1"))
            assert status_of(answer) == 200
            line, path = answer.split(b"\r\n\r\n", 1)[1].decode().split("\n")[:2]
            assert line == "GET " + target.decode() and path == "path: " + router.paths[-1]
    run(go())


# -- routers that answer oddly -------------------------------------------------------------------------------
class Exits(sl.Router):
    def route(self, request, pool):
        sys.exit(3)


class AppendsAString(sl.routers.RoundRobin):
    def on_response(self, request, instance, response):
        response.cookies.append("SERVERID=i0")


class Str(str):
    pass


class Odd(sl.Router):
    """Answers what its ``answer`` says: None, an int, a str subclass, a megabyte of text."""

    def __init__(self, answer):
        self.answer = answer

    def route(self, request, pool):
        return self.answer


@pytest.mark.parametrize("router, status, words", [
    (Exits(), 500, ["Exits", "SystemExit"]),
    (AppendsAString(), 500, ["on_response raised TypeError", "'SERVERID=i0'", "not a stickylab Cookie"]),
    (Odd(None), 500, ["returned None"]), (Odd(0), 500, ["returned 0"]),
    (Odd(Str("i0")), 500, ["not an instance id"]),
    (Odd("i" * 1_000_000), 400, ["not a backend"]),
])
def test_a_router_answering_oddly_is_named_and_the_proxy_lives_on(router, status, words):
    async def go():
        async with stack(router, 2) as proxy:
            got, headers, body = await get(proxy.url, "/app")
            assert got == status and len(body) < 5000 and headers["X-Content-Type-Options"] == "nosniff"
            for word in words:
                assert word in body
            proxy.router = sl.routers.RoundRobin()
            assert (await get(proxy.url, "/login"))[0] == 200
    run(go())


def test_no_answer_names_a_backend_address():
    async def go():
        async with stack(sl.routers.CookieInsert(), 2, dead=("i1",), health_interval=60.0) as proxy:
            cookie = f"SERVERID={proxy.router.encode('i1')}"
            answers = []
            for line, extra in [(b"GET /login HTTP/1.1", b"Cookie: " + cookie.encode() + b"\r\n"),
                                (POST, b"Cookie: " + cookie.encode() + b"\r\nContent-Length: 0\r\n"),
                                (b"GET /app HTTP/1.1", b"Cookie: SERVERID=" + b"0" * 300 + b"\r\n")]:
                proxy.mark("i1", True)      # as if a health check had seen it up: the proxy tries it
                answers.append(await talk(proxy.port, request(line, extra)))
            assert [status_of(a) for a in answers] == [200, 503, 401]
            assert all(clean(a, proxy) and b"127.0.0.1" not in a for a in answers), answers
    run(go())


# -- the backends through the proxy --------------------------------------------------------------------------
def test_a_stateless_cart_never_grows_a_cookie_the_proxy_or_a_browser_would_refuse():
    from urllib.parse import quote

    from stickylab.live.stores import JwtStore

    async def go():
        async with stack(sl.routers.RoundRobin(), 1, store=lambda: JwtStore(b"k" * 32)) as proxy:
            _, headers, _ = await get(proxy.url, "/login")
            token = headers["Set-Cookie"].split(";")[0]
            statuses = []
            for k in range(20):         # 64 euro signs a item: about 400 bytes of token each
                status, headers, _ = await get(proxy.url, "/cart?item=" + quote("\u20ac" * 63 + str(k % 10)),
                                               "POST", Cookie=token)
                statuses.append(status)
                token = headers.get("Set-Cookie", token).split(";")[0]
                assert len(headers.get("Set-Cookie", "")) <= 4096
            assert 409 in statuses and set(statuses) == {200, 409}
            assert (await get(proxy.url, "/cart", Cookie=token))[0] == 200, "the user is still signed in"
    run(go())


class Broken(sl.Router):
    def route(self, request, pool):
        raise KeyError(request.cookies.get("SESSION"))


def test_a_router_error_page_never_echoes_cookie_values_or_credentials():
    async def go():
        async with stack(Broken(), 1) as proxy:
            secret = "s3cr3t-session-value"
            status, _, body = await get(proxy.url, "/app", Cookie=f"SESSION={secret}; SERVERID=abcdef",
                                        Authorization="Bearer tok-en-value", **{"X-Big": "b" * 8000})
            assert status == 500 and "KeyError" in body and "while routing Request(" in body
            assert "'SESSION': '(hidden)'" in body and len(body) < 2200
            for secret_text in (secret, "abcdef", "tok-en-value"):
                assert secret_text not in body
            assert "KeyError" in proxy.errors[-1] and secret not in proxy.errors[-1], "kept without secrets"
    run(go())


def test_a_client_that_never_finishes_its_headers_is_cut_off():
    async def go():
        async with stack(sl.routers.RoundRobin(), 1, keepalive_timeout=0.5) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(b"GET /login HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), 5.0) == b"", "closed, without an answer"
            writer.close()
            assert (await get(proxy.url, "/login"))[0] == 200
    run(go())


# -- backends that break HTTP -------------------------------------------------------------------------------
BROKEN_ANSWERS = {
    "cut off mid-body": (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", 502),
    "not HTTP": (b"NOT HTTP AT ALL\r\n\r\n", 502),
    "NUL in a header": (b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n", 502),
    "20 kB header": (b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 20000 + b"\r\nContent-Length: 0\r\n\r\n", 502),
    "bad chunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 502),
    "control char in cookie": (b"HTTP/1.1 200 OK\r\nSet-Cookie: a=\x01\r\nContent-Length: 0\r\n\r\n", 200),
}


@pytest.mark.parametrize("name", list(BROKEN_ANSWERS))
def test_a_backend_that_breaks_http_is_a_502_naming_no_address(name):
    answer, status = BROKEN_ANSWERS[name]

    async def serve(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    async def go():
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        proxy = Proxy(sl.routers.CookieInsert(), {"i0": f"127.0.0.1:{port}"}, health_interval=60.0)
        await proxy.start()
        try:
            got = await talk(proxy.port, request(b"GET /x HTTP/1.1"))
            assert status_of(got) == status and str(port).encode() not in got, got[:300]
        finally:
            await proxy.stop()
            server.close()
            await server.wait_closed()
    run(go())
