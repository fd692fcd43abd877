"""The client model: a cookie jar that follows Set-Cookie, read-only cookies for routers, grading.Client."""

import math

import pytest

import stickylab as sl
from stickylab import grading
from stickylab.browser import Browser

from conftest import pool_of

POOL3 = ("i0", "i1", "i2")


class Writes(sl.Router):
    """A learner's mistake: "remembering" by writing to the request instead of setting a cookie."""

    def route(self, request, pool):
        iid = request.cookies.get("LB") or pool.healthy[0]
        request.cookies["LB"] = iid
        return iid


def test_a_request_carries_the_jar_read_only_and_a_write_is_a_clear_type_error():
    browser = Browser(cookies={"A": "1"})
    request = browser.request("/app", 1.0)
    assert isinstance(request.cookies, sl.Cookies) and request.cookies == {"A": "1"}
    with pytest.raises(TypeError, match=r"read-only.*response.set_cookie"):
        Writes().route(request, pool_of(*POOL3))
    for change in (lambda c: c.update(B="2"), lambda c: c.pop("A"), lambda c: c.setdefault("B", "2"),
                   lambda c: c.clear(), lambda c: c.__delitem__("A"), lambda c: c.popitem()):
        with pytest.raises(TypeError, match="read-only"):
            change(request.cookies)
    assert browser.jar == {"A": "1"} and request.cookies == {"A": "1"}


def test_each_request_keeps_the_cookies_it_was_sent():
    browser = Browser()
    before = browser.request()
    browser.store([sl.Cookie("A", "1")], time=0.0)
    after = browser.request()
    browser.jar["B"] = "2"             # the owner edits the jar (a test planting a cookie)
    edited = browser.request()
    assert (before.cookies, after.cookies, edited.cookies) == ({}, {"A": "1"}, {"A": "1", "B": "2"})


def test_max_age_zero_deletes_and_max_age_expires_at_its_time():
    browser = Browser()
    browser.store([sl.Cookie("LONG", "x", max_age=60), sl.Cookie("SHORT", "y", max_age=10),
                   sl.Cookie("VISIT", "z")], time=100.0)
    assert browser.expires == 110.0
    assert browser.request(time=109.9).cookies == {"LONG": "x", "SHORT": "y", "VISIT": "z"}
    assert browser.request(time=110.0).cookies == {"LONG": "x", "VISIT": "z"}     # Max-Age is up
    assert browser.expires == 160.0
    browser.store([sl.Cookie("LONG", "", max_age=0)], time=120.0)
    assert browser.request(time=120.0).cookies == {"VISIT": "z"}
    browser.store([sl.Cookie("VISIT", "w", max_age=5)], time=130.0)       # becomes a lasting cookie
    browser.store([sl.Cookie("VISIT", "v")], time=131.0)                  # and a session one again
    assert browser.request(time=200.0).cookies == {"VISIT": "v"}


def test_closing_the_browser_drops_session_cookies_and_the_token_not_lasting_ones():
    browser = Browser()
    browser.sign_in("u7", "s1")
    browser.store([sl.Cookie("SESSION", "s1"), sl.Cookie("AWSALB", "tag", max_age=3600)], time=0.0)
    request = browser.request(time=1.0)
    assert request.headers["Authorization"] == "Bearer s1" and request.headers["X-User-Id"] == "u7"
    browser.close()
    later = browser.request(time=2.0)
    assert later.cookies == {"AWSALB": "tag"} and dict(later.headers) == {"x-user-id": "u7"}
    assert browser.token is None and request.cookies["SESSION"] == "s1"    # what was sent stays sent


def test_a_browser_that_keeps_no_cookies_sends_none():
    browser = Browser(keeps_cookies=False)
    browser.store([sl.Cookie("SESSION", "s1")], time=0.0)
    assert browser.request().cookies == {} and browser.expires == math.inf
    with pytest.raises(TypeError, match="keeps_cookies"):
        Browser(keeps_cookies="no")


def test_send_lets_the_router_see_the_applications_cookie():
    router, apps, browser = sl.routers.AppCookieLearn(), sl.Apps(), Browser()
    home, response = browser.send(router, pool_of(*POOL3), apps, time=0.0)
    token = browser.jar["SESSION"]
    assert response.cookie("SESSION").value == token and router.table.snapshot() == {token: home}
    assert all(browser.send(router, pool_of(*POOL3), apps, time=t)[0] == home for t in (1.0, 2.0, 3.0))


# -- grading.Client is a Browser behind the checked helpers --------------------------------------
def test_grading_client_keeps_its_api_and_a_mutable_jar():
    router = sl.routers.CookieInsert(secret=b"browser-tests-secret")
    client = grading.Client("203.0.113.5", headers={"X-User-Id": "u1"}, cookies={"OTHER": "1"})
    first, response = client.send(router, grading.pool(), time=0.0, path="/app")
    assert type(client.jar) is dict and client.jar["SERVERID"] == response.cookie("SERVERID").value
    assert client.client_ip == "203.0.113.5" and client.headers == {"X-User-Id": "u1"}
    client.jar["SERVERID"] = "tampered"
    again, response = client.send(router, grading.pool(), time=1.0)
    assert response.cookie("SERVERID") is not None and client.jar["SERVERID"] != "tampered"


def test_grading_client_expires_cookies_by_their_max_age():
    router = sl.routers.CookieInsert(max_age=10, secret=b"browser-tests-secret")
    client = grading.Client()
    client.send(router, grading.pool(), time=0.0)
    assert "SERVERID" in client.jar
    _, response = client.send(router, grading.pool(), time=10.0)
    assert response.cookie("SERVERID") is not None      # it had expired: the balancer set it again


def test_grading_client_explains_a_write_to_request_cookies():
    with pytest.raises(AssertionError, match=r"route\(\) raised TypeError: request cookies are read-only"):
        grading.Client().send(Writes(), grading.pool())
