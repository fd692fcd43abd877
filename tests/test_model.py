import copy
import dataclasses
import pickle

import numpy as np
import pytest

import stickylab as sl


def test_headers_are_case_insensitive_and_read_only():
    h = sl.Headers({"X-User-Id": "u1", "Authorization": "Bearer t"})
    assert h["x-user-id"] == "u1" and h.get("X-USER-ID") == "u1" and "authorization" in h
    assert h.get("missing") is None and h.get("missing", "d") == "d"
    for change in (lambda: h.__setitem__("x-new", "v"), lambda: h.update(a="b"), lambda: h.pop("x-user-id"),
                   lambda: h.clear(), lambda: h.setdefault("k", "v"), lambda: h.__delitem__("x-user-id"),
                   lambda: h.popitem()):
        with pytest.raises(TypeError, match="read-only"):
            change()
    assert h == {"x-user-id": "u1", "authorization": "Bearer t"}
    clone = pickle.loads(pickle.dumps(h))
    assert type(clone) is sl.Headers and clone == h and copy.deepcopy(h) == h


def test_request_wraps_plain_header_dicts():
    r = sl.Request("198.51.100.1", {"X-Token": "abc"}, {"A": "1"}, "/p", 2.5)
    assert r.headers.get("x-token") == "abc" and r.cookies == {"A": "1"} and r.time == 2.5
    assert "198.51.100.1" in repr(r) and "/p" in repr(r)


def test_response_set_cookie_records_attributes_and_renders_header():
    resp = sl.Response()
    resp.set_cookie("SRV", "abc", max_age=60, secure=True)
    c = resp.cookie("SRV")
    assert (c.value, c.max_age, c.http_only, c.secure) == ("abc", 60, True, True)
    assert c.header() == "SRV=abc; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax"
    assert resp.cookie("other") is None


@pytest.mark.parametrize("name,value,max_age", [("", "v", None), ("a b", "v", None),
                                                ("ok", "v;x", None), ("ok", "v", -1)])
def test_response_rejects_bad_cookies(name, value, max_age):
    with pytest.raises(ValueError, match="cookie|max_age"):
        sl.Response().set_cookie(name, value, max_age=max_age)


@pytest.mark.parametrize("field, value", [
    ("name", "a\r\nSet-Cookie: x"), ("name", ""), ("name", "na;me"), ("name", None),
    ("value", "v\r\nX-Evil: 1"), ("value", "caf\u00e9"), ("value", 'say "hi"'), ("value", "a\\b"),
    ("value", 7), ("same_site", "Lax\r\nX-Evil: 1"), ("same_site", "lax"), ("same_site", None),
    ("max_age", -1), ("max_age", float("nan")), ("max_age", float("inf")), ("max_age", "60"),
    ("max_age", True),
])
def test_cookie_checks_every_field_naming_the_bad_value(field, value):
    """Nothing but a valid cookie reaches a Set-Cookie header: no CR/LF, no attribute injection."""
    fields = {"name": "SRV", "value": "abc", "max_age": 60, "same_site": "Lax", field: value}
    with pytest.raises(ValueError) as err:
        sl.Cookie(**fields)
    assert repr(value) in str(err.value)
    with pytest.raises(ValueError):
        sl.Response().set_cookie(**fields)


def test_cookie_flags_are_booleans_and_same_site_takes_the_standard_values():
    with pytest.raises(TypeError, match="secure=1"):
        sl.Cookie("SRV", "abc", secure=1)
    for same_site in ("Strict", "Lax", "None", ""):
        assert sl.Cookie("SRV", "abc", same_site=same_site).header().count("SameSite") == (same_site != "")


def test_a_fractional_max_age_is_rounded_up_never_to_a_deleting_zero():
    assert "Max-Age=1;" in sl.Cookie("SRV", "abc", max_age=0.5).header()
    assert "Max-Age=0;" in sl.Cookie("SRV", "", max_age=0).header()
    assert "Max-Age=60;" in sl.Cookie("SRV", "abc", max_age=np.int64(60)).header()


@pytest.mark.parametrize("field", ["healthy", "draining", "members"])
def test_pool_refuses_a_bare_string_naming_it(field):
    kwargs = {"healthy": ["i0"], field: "i0"}
    if field == "draining":
        kwargs["healthy"] = ["i1"]
    with pytest.raises(TypeError, match=f"{field}='i0'"):
        sl.Pool(**kwargs)
    with pytest.raises(TypeError, match="healthy=5"):
        sl.Pool(healthy=5)
    pool = sl.Pool(healthy=["i0"])
    with pytest.raises(TypeError, match=f"{field}='i0'"):
        pool.update(**kwargs)
    assert pool.healthy == ("i0",) and pool.version == 1     # unchanged by the refused update


def test_pool_orders_ids_by_creation_and_tracks_state():
    pool = sl.Pool(healthy=["i0", "i2"], draining=["i1"], members=["i0", "i1", "i2", "i3"])
    assert pool.ids == ("i0", "i1", "i2")
    assert pool.is_up("i1") and pool.is_up("i2") and not pool.is_up("i3")
    assert pool.members == ("i0", "i1", "i2", "i3")
    version = pool.version
    pool.update(healthy=["i0"], members=["i0", "i1"])
    assert pool.version == version + 1 and pool.ids == ("i0",) and not pool.is_up("i2")


def test_pool_rejects_contradictions():
    with pytest.raises(ValueError, match="both healthy and draining"):
        sl.Pool(healthy=["i0"], draining=["i0"])
    with pytest.raises(ValueError, match="not members"):
        sl.Pool(healthy=["i0", "i5"], members=["i0"])
    with pytest.raises(TypeError, match="strings"):
        sl.Pool(healthy=[0])


def test_pool_load_from_mapping_or_callable():
    assert sl.Pool(healthy=["i0"], load={"i0": 3}).load("i0") == 3
    assert sl.Pool(healthy=["i0"], load=lambda i: 7).load("i0") == 7
    assert sl.Pool(healthy=["i0"]).load("i0") == 0


def test_request_cookies_are_read_only_and_survive_copy_and_pickle():
    cookies = sl.Cookies({"A": "1"})
    for change in (lambda: cookies.__setitem__("B", "2"), lambda: cookies.update(B="2"),
                   lambda: cookies.__ior__({"B": "2"}), lambda: cookies.pop("A")):
        with pytest.raises(TypeError, match="read-only.*on_response"):
            change()
    clone = pickle.loads(pickle.dumps(cookies))
    assert type(clone) is sl.Cookies and clone == cookies == {"A": "1"} and copy.deepcopy(cookies) == cookies
    bare = sl.Request("198.51.100.1")
    assert bare.cookies == {} and type(bare.cookies) is sl.Cookies


def test_a_hand_built_request_copies_its_cookies_into_a_read_only_mapping():
    jar = {"LB": "i1"}
    request = sl.Request("198.51.100.1", cookies=jar)
    assert type(request.cookies) is sl.Cookies and request.cookies == {"LB": "i1"}
    with pytest.raises(TypeError, match="read-only"):
        request.cookies["LB"] = "i2"
    jar["LB"] = "i0"            # the caller's dict is the caller's: the request keeps what it was sent
    assert request.cookies["LB"] == "i1"
    sent = sl.Cookies({"A": "1"})
    assert sl.Request("198.51.100.1", cookies=sent).cookies is sent     # already read-only: no copy
    with pytest.raises(TypeError, match="cookies must be a mapping.*'LB'"):
        sl.Request("198.51.100.1", cookies=[("LB", "i1")])


def test_the_apps_session_cookie_equals_a_checked_one():
    made = sl.Cookie._session("SESSION", "s1f")
    checked = sl.Cookie("SESSION", "s1f")
    assert made == checked and hash(made) == hash(checked) and made.header() == checked.header()
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.value = "other"
