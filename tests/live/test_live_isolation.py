"""A learner's router cannot stall, stop or corrupt the proxy: it runs off the loop, within a budget.

Each test is a breakage of a proxy that called its router on the event loop: a router that
sleeps serialised every user, ``KeyboardInterrupt`` stopped the loop, ``BaseException`` and
``GeneratorExit`` dropped the connection, a failing ``label()`` gave a page naming nothing,
``pool.update`` emptied the live pool, and a failure's message was kept and logged whole.
"""

import asyncio
import logging
import time

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

import stickylab as sl
from stickylab.live.guard import ReadOnlyPool, RouterGuard, is_builtin

from live_helpers import get, stack


def run(coro, within=20.0):
    return asyncio.run(asyncio.wait_for(coro, within))


class SleepsWhenAsked(sl.Router):
    """Sleeps ``X-Sleep`` seconds in route() (as a router doing a blocking lookup would)."""

    def route(self, request, pool):
        time.sleep(float(request.headers.get("x-sleep", "0")))
        return pool.healthy[0]


def test_a_slow_router_call_delays_only_its_own_request():
    async def go():
        async with stack(SleepsWhenAsked(), 2) as proxy:
            slow = [asyncio.ensure_future(get(proxy.url, "/login", **{"X-Sleep": "1"})) for _ in range(4)]
            await asyncio.sleep(0.1)
            t0 = time.perf_counter()
            assert (await get(proxy.url, "/login"))[0] == 200
            fast = time.perf_counter() - t0
            t0 = time.perf_counter()
            statuses = [s for s, _, _ in await asyncio.gather(*slow)]
            assert fast < 0.5, f"a quick request waited {fast:.2f} s behind slow router calls"
            assert statuses == [200] * 4 and time.perf_counter() - t0 < 1.5, "the slow calls ran side by side"
    run(go())


def test_a_router_past_its_budget_is_a_500_naming_it_and_the_next_request_is_served():
    async def go():
        async with stack(SleepsWhenAsked(), 2, router_timeout=0.3) as proxy:
            t0 = time.perf_counter()
            status, _, body = await get(proxy.url, "/login", **{"X-Sleep": "2"})
            assert status == 500 and "SleepsWhenAsked" in body and "longer than 0.3 s" in body
            assert time.perf_counter() - t0 < 1.5
            assert (await get(proxy.url, "/login"))[0] == 200
    run(go())


class Spins(sl.Router):
    """Loops forever when asked, swallowing any Exception (a learner's retry loop gone wrong)."""

    def route(self, request, pool):
        while request.headers.get("x-spin"):
            try:
                sum(range(1000))
            except Exception:
                pass
        return pool.healthy[0]


def test_a_router_looping_forever_is_stopped_at_its_budget():
    async def go():
        async with stack(Spins(), 2, router_timeout=0.3) as proxy:
            status, _, body = await get(proxy.url, "/login", **{"X-Spin": "1"})
            assert status == 500 and "longer than 0.3 s" in body
            for _ in range(100):
                if proxy.guard.busy() == 0:
                    break
                await asyncio.sleep(0.02)
            assert proxy.guard.busy() == 0, "the looping call was stopped: it holds no thread, nor the GIL"
            assert (await get(proxy.url, "/login"))[0] == 200
    run(go())


class Raises(sl.Router):
    def __init__(self, exc, where="route"):
        self.exc, self.where = exc, where

    def route(self, request, pool):
        if self.where == "route":
            raise self.exc
        return pool.healthy[0]

    def on_response(self, request, instance, response):
        if self.where == "on_response":
            raise self.exc


@pytest.mark.parametrize("where", ["route", "on_response"])
@pytest.mark.parametrize("exc", [KeyboardInterrupt(), BaseException("odd"), GeneratorExit(), SystemExit(2),
                                 RecursionError("deep")], ids=type)
def test_any_exception_from_a_router_is_a_500_naming_it_and_the_proxy_lives_on(exc, where):
    async def go():
        async with stack(Raises(exc, where), 2) as proxy:
            status, _, body = await get(proxy.url, "/login")
            assert status == 500 and "Raises" in body and type(exc).__name__ in body
            assert f".{where} raised" in body
            for _ in range(3):              # the loop still runs: the next requests are answered too
                assert (await get(proxy.url, "/login"))[0] == 500
            proxy.router = sl.routers.RoundRobin()
            assert (await get(proxy.url, "/login"))[0] == 200
    run(go())


class BadLabel(sl.routers.RoundRobin):
    def __init__(self, fail_route=False):
        super().__init__()
        self.fail_route = fail_route

    def label(self):
        raise ValueError("no label")

    def route(self, request, pool):
        if self.fail_route:
            raise LookupError("nothing")
        return super().route(request, pool)


def test_a_router_whose_label_fails_still_routes_and_its_failures_name_its_class():
    async def go():
        async with stack(BadLabel(), 2) as proxy:
            assert (await get(proxy.url, "/login"))[0] == 200
        async with stack(BadLabel(fail_route=True), 2) as proxy:
            status, _, body = await get(proxy.url, "/login")
            assert status == 500 and "'BadLabel'.route raised LookupError" in body
    run(go())


class Empties(sl.Router):
    """Tries to change the pool it is handed, then routes."""

    def __init__(self, how):
        self.how = how

    def route(self, request, pool):
        if self.how == "update":
            pool.update(healthy=[])
        elif self.how == "assign":
            pool.healthy = ()
        return pool.healthy[0]


@pytest.mark.parametrize("how", ["update", "assign"])
def test_a_router_cannot_change_the_proxys_pool(how):
    async def go():
        async with stack(Empties(how), 2) as proxy:
            status, _, body = await get(proxy.url, "/login")
            assert status == 500 and "read-only" in body
            assert proxy.pool.healthy == ("i0", "i1")
            proxy.router = sl.routers.RoundRobin()
            assert [(await get(proxy.url, "/login"))[0] for _ in range(2)] == [200, 200]
    run(go())


def test_the_read_only_pool_reads_like_the_pool_and_sees_live_load():
    pool = sl.Pool(["i0", "i1"], draining=["i2"], members=["i0", "i1", "i2", "i3"], load={"i1": 3})
    view = ReadOnlyPool(["i0", "i1"], draining=["i2"], members=["i0", "i1", "i2", "i3"], load={"i1": 3})
    assert (view.healthy, view.draining, view.members, view.ids) == (pool.healthy, pool.draining,
                                                                     pool.members, pool.ids)
    assert view.is_up("i2") and not view.is_up("i3") and view.load("i1") == 3
    with pytest.raises(TypeError, match="read-only"):
        view.update(["i0"])


class Chatty(sl.Router):
    """Fails with a megabyte of message that holds the request's session cookie."""

    def route(self, request, pool):
        raise ValueError("x" * 1_000_000 + request.cookies.get("SESSION", ""))


def test_what_is_kept_and_logged_of_a_failure_is_short_and_holds_no_secret(caplog):
    secret = "top-secret-session-value"

    async def go():
        async with stack(Chatty(), 1) as proxy:
            for _ in range(5):
                status, _, body = await get(proxy.url, "/app", Cookie=f"SESSION={secret}",
                                            Authorization="Bearer bearer-credential")
                assert status == 500 and len(body) < 1000
            return list(proxy.errors)

    with caplog.at_level(logging.DEBUG, logger="stickylab"):
        errors = run(go())
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("stickylab")]
    assert len(errors) == 5 and all(len(e) < 1000 and "ValueError" in e for e in errors)
    assert len(logged) == 1, "the same failure again is not logged again"
    assert not [r for r in caplog.records if r.exc_info], "no traceback is logged"
    for text in errors + logged + [caplog.text]:
        assert secret not in text and "bearer-credential" not in text


def test_the_packages_own_routers_run_inline_and_a_learners_off_the_loop():
    assert is_builtin(sl.routers.CookieInsert()) and is_builtin(sl.routers.RoundRobin())
    assert not is_builtin(SleepsWhenAsked()) and not is_builtin(BadLabel())
    assert is_builtin(sl.routers.CookieInsert(balance=sl.routers.LeastConnections()))
    assert not is_builtin(sl.routers.CookieInsert(balance=SleepsWhenAsked())), "it calls a learner's router"
    patched = sl.routers.RoundRobin()
    patched.route = lambda request, pool: "i0"
    assert not is_builtin(patched)
    assert not RouterGuard(sl.routers.RoundRobin()).isolated and RouterGuard(Chatty()).isolated
    assert RouterGuard(sl.routers.RoundRobin(), isolate=True).isolated
    with pytest.raises(ValueError, match="router_timeout"):
        RouterGuard(Chatty(), timeout=0)


def test_the_router_threads_end_when_the_router_is_replaced_or_the_proxy_stops():
    async def settle(guard):
        for _ in range(100):
            if guard.threads() == 0:
                return
            await asyncio.sleep(0.02)

    async def go():
        async with stack(SleepsWhenAsked(), 2) as proxy:
            first = proxy.guard
            await asyncio.gather(*(get(proxy.url, "/login", **{"X-Sleep": "0.2"}) for _ in range(3)))
            assert first.threads() >= 3, "side by side: a thread each"
            proxy.router = sl.routers.RoundRobin()
            await settle(first)
            assert first.threads() == 0
            proxy.router = SleepsWhenAsked()
            second = proxy.guard
            assert (await get(proxy.url, "/login"))[0] == 200 and second.threads() == 1
        await settle(second)
        assert second.threads() == 0
    run(go())


class RemovesWhileRouting(sl.Router):
    """Takes i1 out of the proxy while it decides, then names it (the lab removing a backend meanwhile)."""

    def __init__(self):
        self.proxy = None

    def route(self, request, pool):
        if "i1" in self.proxy.members:
            self.proxy.loop.call_soon_threadsafe(self.proxy.remove, "i1")
            time.sleep(0.2)
            return "i1"
        return pool.healthy[0]


def test_a_backend_removed_while_the_router_decides_is_routed_again():
    async def go():
        router = RemovesWhileRouting()
        async with stack(router, 2) as proxy:
            proxy.loop = asyncio.get_running_loop()
            router.proxy = proxy
            status, headers, _ = await get(proxy.url, "/login")
            assert status == 200 and headers["X-Instance"] == "i0" and "i1" not in proxy.members
    run(go())
