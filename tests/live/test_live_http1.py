"""The proxy's own HTTP/1.1 (stickylab.live.http1): what clients and backends rely on, on the wire."""

import asyncio

import pytest

pytest.importorskip("httptools", reason="the proxy's HTTP/1.1 needs httptools (requirements.txt)")

from aiohttp import web

import stickylab as sl
from stickylab.live.proxy import Proxy

from live_helpers import behind_proxy, status_of


def run(coro, within=20.0):
    return asyncio.run(asyncio.wait_for(coro, within))


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(text=f"{request.method} {request.raw_path} {len(body)}")


async def converse(port, data: bytes, answers: int, within=5.0) -> list[bytes]:
    """Send ``data`` at once; read ``answers`` whole answers (heads and Content-Length bodies)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    got = []
    try:
        writer.write(data)
        for _ in range(answers):
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), within)
            if head.startswith(b"HTTP/1.1 1"):          # an interim answer: no body
                got.append(head)
                continue
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:")))
            got.append(head + await reader.readexactly(length))
        return got
    finally:
        writer.close()


def test_pipelined_requests_are_answered_in_order():
    async def go():
        async with behind_proxy(_echo) as proxy:
            data = b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % k for k in range(5))
            answers = await converse(proxy.port, data, 5)
            assert [a.rsplit(b"\r\n\r\n", 1)[1] for a in answers] == [b"GET /%d 0" % k for k in range(5)]
    run(go())


def test_head_gets_the_length_without_a_body_and_the_connection_goes_on():
    async def go():
        async with behind_proxy(_echo) as proxy:
            data = b"HEAD /x HTTP/1.1\r\nHost: x\r\n\r\nGET /y HTTP/1.1\r\nHost: x\r\n\r\n"
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(data)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            assert status_of(head) == 200 and b"Content-Length: 9" in head      # "HEAD /x 0"'s length
            second = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            assert status_of(second) == 200
            assert await asyncio.wait_for(reader.readexactly(8), 5.0) == b"GET /y 0", "no HEAD body"
            writer.close()
    run(go())


def test_expect_100_continue_and_an_http_1_0_client():
    async def go():
        async with behind_proxy(_echo) as proxy:
            data = b"POST /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"
            interim, final = await converse(proxy.port, data, 2)
            assert interim.startswith(b"HTTP/1.1 100 Continue") and final.endswith(b"POST /p 3")
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(b"GET /old HTTP/1.0\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), 5.0)      # read to the end: the proxy closes
            assert status_of(answer) == 200 and b"Connection: close" in answer
            assert answer.endswith(b"GET /old 0")
            writer.close()
    run(go())


def test_an_absolute_target_reaches_the_backend_as_its_path():
    async def go():
        async with behind_proxy(_echo) as proxy:
            data = b"GET http://example.com/a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n"
            (answer,) = await converse(proxy.port, data, 1)
            assert answer.endswith(b"GET /a?b=1 0")
    run(go())


def test_a_backend_answer_without_a_length_is_read_to_its_close_and_a_closed_idle_connection_is_replaced():
    served = []

    async def serve(reader, writer):        # answers once per connection, then closes it
        await reader.readuntil(b"\r\n\r\n")
        served.append(1)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
        await writer.drain()
        writer.close()

    async def keepalive(reader, writer):    # keeps the connection, then closes it while idle
        while True:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.close()
            return

    async def go():
        for handler, body in ((serve, b"until the end"), (keepalive, b"ok")):
            server = await asyncio.start_server(handler, "127.0.0.1", 0)
            proxy = Proxy(sl.routers.RoundRobin(), {"i0": f"127.0.0.1:{server.sockets[0].getsockname()[1]}"},
                          health_interval=60.0)
            await proxy.start()
            try:
                for _ in range(3):
                    await asyncio.sleep(0.1)            # the backend has closed the idle connection
                    (answer,) = await converse(proxy.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1)
                    assert status_of(answer) == 200 and answer.endswith(body)
                assert proxy.members["i0"].up and proxy.stats()["i0"]["errors"] == 0
            finally:
                await proxy.stop()
                server.close()
    run(go())
