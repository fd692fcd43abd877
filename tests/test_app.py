"""The application model: sessions that time out and are purged, a shared store, the LRU cache."""

import itertools

import numpy as np
import pytest

import stickylab as sl
from stickylab.app import LOGOUT_COOKIE, SESSION_COOKIE, App, Apps
from stickylab.trace import LOST, NEEDED


def test_login_resume_and_logout():
    app = App(session_timeout=100, ids=itertools.count(1))
    flags, token, cookies = app.serve("/login", None, 0.0)
    assert (flags, token, cookies) == (0, "s1", [sl.Cookie(SESSION_COOKIE, "s1")])
    assert app.serve("/app", token, 50.0) == (NEEDED, token, None)
    assert app.serve("/logout", token, 60.0) == (NEEDED, None, [LOGOUT_COOKIE])
    assert token not in app.sessions


def test_a_session_idle_longer_than_the_timeout_is_gone():
    app = App(session_timeout=100, ids=itertools.count(1))
    _, token, _ = app.serve("/login", None, 0.0)
    assert app.resume(token, 100.0)                     # exactly the timeout: still alive, refreshed
    assert not app.resume(token, 200.5)                 # idle 100.5 s: expired
    flags, again, cookies = app.serve("/app", token, 200.5)
    assert flags == NEEDED | LOST and again != token and cookies[0].value == again
    assert app.serve("/logout", token, 201.0)[0] == NEEDED | LOST


def test_purge_forgets_only_expired_sessions_and_tidy_waits_for_them_to_pile_up():
    app = App(session_timeout=10, ids=itertools.count(1))
    old = [app.login(0.0) for _ in range(1500)]
    fresh = app.login(95.0)
    assert app.purge(100.0) == 1500 and list(app.sessions) == [fresh] and old[0] not in app.sessions
    for _ in range(900):
        app.login(100.0)
    assert app.tidy(200.0) == 0 and len(app.sessions) == 901       # under 1024: left alone
    for _ in range(200):
        app.login(200.0)
    assert app.tidy(200.0) == 901 and len(app.sessions) == 200


def test_apps_share_one_numbering_and_a_store_outlives_a_crash():
    apps = Apps(session_timeout=60)
    tokens = {apps[iid].login(0.0) for iid in ("i0", "i1", "i0", "i2")}
    assert len(tokens) == 4 and apps["i1"].timeout == 60.0
    store: dict = {}
    a, b = App(store=store), App(store=store)
    token = a.login(0.0)
    a.crash()
    assert b.resume(token, 1.0) and a.resume(token, 2.0)
    mine = App()
    token = mine.login(0.0)
    mine.warm("u1")
    mine.crash()
    assert not mine.resume(token, 1.0) and not mine.cache


def test_the_cache_evicts_the_least_recently_used_user():
    app = App(cache_size=3)
    assert [app.warm(u) for u in "abc"] == [False, False, False]
    assert app.warm("a")                                # a is now the most recent
    assert not app.warm("d")                            # evicts b, the least recently used
    assert list(app.cache) == ["c", "a", "d"]
    assert [app.warm(u) for u in "acdb"] == [True, True, True, False]


def test_handle_reads_the_session_cookie_or_the_bearer_token():
    app = App(ids=itertools.count(1))
    first = app.handle(sl.Request("192.0.2.1", path="/login"))
    token = first.cookie(SESSION_COOKIE).value
    assert first.headers["X-Cache"] == "MISS"
    by_cookie = app.handle(sl.Request("192.0.2.1", cookies={SESSION_COOKIE: token}, path="/app", time=1))
    assert by_cookie.cookies == [] and by_cookie.headers["X-Cache"] == "HIT"
    by_token = app.handle(sl.Request("192.0.2.1", {"Authorization": f"Bearer {token}"}, path="/app", time=2))
    assert by_token.cookies == []
    out = app.handle(sl.Request("192.0.2.1", cookies={SESSION_COOKIE: token}, path="/logout", time=3))
    assert out.cookie(SESSION_COOKIE).max_age == 0 and token not in app.sessions


@pytest.mark.parametrize("kwargs, error", [
    ({"session_timeout": 0}, ValueError), ({"session_timeout": float("inf")}, ValueError),
    ({"session_timeout": "60"}, ValueError), ({"cache_size": 0}, ValueError),
    ({"cache_size": 2.5}, ValueError), ({"store": []}, TypeError),
])
def test_bad_settings_are_refused_naming_the_value(kwargs, error):
    with pytest.raises(error) as err:
        App(**kwargs)
    assert repr(next(iter(kwargs.values()))) in str(err.value)


def test_numpy_settings_are_accepted():
    app = App(session_timeout=np.float64(30), cache_size=np.int64(5))
    assert app.timeout == 30.0 and app.cache_size == 5 and type(app.cache_size) is int
