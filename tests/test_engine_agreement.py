"""The simulator agrees, request by request, with the same requests sent through App and Browser.

``sl.simulate`` writes out the common case of ``Browser.request``, ``App.serve`` and
``App.warm`` in its loop, for speed; so the rules they carry (a session idle longer than
``session_timeout`` has expired, a cookie lasts its ``Max-Age``, the cache drops its least
recently used user) exist twice. Here a plain loop sends a scenario's workload through
the same router with the public ``Browser`` and ``App`` methods, one call per step, and
every request must come out the same: the instance that served it and its outcome flags
(session needed, found or lost, cache hit, failed).
"""

import copy
from dataclasses import dataclass, field

import numpy as np
import pytest

import stickylab as sl
from stickylab.app import LOGIN_PATH, LOGOUT_PATH
from stickylab.trace import FAILED, HIT, LOST, NEEDED, NO_INSTANCE
from stickylab.workload import LOGIN, LOGOUT, NORMAL

PATHS = {NORMAL: "/app", LOGIN: LOGIN_PATH, LOGOUT: LOGOUT_PATH}


@dataclass
class Reference:
    """Per request, what the plain loop saw: the instance index and flags; and how sessions were lost."""

    instance: list = field(default_factory=list)
    outcome: list = field(default_factory=list)
    expired: int = 0        # requests whose session was still held where they landed, but had expired
    missing: int = 0        # requests whose session was not where they landed
    cookies_expired: int = 0    # requests before which the browser dropped a cookie past its Max-Age


def reference(sc: sl.Scenario, router: sl.Router, fail: sl.Fail | None = None) -> Reference:
    """Send ``sc``'s workload through ``router`` one public method at a time (``fail``: one crash)."""
    wl = sl.generate(sc)
    ids = [f"i{k}" for k in range(sc.instances)]
    store = {} if sc.session_store == "external" else None
    apps = sl.Apps(session_timeout=sc.session_timeout, cache_size=sc.cache_size, store=store)
    live = set(ids)
    pool = sl.Pool(healthy=ids)
    browsers = [sl.Browser(keeps_cookies=bool(keeps)) for keeps in wl.keeps_cookies]
    out = Reference()
    for t, u, kind, a in zip(wl.times.tolist(), wl.users.tolist(), wl.kinds.tolist(), wl.addr.tolist()):
        if fail is not None and t >= fail.at and fail.id in live:
            live.discard(fail.id)
            apps[fail.id].crash()
            pool.update(healthy=[i for i in ids if i in live], members=ids)
        browser, path = browsers[u], PATHS[kind]
        browser.client_ip = wl.addresses[a]
        jar_before = dict(browser.jar)
        request = browser.request(path, t)
        out.cookies_expired += len(request.cookies) < len(jar_before)
        try:
            iid = router.route(request, pool)
        except sl.NoHealthyInstance:
            iid = None
        if iid not in live:
            out.instance.append(NO_INSTANCE)
            out.outcome.append(FAILED if kind == LOGIN else FAILED | NEEDED)
            if kind == LOGOUT:
                browser.close()
            continue
        app = apps[iid]
        token = browser.token
        if kind == NORMAL and token is not None and not app.resume(token, t):
            held = app.sessions.get(token)
            out.expired += held is not None
            out.missing += held is None
        flags, new_token, cookies = app.serve(path, token, t)
        if new_token is not None and new_token != token:
            browser.sign_in(browser.user_id or f"u{u}", new_token)
        if app.warm(u):
            flags |= HIT
        response = sl.Response(cookies=cookies or ())
        router.on_response(request, iid, response)
        browser.receive(response, t)
        if kind == LOGOUT:
            browser.close()
        out.instance.append(int(iid[1:]))
        out.outcome.append(flags)
    return out


def both(sc, router, fail=None):
    """The simulator's result and the reference's, each from its own fresh copy of ``router``."""
    res = sl.simulate(sc, router, events=[fail] if fail else None)
    return res, reference(sc, copy.deepcopy(router), fail)


SCENARIO = sl.Scenario(users=150, instances=3, duration=900.0, seed=5, think_time=30.0, session_timeout=45.0,
                       away_time=120.0, nat_fraction=0.2, users_per_nat=10, mobile_fraction=0.2,
                       ip_change_interval=200.0, cookie_drop_fraction=0.15, cache_size=40)

ROUTERS = [
    pytest.param(lambda: sl.routers.CookieInsert(), id="CookieInsert"),
    pytest.param(lambda: sl.routers.CookieInsert(max_age=90.0), id="CookieInsert-max_age"),
    pytest.param(lambda: sl.routers.AppCookieLearn(timeout=60.0), id="AppCookieLearn"),
    pytest.param(lambda: sl.routers.SourceIPHash(), id="SourceIPHash"),
    pytest.param(lambda: sl.routers.StickTable(expire=60.0), id="StickTable"),
    pytest.param(lambda: sl.routers.HeaderHash(), id="HeaderHash"),
    pytest.param(lambda: sl.routers.RoundRobin(), id="RoundRobin"),
    pytest.param(lambda: sl.routers.Random(seed=3), id="Random"),
]


@pytest.mark.parametrize("make", ROUTERS)
@pytest.mark.parametrize("fail", [None, sl.Fail("i1", at=400.0)], ids=["steady", "i1 fails"])
def test_the_simulator_serves_every_request_as_app_and_browser_do(make, fail):
    res, ref = both(SCENARIO, make(), fail)
    assert len(ref.outcome) == len(res.outcome)
    instance = np.asarray(res.instance)
    first = np.flatnonzero(instance != np.array(ref.instance))
    assert not first.size, f"request {first[0]}: simulator sent it to {instance[first[0]]}, reference to " \
                           f"{ref.instance[first[0]]}"
    outcome = np.asarray(res.outcome)
    first = np.flatnonzero(outcome != np.array(ref.outcome))
    assert not first.size, f"request {first[0]}: simulator's flags {outcome[first[0]]}, reference's " \
                           f"{ref.outcome[first[0]]}"


def test_the_comparison_meets_expired_sessions_and_cookies():
    """The scenario exercises the rules compared: sessions expire where they are held, and cookies lapse."""
    _, ref = both(SCENARIO, sl.routers.CookieInsert(max_age=90.0))
    assert ref.expired > 20 and ref.cookies_expired > 20
    lost = sum(1 for flags in ref.outcome if flags & LOST)
    assert lost >= ref.expired + ref.missing


def test_an_external_store_agrees_too():
    res, ref = both(SCENARIO.replace(session_store="external"), sl.routers.RoundRobin(),
                    sl.Fail("i2", at=300.0))
    assert np.array_equal(res.instance, ref.instance) and np.array_equal(res.outcome, ref.outcome)
