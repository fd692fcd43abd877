"""The edges of a learner's router: its label(), its exception's str(), and calls that never return.

Each test failed on a proxy that asked ``label()`` and ``str(exception)`` on its event loop
(a label that sleeps stalled every user; an exception whose ``str()`` raised dropped the
connection) and that kept at most 32 router threads, stuck ones included (32 calls blocked
in ``time.sleep`` made every later request wait its budget out and fail).
"""

import asyncio
import threading
import time

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

import stickylab as sl

from live_helpers import get, stack


def run(coro, within=30.0):
    return asyncio.run(asyncio.wait_for(coro, within))


def odd_one_is_a_500_and_others_are_served(router, header, words, slow):
    """A request with ``header`` gets a 500 saying ``words``; a plain one sent meanwhile is served at once.

    The proxy shares this loop: a loop blocked by the odd request stops the clock too.
    """
    async def go():
        async with stack(router, 2, router_timeout=0.5) as proxy:
            t0 = time.perf_counter()
            odd = asyncio.ensure_future(get(proxy.url, "/login", **{header: "1"}))
            await asyncio.sleep(0.2)
            assert (await get(proxy.url, "/login"))[0] == 200
            assert time.perf_counter() - t0 < 1.5, f"a quick request waited behind a slow {slow}"
            status, _, body = await odd
            assert status == 500 and words in body
    run(go())


class SlowLabel(sl.Router):
    """Fails on ``X-Fail``, and its label() takes 3 s (a label that looks something up)."""

    def label(self):
        time.sleep(3.0)
        return "slow-label"

    def route(self, request, pool):
        if request.headers.get("x-fail"):
            raise LookupError("no such user")
        return pool.healthy[0]


def test_a_label_that_sleeps_delays_no_other_user():
    odd_one_is_a_500_and_others_are_served(SlowLabel(), "X-Fail",
                                           "'SlowLabel'.route raised LookupError: no such user", "label()")


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no str for you")


class SlowToPrint(Exception):
    def __str__(self):
        time.sleep(3.0)
        return "finally"


class RaisesOdd(sl.Router):
    def __init__(self, exc):
        self.exc = exc

    def route(self, request, pool):
        if request.headers.get("x-fail"):
            raise self.exc
        return pool.healthy[0]


@pytest.mark.parametrize("exc, words", [(Unprintable(), "raised Unprintable"),
                                        (SlowToPrint(), "longer than 0.5 s")], ids=["raising", "sleeping"])
def test_an_exception_whose_str_fails_or_sleeps_is_still_a_500_and_others_are_served(exc, words):
    odd_one_is_a_500_and_others_are_served(RaisesOdd(exc), "X-Fail", words, "str()")


class StuckForSome(sl.Router):
    """Blocks in C (an Event's wait, beyond the thread-stopping reach) for requests with ``X-Stuck``."""

    def __init__(self):
        self.release = threading.Event()

    def route(self, request, pool):
        if request.headers.get("x-stuck"):
            self.release.wait(30.0)
        return pool.healthy[0]


@pytest.mark.slow
def test_router_calls_stuck_for_good_do_not_starve_other_users():
    async def go():
        router = StuckForSome()
        async with stack(router, 2, router_timeout=0.3) as proxy:
            try:
                stuck = await asyncio.gather(*(get(proxy.url, "/login", **{"X-Stuck": "1"})
                                               for _ in range(40)))
                assert [s for s, _, _ in stuck] == [500] * 40
                t0 = time.perf_counter()
                assert [(await get(proxy.url, "/login"))[0] for _ in range(5)] == [200] * 5
                assert time.perf_counter() - t0 < 2.0
            finally:
                router.release.set()
    run(go(), within=60.0)


class Shy:
    """An answer whose repr() raises (a learner's own class)."""

    def __repr__(self):
        raise RuntimeError("no repr")


class SlowToShow:
    def __repr__(self):
        time.sleep(3.0)
        return "SlowToShow()"


class Answers(sl.Router):
    def __init__(self, answer):
        self.answer = answer

    def route(self, request, pool):
        return self.answer if request.headers.get("x-odd") else pool.healthy[0]


@pytest.mark.parametrize("answer, words", [(Shy(), "a Shy (its repr() raised RuntimeError)"),
                                           (SlowToShow(), "longer than 0.5 s")], ids=["raising", "sleeping"])
def test_an_answer_whose_repr_fails_or_sleeps_is_a_500_and_others_are_served(answer, words):
    odd_one_is_a_500_and_others_are_served(Answers(answer), "X-Odd", words, "repr()")
