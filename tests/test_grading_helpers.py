"""stickylab.grading: the helpers every exercise's tests call, checked on small routers."""

from __future__ import annotations

import importlib.util
import linecache
import textwrap
import time

import pytest

import stickylab as sl
from stickylab import grading


class Fixed(sl.Router):
    def __init__(self, answer):
        self.answer = answer

    def route(self, request, pool):
        return self.answer


class Crashes(sl.Router):
    def route(self, request, pool):
        return {}[request.cookies["LB"]]


class Loops(sl.Router):
    def route(self, request, pool):
        while True:
            pass


def test_time_bound_stops_an_infinite_loop():
    with pytest.raises(TimeoutError, match="did not return within 0.2 s"):
        with grading.time_bound(0.2, "the loop"):
            while True:
                pass


def test_an_inner_time_bound_leaves_the_outer_one_armed():
    with pytest.raises(TimeoutError, match="the outer block"):
        with grading.time_bound(0.3, "the outer block"):
            with grading.time_bound(5.0, "a quick call"):
                pass
            while True:
                pass


def test_an_inner_time_bound_never_outlives_the_outer_one():
    start = time.monotonic()
    with pytest.raises(TimeoutError) as err:
        with grading.time_bound(0.2, "the outer block"):
            with grading.time_bound(30.0, "a long call"):
                while True:
                    pass
    assert time.monotonic() - start < 5
    assert "ran out during a long call" in str(err.value) and "30 s" not in str(err.value), (
        "the message blames the outer bound, not the inner call's own 30 s")


def test_route_turns_an_infinite_loop_into_a_teaching_failure(monkeypatch):
    monkeypatch.setattr(grading, "CALL_SECONDS", 0.2)
    with pytest.raises(AssertionError, match=r"router Loops: route\(\) did not return"):
        grading.route(Loops(), grading.request(), grading.pool())


def test_route_names_the_router_the_request_and_the_crash():
    req = grading.request("203.0.113.9", cookies={"LB": "garbage"})
    with pytest.raises(AssertionError) as err:
        grading.route(Crashes(), req, grading.pool())
    text = str(err.value)
    assert "router Crashes" in text and "raised KeyError" in text and "'garbage'" in text
    assert "203.0.113.9" in text


@pytest.mark.parametrize("answer, pool, allow, phrase", [
    ("i1", grading.pool(["i0", "i2"], members=["i0", "i1", "i2"]), None, "is not up"),
    ("i1", grading.pool(["i0"], draining=["i1"]), ("i0",), "is draining"),
    (0, grading.pool(), None, "plain str"),
])
def test_route_explains_an_answer_it_cannot_accept(answer, pool, allow, phrase):
    with pytest.raises(AssertionError, match=phrase):
        grading.route(Fixed(answer), grading.request(), pool, allow=allow)


def test_route_accepts_a_live_instance():
    assert grading.route(Fixed("i2"), grading.request(), grading.pool()) == "i2"


def test_plain_rejects_an_object_that_equals_everything():
    class Always(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    assert grading.plain("i0", str, "ring") == "i0"
    got = grading.plain(Always("i9"), str, "ring")
    assert type(got) is str and got == "i9" and got != "i0", "its characters, without its =="
    with pytest.raises(AssertionError, match="plain str"):
        grading.plain(b"i0", str, "ring")


def test_plain_takes_the_value_of_a_numpy_scalar_as_real_grading_receives_it():
    np = pytest.importorskip("numpy")
    got = grading.plain(np.str_("i1"), str, "ring")
    assert type(got) is str and got == "i1"
    assert type(grading.plain(np.float64(0.25), float, "share")) is float
    with pytest.raises(AssertionError, match="plain int"):
        grading.plain(np.float64(2.0), int, "count")
    assert grading.route(Fixed(np.str_("i2")), grading.request(), grading.pool()) == "i2"


def test_no_healthy_ok_refuses_a_router_that_returns_none_instead_of_raising():
    req = grading.request()
    empty = grading.pool([], draining=["i1"])
    assert grading.no_healthy_ok(Fixed("i1"), req, empty) == "i1"
    with pytest.raises(AssertionError, match="returning None is not a 503"):
        grading.no_healthy_ok(Fixed(None), req, empty)


def test_client_keeps_the_cookies_a_router_sets():
    router = sl.routers.CookieInsert(secret=b"grading-helpers-secret")
    client = grading.Client("198.51.100.4")
    first, response = client.send(router, grading.pool())
    assert response.cookie("SERVERID") is not None and "SERVERID" in client.jar
    again, response = client.send(router, grading.pool(), time=1.0)
    assert again == first and response.cookie("SERVERID") is None


def test_no_healthy_ok_accepts_a_503_and_rejects_other_crashes():
    empty = grading.pool([], draining=["i1"])
    assert grading.no_healthy_ok(sl.routers.RoundRobin(), grading.request(), empty) is None
    with pytest.raises(AssertionError, match="raise sl.NoHealthyInstance"):
        grading.no_healthy_ok(Crashes(), grading.request(cookies={"LB": "x"}), empty)


def _module(tmp_path, name, body):
    path = tmp_path / f"{name}.py"
    path.write_text("import stickylab as sl\n" + textwrap.dedent(body))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_same_across_restarts_catches_pythons_salted_hash(tmp_path):
    salted = _module(tmp_path, "salted", """
        def pick(ip):
            return ["i0", "i1", "i2", "i3"][hash(ip) % 4]
        """)
    with pytest.raises(AssertionError, match="PYTHONHASHSEED"):
        grading.same_across_restarts(salted.pick, "[pick(f'10.0.0.{k}') for k in range(40)]")


def test_same_across_restarts_accepts_a_stable_hash(tmp_path):
    stable = _module(tmp_path, "stable", """
        def pick(ip):
            return ["i0", "i1", "i2", "i3"][sl.hashing.stable_hash(ip) % 4]
        """)
    grading.same_across_restarts(stable.pick, "[pick(f'10.0.0.{k}') for k in range(40)]")


def test_source_of_a_class_defined_in_a_notebook_cell():
    cell = "class Cell(sl.Router):\n    def route(self, request, pool):\n        return 'i0'\n"
    name = "/tmp/ipykernel_0/123456.py"     # how ipykernel names a cell's code
    linecache.cache[name] = (len(cell), None, cell.splitlines(True), name)
    try:
        namespace = {"sl": sl}
        exec(compile(cell, name, "exec"), namespace)
        assert grading.source_of(namespace["Cell"]) == cell
    finally:
        linecache.cache.pop(name, None)


def test_a_passed_visible_test_says_hidden_tests_check_more(capsys, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    grading.visible_passed("02_cookie_affinity")
    said = capsys.readouterr().out
    assert "Hidden tests check more" in said
    assert "python -m stickylab.grade exercises/02_cookie_affinity/02_cookie_affinity.ipynb" in said
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")       # graded: the hidden tests just ran
    grading.visible_passed("02_cookie_affinity")
    assert capsys.readouterr().out == ""
