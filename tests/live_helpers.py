"""Helpers of the live-lab tests: an in-process proxy over in-process backends, raw HTTP, Redis."""

import asyncio
import contextlib
import shutil
import subprocess
import time

import aiohttp
from aiohttp import web

import stickylab as sl
from stickylab import children
from stickylab.live import procs
from stickylab.live.backend import make_app
from stickylab.live.proxy import Proxy
from stickylab.live.stores import MemoryStore


class To(sl.Router):
    """Routes to the instance the X-To header names (a learner's naive router), else the first healthy."""

    def route(self, request, pool):
        return request.headers.get("x-to") or pool.healthy[0]


@contextlib.asynccontextmanager
async def stack(router, instances=2, dead=(), store=MemoryStore, **options):
    """Backends i0.. in this loop (those in ``dead`` at a closed port) behind a Proxy; yields the proxy."""
    runners, backends = [], {}
    for k in range(instances):
        iid = f"i{k}"
        if iid in dead:
            backends[iid] = f"127.0.0.1:{procs.free_port()}"
            continue
        runner = web.AppRunner(make_app(iid, store()), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        backends[iid] = f"127.0.0.1:{runner.addresses[0][1]}"
    proxy = Proxy(router, backends, **options)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
        for runner in runners:
            await runner.cleanup()


@contextlib.asynccontextmanager
async def behind_proxy(handler, router=None, **options):
    """One backend i0 answering every path with ``handler``, behind a Proxy (no health checks
    unless ``health_interval`` is given); yields the proxy."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    options.setdefault("health_interval", 60.0)
    proxy = Proxy(router or sl.routers.RoundRobin(), {"i0": f"127.0.0.1:{runner.addresses[0][1]}"}, **options)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
        await runner.cleanup()


async def get(url, path="/", method="GET", **headers):
    """(status, headers, body text) of one request, with aiohttp's client."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as s:
        async with s.request(method, url + path, headers=headers) as r:
            return r.status, r.headers, await r.text()


async def raw(port, data: bytes) -> bytes:
    """Send raw bytes to 127.0.0.1:port; the raw answer (for requests a client library refuses to make)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(65536), 5.0)
    finally:
        writer.close()


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer."""
    return int(answer.split(b" ", 2)[1])


@contextlib.contextmanager
def redis_server(tmp_path):
    """A redis-server of the test's own on a free loopback port; yields its URL."""
    port = procs.free_port()
    proc = procs.spawn([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                       log=str(tmp_path / "redis.log"))
    try:
        import redis

        r = redis.Redis(port=port, socket_connect_timeout=0.5)
        for _ in range(100):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        children.stop(proc)


def gone(pids, within=5.0) -> bool:
    """True once none of ``pids`` is alive (polled up to ``within`` seconds)."""
    import os

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                os.kill(pid, 0)
                state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True,
                                       text=True).stdout.strip()
                if state and not state.startswith("Z"):
                    alive.append(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return True
        time.sleep(0.05)
    return False
