"""``python -m stickylab.live.proxy --workers 2``: two processes on one port read each other's cookies."""

import asyncio
import os
import sys

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

import psutil
from aiohttp import web

from stickylab.live.backend import make_app
from stickylab.live.stores import MemoryStore

from live_helpers import get

pytestmark = pytest.mark.slow


async def backends(n):
    runners, found = [], {}
    for k in range(n):
        runner = web.AppRunner(make_app(f"i{k}", MemoryStore()), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        found[f"i{k}"] = f"127.0.0.1:{runner.addresses[0][1]}"
    return runners, found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreads connections on Linux")
def test_two_proxy_processes_share_a_port_and_the_affinity_cookie():
    secret = os.environ.get("STICKYLAB_TEST_PROXY_SECRET", "")        # "": the proxy draws one for all

    async def go():
        runners, found = await backends(2)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "stickylab.live.proxy", "--workers", "2", "--router", "CookieInsert",
            *[f"--backend={i}={a}" for i, a in found.items()], stdout=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.PIPE, env={**os.environ, "STICKYLAB_PROXY_SECRET": secret})
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), 60.0)
            assert line.startswith(b"READY "), line
            port = int(line.split()[1])
            url = f"http://127.0.0.1:{port}"
            listening = {c.pid for c in psutil.net_connections("tcp")
                         if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN}
            tree = {proc.pid, *(p.pid for p in psutil.Process(proc.pid).children(recursive=True))}
            assert len(listening) == 2 and listening <= tree, "two processes listen on the port"
            _, headers, _ = await get(url, "/login")
            cookie = "; ".join(c.split(";")[0] for c in headers.getall("Set-Cookie"))
            seen = set()
            for _ in range(30):             # a new connection each: the kernel picks a process each time
                status, again, _ = await get(url, "/app", Cookie=cookie)
                assert status == 200 and "Set-Cookie" not in again
                seen.add(again["X-Instance"])
            assert seen == {headers["X-Instance"]}
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 20.0)
            for runner in runners:
                await runner.cleanup()
    asyncio.run(asyncio.wait_for(go(), 120.0))
