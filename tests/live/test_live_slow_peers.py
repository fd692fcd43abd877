"""Peers that stall on purpose: a backend that hangs mid-answer, clients that send their request
a byte at a time (slowloris). The proxy answers each within its timeout and serves everyone else."""

import asyncio
import time

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

from aiohttp import web

import stickylab as sl

from live_helpers import get, stack, To


def run(coro, within=30.0):
    return asyncio.run(asyncio.wait_for(coro, within))


RELEASE = web.AppKey("release", asyncio.Event)


async def _hangs_mid_answer(request: web.Request) -> web.StreamResponse:
    """Headers and half the body, then nothing until released (a backend stuck while writing)."""
    answer = web.StreamResponse(headers={"Content-Length": "100", "X-Instance": "hung"})
    await answer.prepare(request)
    await answer.write(b"x" * 50)
    await asyncio.wait_for(request.app[RELEASE].wait(), 20.0)
    return answer


@pytest.mark.slow
def test_a_backend_hanging_mid_answer_is_a_504_for_its_request_only():
    async def go():
        async with stack(To(), 2, timeout=3.0) as proxy:
            app = web.Application()
            app[RELEASE] = asyncio.Event()
            app.router.add_get("/{tail:.*}", _hangs_mid_answer)
            hung = web.AppRunner(app, access_log=None)
            await hung.setup()
            await web.TCPSite(hung, "127.0.0.1", 0).start()
            proxy.set_backend("i2", f"127.0.0.1:{hung.addresses[0][1]}")
            try:
                stuck = asyncio.ensure_future(get(proxy.url, "/app", **{"X-To": "i2"}))
                await asyncio.sleep(0.1)
                others = [(await get(proxy.url, "/login"))[0] for _ in range(10)]
                assert others == [200] * 10 and not stuck.done(), "nobody else waited for the hung answer"
                status, _, body = await stuck
                assert status == 504 and "i2 did not answer within 3 s" in body
                assert "127.0.0.1" not in body
                assert proxy.members["i2"].up, "a slow backend is not a dead one"
                status, _, _ = await get(proxy.url, "/app", **{"X-To": "i2"})
                assert status == 504, "its half-read connection was not reused"
            finally:
                app[RELEASE].set()
                await hung.cleanup()
    run(go())


@pytest.mark.slow
def test_slowloris_clients_are_cut_off_and_everyone_else_is_served():
    async def dribble(port, stop):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(b"GET /login HTTP/1.1\r\nHost: x\r\n")
            while not stop.is_set():
                writer.write(b"X-a: b\r\n")            # a header line now and then, never the end
                await writer.drain()
                await asyncio.sleep(0.2)
            return b""
        except ConnectionError:
            return b"closed"
        finally:
            writer.close()

    async def go():
        async with stack(sl.routers.RoundRobin(), 2, keepalive_timeout=2.0) as proxy:
            stop = asyncio.Event()
            slow = [asyncio.ensure_future(dribble(proxy.port, stop)) for _ in range(300)]
            await asyncio.sleep(0.5)
            t0 = time.perf_counter()
            served = [(await get(proxy.url, "/login"))[0] for _ in range(20)]
            assert served == [200] * 20 and time.perf_counter() - t0 < 2.0
            await asyncio.sleep(3.0)                # past the 2 s a head may take: cut off
            assert len(proxy._clients) == 0, "every slow connection was closed"
            stop.set()
            assert set(await asyncio.gather(*slow)) == {b"closed"}
    run(go())
