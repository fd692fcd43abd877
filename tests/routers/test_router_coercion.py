"""One check of the router a learner hands over: the simulator and the live lab refuse the same things.

``sl.routers.as_router`` is the check the simulator, the lab and its proxy call; the tests
here build a Lab or a Proxy without starting it, so no process or server runs.
"""

import pytest

import stickylab as sl
from stickylab.routers import as_router


class NoRoute(sl.Router):
    """A Router subclass that forgot to write route()."""


class NotARouter:
    """Has a route() method, but is no subclass of sl.Router."""

    def route(self, request, pool):
        return pool.healthy[0]


def route_function(request, pool):
    return pool.healthy[0]


BAD = [
    pytest.param(sl.routers.RoundRobin, r"not the class: RoundRobin\(\)", id="a router class"),
    pytest.param(NoRoute(), r"router 'NoRoute' does not implement route\(request, pool\)", id="no route()"),
    pytest.param(route_function, "got the function route_function: a router is an object of a subclass "
                 "of sl.Router", id="a function"),
    pytest.param(NotARouter, "got the class NotARouter, which is not a subclass of sl.Router", id="a class"),
    pytest.param(NotARouter(), "got <.*NotARouter object at .*>: a router is an object", id="an object"),
    pytest.param(None, "got None", id="None"),
    pytest.param(42, "got 42", id="a number"),
]


@pytest.mark.parametrize("value, message", BAD)
def test_as_router_refuses_what_is_not_a_router_and_names_it(value, message):
    with pytest.raises(TypeError, match=message):
        as_router(value)


def test_as_router_takes_a_router_as_it_is_and_builds_one_by_name():
    router = sl.routers.CookieInsert()
    assert as_router(router) is router
    assert isinstance(as_router("cookie_insert"), sl.routers.CookieInsert)
    with pytest.raises(ValueError, match="unknown router name 'sticky-magic'"):
        as_router("sticky-magic")


@pytest.mark.parametrize("value, message", BAD)
def test_the_simulator_refuses_them_in_those_words(value, message, small):
    with pytest.raises(TypeError, match=message):
        sl.simulate(small, value)


@pytest.mark.parametrize("value, message", BAD)
def test_the_live_lab_refuses_what_the_simulator_refuses(value, message):
    live = pytest.importorskip("stickylab.live", reason="the live lab needs aiohttp (requirements.txt)")
    with pytest.raises(TypeError, match=message):
        live.Lab(value)


@pytest.mark.parametrize("value, message", BAD)
def test_the_live_proxy_refuses_them_too(value, message):
    live = pytest.importorskip("stickylab.live", reason="the live lab needs aiohttp (requirements.txt)")
    with pytest.raises(TypeError, match=message):
        live.Proxy(value)


def test_the_live_lab_runs_the_router_it_is_given_and_the_simulator_a_copy(small):
    live = pytest.importorskip("stickylab.live", reason="the live lab needs aiohttp (requirements.txt)")
    router = sl.routers.CookieInsert()
    assert live.Lab(router).router is router
    assert isinstance(live.Lab("RoundRobin").router, sl.routers.RoundRobin)
    assert live.Proxy(router).router is router
    assert sl.simulate(small.replace(users=20, duration=30.0), router).router is not router
