"""The boundary between a learner's code and the tests: plain data on the wire, handles for the rest.

Here a plain Python process stands in for the learner's kernel (no Jupyter, no sandbox):
it defines a notebook's worth of names and serves them, and the tests call it through
:class:`stickylab.grade.remote.Connection` as the grading process does.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import stickylab as sl
from stickylab import grading
from stickylab.grade import wire
from stickylab.grade.remote import Connection, KernelGone, RemoteError, RemoteRouter

LEARNER = textwrap.dedent('''
    import os, sys, time
    import stickylab as sl
    from stickylab.grade.learner_side import serve

    class Sticky(sl.Router):
        def __init__(self):
            self.seen = {}
            self.versions = []
            self.refusals = []
        def route(self, request, pool):
            try:
                request.cookies["LB"] = "forged"   # a learner's mistake: refused where it is made
            except TypeError as exc:
                self.refusals.append(str(exc))
            self.versions.append((id(pool), pool.version))
            if not pool.healthy:
                raise sl.NoHealthyInstance("none")
            return self.seen.setdefault(request.client_ip, pool.healthy[len(self.seen) % len(pool.healthy)])
        def on_response(self, request, instance, response):
            if "LB" not in request.cookies or request.cookies["LB"] == "forged":
                response.set_cookie("LB", "v-" + instance)

    class Liar(str):
        def __eq__(self, other):
            return True
        __hash__ = str.__hash__

    class Oops(Exception):
        pass

    def liar():
        return Liar("nope")

    def numbers():
        import numpy as np
        return {"share": np.float64(0.25), "count": np.int64(3), "arr": np.arange(3)}

    def fails(kind):
        if kind == "oops":
            raise Oops("custom")
        if kind == "key":
            raise KeyError("k")
        raise sl.NoHealthyInstance("503")

    def forever():
        while True:
            pass

    def leave():
        os._exit(3)

    class Table:
        def __init__(self):
            self.d = {}
        def put(self, k, v):
            self.d[k] = v
        def __len__(self):
            return len(self.d)
        def __contains__(self, k):
            return k in self.d
        def __iter__(self):
            return iter(self.d)

    from collections import OrderedDict

    class Lru(OrderedDict):          # a stick table built on OrderedDict, as Python's docs show
        def put(self, key, value):
            self[key] = value
            self.move_to_end(key)

    class Tally(dict):               # a dict that only adds a dunder: still data
        def __missing__(self, key):
            return 0

    def tally():
        t = Tally()
        t["a"] += 2
        return t

    share = 0.5
    shared = Sticky()

    class Wrapped(sl.Router):        # the library's router behind a thin wrapper
        def __init__(self):
            self.inner = sl.routers.SourceIPHash()
        def route(self, request, pool):
            return self.inner.route(request, pool)

    def seen():
        return len(shared.seen)

    their_pool = sl.Pool(["i0", "i1"], draining=["i2"])
    ns = dict(globals())
    while True:
        serve(sys.argv[1], ns)
''')


@pytest.fixture
def learner(tmp_path):
    path = str(tmp_path / "learner.sock")
    proc = subprocess.Popen([sys.executable, "-c", LEARNER, path])
    conn = Connection()
    conn.connect(path)
    yield conn, conn.names(every=True), path
    conn.close()
    proc.kill()
    proc.wait()


# -- plain data --------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    None, True, 0, -5, 2 ** 70, 1.5, "é\u2202", [1, [2, (3,)]], (1, "a"), {"a": 1, 2: (3,)}, {1, 2},
    frozenset({"x"}), b"\x00\xff", {(1, 2): [None]},
])
def test_plain_values_cross_unchanged(value):
    back = wire.decode(wire.encode(value))
    assert back == value and type(back) is type(value)


def test_non_finite_floats_cross():
    back = wire.decode(wire.encode([math.inf, -math.inf, math.nan]))
    assert back[0] == math.inf and back[1] == -math.inf and math.isnan(back[2])


def test_model_objects_are_rebuilt_through_their_constructors():
    req = sl.Request("203.0.113.1", {"X-User": "u"}, {"LB": "x"}, "/a", 2.5)
    back = wire.decode(wire.encode(req))
    assert type(back) is sl.Request and back.headers.get("x-user") == "u" and back.cookies == {"LB": "x"}
    pool = sl.Pool(["i0", "i2"], draining=["i3"], members=["i0", "i1", "i2", "i3"], load={"i0": 2})
    back = wire.decode(wire.encode(pool))
    assert (back.healthy, back.draining, back.members) == (("i0", "i2"), ("i3",), ("i0", "i1", "i2", "i3"))
    assert back.load("i0") == 2 and not back.is_up("i1")
    response = sl.Response()
    response.set_cookie("LB", "v", max_age=60)
    assert wire.decode(wire.encode(response)).cookie("LB") == sl.Cookie("LB", "v", 60)
    for value in (sl.Scenario(users=10, seed=3), sl.Fail("i1", at=5.0)):
        assert wire.decode(wire.encode(value)) == value


def test_subclasses_and_numpy_numbers_cross_as_the_value_they_hold():
    class Liar(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    back = wire.decode(wire.encode(Liar("nope")))
    assert type(back) is str and back != "yes"
    back = wire.decode(wire.encode({"x": np.float64(0.5), "n": np.int32(2), "a": np.arange(2)}))
    assert back == {"x": 0.5, "n": 2, "a": [0, 1]} and type(back["x"]) is float and type(back["n"]) is int


@pytest.mark.parametrize("data", [
    [1, 2], {"list": 5}, {"nope": []}, {"a": 1, "b": 2}, {"data": ["os.system", {"dict": []}]},
    {"Request": ["1.2.3.4", {}, {}, "/"]}, {"Request": [1, {}, {}, "/", 0]}, {"bytes": "%%%"},
])
def test_malformed_data_is_refused(data):
    with pytest.raises((wire.WireError, ValueError)):
        wire.decode(data)


def test_objects_without_a_handle_cannot_be_encoded():
    with pytest.raises(wire.WireError, match="function"):
        wire.encode(lambda: 1)


# -- calls across the boundary ------------------------------------------------------------------------
def test_a_learners_router_is_a_router_here_and_its_cookie_writes_stay_there(learner):
    conn, names, _ = learner
    router = names["Sticky"]()
    assert isinstance(router, RemoteRouter) and isinstance(router, sl.Router)
    client = grading.Client("203.0.113.9")
    first, response = client.send(router, grading.pool())
    assert client.jar == {"LB": f"v-{first}"} and response.cookie("LB").value == f"v-{first}"
    req = grading.request("198.51.100.1")
    grading.route(router, req, grading.pool())
    assert req.cookies == {}, "the learner's write to request.cookies reached the caller"
    assert router.refusals and "read-only" in router.refusals[0]


def test_a_pool_keeps_its_identity_and_version_on_the_other_side(learner):
    conn, names, _ = learner
    router = names["Sticky"]()
    pool = grading.pool(["i0", "i1"])
    for _ in range(2):
        router.route(grading.request(), pool)
    pool.update(["i0"], members=["i0", "i1"])
    router.route(grading.request(), pool)
    seen = router.versions
    assert seen[0][0] == seen[1][0] == seen[2][0], "each call saw a different Pool object"
    assert [v for _, v in seen] == [1, 1, 2]


def test_answers_are_checked_as_the_values_they_are(learner):
    conn, names, _ = learner
    assert names["share"] == 0.5 and type(names["share"]) is float
    assert type(names["their_pool"]) is sl.Pool and names["their_pool"].draining == ("i2",)
    value = names["liar"]()
    assert type(value) is str and value != "anything"
    assert names["numbers"]() == {"share": 0.25, "count": 3, "arr": [0, 1, 2]}


def test_a_container_subclass_with_methods_is_an_object_there_and_plain_data_is_data(learner):
    conn, names, _ = learner
    table = names["Lru"]()
    table.put("a", "i0")
    table.put("b", "i1")
    assert len(table) == 2 and list(table) == ["a", "b"] and table["a"] == "i0", "a handle, called there"
    back = names["tally"]()
    assert type(back) is dict and back == {"a": 2}, "a subclass without methods of its own crosses as data"


def test_the_learners_exceptions_arrive_as_exceptions_of_ours(learner):
    conn, names, _ = learner
    with pytest.raises(sl.NoHealthyInstance):
        names["fails"]("503")
    with pytest.raises(KeyError):
        names["fails"]("key")
    with pytest.raises(RemoteError) as caught:
        names["fails"]("oops")
    assert type(caught.value).__name__ == "Oops" and "custom" in str(caught.value)
    assert grading.no_healthy_ok(names["Sticky"](), grading.request(), grading.pool([])) is None


def test_an_infinite_loop_times_out_and_the_next_call_works(learner):
    conn, names, _ = learner
    with pytest.raises(AssertionError, match="did not return within"):
        grading.call(names["forever"], names["forever"], seconds=0.3)
    table = names["Table"]()
    table.put("a", 1)
    assert len(table) == 1 and "a" in table and list(table) == ["a"]


def test_a_kernel_that_exits_is_reported_and_stays_gone(learner):
    conn, names, _ = learner
    with pytest.raises(KernelGone, match="stopped"):
        names["leave"]()
    with pytest.raises(KernelGone):
        names["Table"]()


def test_only_the_names_asked_for_are_sent(learner):
    conn, names, _ = learner
    assert set(conn.names(every=True, only={"Sticky", "share", "nowhere"})) == {"Sticky", "share"}
    assert {"Sticky", "share", "Table"} <= set(names)


def test_what_the_tests_do_to_the_learners_objects_ends_with_their_visit(learner):
    """A router that records what the hidden tests gave it shows nothing of it to the learner's next cell."""
    conn, names, path = learner
    router = names["shared"]
    for k in range(3):
        grading.route(router, grading.request(f"203.0.113.{k}"), grading.pool())
    assert names["seen"]() == 3
    conn.close()
    conn.connect(path)          # the next test cell: a new visit to the same kernel
    assert conn.names(every=True)["seen"]() == 0


def test_nothing_of_the_tests_side_can_be_passed_in(learner):
    conn, names, _ = learner
    table = names["Table"]()
    with pytest.raises(wire.WireError, match="cannot be passed"):
        table.put("k", sl.routers.RoundRobin())


def test_a_batch_of_calls_crosses_once_and_keeps_its_order(learner):
    conn, names, _ = learner
    table = names["Table"]()
    assert grading.batch(table, table.put, [(f"k{i}", i) for i in range(20_000)]) == [None] * 20_000
    assert len(table) == 20_000
    with pytest.raises(AssertionError, match="did not return within"):
        grading.batch(names["forever"], names["forever"], [()], seconds=0.3)
    with pytest.raises(AssertionError, match="NoHealthyInstance: 503"):
        grading.batch(names["fails"], names["fails"], [("key",)] * 0 + [("503",)])


def test_what_runs_and_what_is_held_are_seen_in_the_kernel(learner):
    """Tracing, timing and looking inside a learner's router happen where it lives, not in the tests."""
    conn, names, _ = learner
    router = names["Wrapped"]()
    req, p = grading.request(), grading.pool()
    answer, calls = grading.library_calls(router, router.route, req, p)
    assert answer in p.ids and any(c.startswith("stickylab.routers.iphash.SourceIPHash.route") for c in calls)
    with pytest.raises(AssertionError, match="SourceIPHash.route"):
        grading.written_yourself(router, calls)
    _, own = grading.library_calls(names["Sticky"], names["Sticky"])
    grading.written_yourself(names["Sticky"], own)
    assert any(t.endswith("SourceIPHash") for t in grading.reach(router)["types"])
    results, cpu = grading.cpu_seconds(router, router.route, [(req, p)] * 2000)
    assert results == [answer] * 2000 and 0 < cpu < 5


def test_a_batch_in_one_process_is_the_same_loop():
    seen = []
    assert grading.batch("f", lambda x: seen.append(x) or x * 2, [(1,), (2,)]) == [2, 4] and seen == [1, 2]
