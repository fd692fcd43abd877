import copy
import pickle

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
