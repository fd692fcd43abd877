"""What the exercises' tests share: build requests and pools, drive routers, explain failures.

Visible and hidden tests in ``exercises/`` call these helpers instead of pasting the same
machinery into every notebook. Each check raises :class:`AssertionError` with a message
that names the learner's router (or function), the request it was given, and what a real
load balancer does instead, so nbgrader's feedback teaches rather than just says "wrong".

Nothing here imports Jupyter: the helpers work in a kernel, in pytest and in a script.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import linecache
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Mapping

from . import children
from .browser import Browser
from .builtin_values import builtin_value
from .model import NoHealthyInstance, Pool, Request, Response
from .routers.base import Router

__all__ = [
    "Autograding", "Client", "autograding", "batch", "call", "check", "cpu_seconds", "describe", "fail",
    "library_calls", "no_healthy_ok", "plain", "pool", "reach", "request", "respond", "route",
    "same_across_restarts", "source_of", "time_bound", "visible_passed", "written_yourself",
]

#: Seconds one call to a learner's code may take before the tests call it an infinite loop.
CALL_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class Autograding:
    """What the grader's test process gives these checks while it runs a notebook's test cells.

    Attributes:
        fresh_probe: ``fresh_probe(probe, seeds, seconds)`` -> seed -> ``repr`` of ``probe``
            evaluated over the learner's cells run in a fresh sandboxed interpreter with that
            hash seed (answers :func:`same_across_restarts`).
        cells: ``cells()`` -> the notebook's code cells outside the tests, as the learner's
            kernel ran them (read by :func:`source_of`).
    """

    fresh_probe: Callable[[str, list[int], float], dict[int, str]]
    cells: Callable[[], list[str]]


_AUTOGRADING: Autograding | None = None


@contextlib.contextmanager
def autograding(fresh_probe: Callable[[str, list[int], float], dict[int, str]],
                cells: Callable[[], list[str]]):
    """While the block runs, the checks answer as under the grader (see :class:`Autograding`).

    The grader's test process (``stickylab.grade.verdict``) runs every test cell inside it.
    """
    global _AUTOGRADING
    saved, _AUTOGRADING = _AUTOGRADING, Autograding(fresh_probe, cells)
    try:
        yield
    finally:
        _AUTOGRADING = saved


def describe(obj) -> str:
    """A short name for a learner's router, table or function, for error messages."""
    if isinstance(obj, str):
        return obj
    remote = getattr(type(obj), "remote_name", None)
    if remote is not None:          # a learner's object, reached from the grading process
        return f"router {obj.remote_name}" if isinstance(obj, Router) else obj.remote_name
    if isinstance(obj, Router):
        return f"router {obj.label()}"
    if inspect.isfunction(obj) or inspect.ismethod(obj) or inspect.isclass(obj):
        return obj.__qualname__
    return type(obj).__name__


def _type_name(value) -> str:
    """The name of ``value``'s type, as the learner wrote it (also for an object of their notebook)."""
    if getattr(type(value), "remote_name", None) is not None:
        return value.remote_name
    return type(value).__name__


def fail(subject, message: str, request: Request | None = None) -> None:
    """Raise an :class:`AssertionError` naming ``subject`` (and ``request``) with a teaching ``message``."""
    text = f"{describe(subject)}: {message}"
    if request is not None:
        text += f"\n    request: {request!r}"
    raise AssertionError(text)


def check(condition, subject, message: str, request: Request | None = None) -> None:
    """:func:`fail` with ``message`` unless ``condition`` holds."""
    if not condition:
        fail(subject, message, request)


# -- building what a balancer sees ---------------------------------------------------------------
def request(client_ip: str = "198.51.100.7", *, cookies: Mapping[str, str] | None = None,
            headers: Mapping[str, str] | None = None, path: str = "/", time: float = 0.0) -> Request:
    """A :class:`~stickylab.Request` with test-friendly defaults (a documentation address, t = 0)."""
    return Request(client_ip, headers=dict(headers or {}), cookies=dict(cookies or {}), path=path,
                   time=time)


def pool(healthy: Iterable[str] = ("i0", "i1", "i2"), draining: Iterable[str] = (),
         members: Iterable[str] | None = None) -> Pool:
    """A :class:`~stickylab.Pool`; ``members`` defaults to the live instances (add failed ones to it)."""
    return Pool(healthy=healthy, draining=draining, members=members)


# -- calling the learner's code safely -------------------------------------------------------------
#: How many times its CPU seconds a time-bounded block may take on the wall clock. A busy
#: machine stretches wall time (8 busy processes on 2 cores: about 5 times) but not CPU time,
#: so a bound is kept in CPU seconds, and the wall clock only catches code that waits (a
#: sleep, a lock) instead of computing.
WALL_SLACK = 10.0


def _timer_message(seconds: float, what: str, cut_short: bool, wall: bool) -> str:
    if cut_short:
        return (f"the time allowed for the whole check ran out during {what}: is there an infinite "
                "loop, or work that grows with every request?")
    if wall:
        return (f"{what} did not return within {seconds:g} s: is it waiting for something (a sleep, "
                "a lock, input) that never comes?")
    return (f"{what} did not return within {seconds:g} s of computing: is there an infinite loop, "
            "or work that grows with every request?")


@contextlib.contextmanager
def time_bound(seconds: float | None = None, what: str = "the call"):
    """Fail with a clear message if the block computes longer than ``seconds`` (an infinite loop, say).

    ``seconds`` defaults to :data:`CALL_SECONDS`, counted in CPU time, so a busy machine
    does not fail a correct answer; a block that waits instead of computing is stopped
    after :data:`WALL_SLACK` times as long on the wall clock. Uses interval timers
    (``SIGPROF`` and ``SIGALRM``), so it works only in the main thread of a Unix process (a
    Jupyter kernel's cells run there); elsewhere the block runs unbounded. Bounds nest: an
    inner one never outlives an outer one, and the outer one is re-armed with what is left.
    While autograding, a call into the learner's kernel carries what is left of both bounds
    there (see :mod:`stickylab.grade.remote`).
    """
    seconds = CALL_SECONDS if seconds is None else seconds
    if not (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()):
        yield
        return
    timers = ((signal.ITIMER_PROF, signal.SIGPROF, seconds, time.process_time, False),
              (signal.ITIMER_REAL, signal.SIGALRM, seconds * WALL_SLACK, time.monotonic, True))
    saved = []
    for which, signum, limit, clock, wall in timers:
        cut = [False]

        def expired(_signum, _frame, limit=limit, cut=cut, wall=wall):
            raise TimeoutError(_timer_message(limit, what, cut[0], wall))

        previous = signal.signal(signum, expired)
        outer, _ = signal.setitimer(which, limit)
        if outer and outer < limit:
            cut[0] = True
            signal.setitimer(which, outer)
        saved.append((which, signum, previous, outer, clock, clock()))
    try:
        yield
    finally:
        for which, signum, previous, outer, clock, started in saved:
            signal.setitimer(which, 0)
            signal.signal(signum, previous)
            if outer:
                signal.setitimer(which, max(outer - (clock() - started), 1e-3))


_NOT_PLAIN = object()


def _as_plain(value, kinds: tuple):
    """``value`` as one of the built-in ``kinds``, or ``_NOT_PLAIN``.

    A subclass of a built-in type (``numpy.str_``, an ``IntEnum``, a ``str`` that redefines
    ``==``) or a numpy scalar becomes the built-in value it holds, read with the built-in
    type's own methods: what real grading receives from the learner's kernel (see
    :mod:`stickylab.grade.wire`), so Validate and grading agree, and an overridden ``==``
    never takes part in a comparison.
    """
    if type(value) in kinds:
        return value
    try:
        base = builtin_value(value)
    except Exception:       # an object that only pretends to be a str, say
        return _NOT_PLAIN
    return base if type(base) in kinds and base is not None else _NOT_PLAIN


def plain(value, kind, subject, what: str = "the answer"):
    """``value`` as a built-in ``kind`` (a type or a tuple of types), else fail.

    A subclass's value is taken with the built-in type's own methods (see :func:`_as_plain`):
    an object that redefines ``==`` (to equal everything, say) cannot pass a comparison.
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    got = _as_plain(value, kinds)
    if got is _NOT_PLAIN:
        names = " or ".join(k.__name__ for k in kinds)
        fail(subject, f"{what} is {value!r:.200} of type {_type_name(value)}; it must be a plain {names}")
    return got


@contextlib.contextmanager
def _teaching(subject, what: str, request: Request | None = None, advice: str = ""):
    """Turn any exception of the learner's code in the block into a teaching AssertionError."""
    try:
        yield
    except TimeoutError as exc:
        fail(subject, str(exc), request)
    except NotImplementedError:
        fail(subject, f"{what} raised NotImplementedError: replace the placeholder with your code",
             request)
    except Exception as exc:
        fail(subject, f"{what} raised {type(exc).__name__}: {exc}{advice}", request)


def call(subject, fn: Callable, *args, request: Request | None = None,
         seconds: float | None = None, what: str | None = None, **kwargs):
    """Call ``fn(*args, **kwargs)`` time-bounded; any exception becomes a teaching AssertionError."""
    what = what or f"{getattr(fn, '__name__', 'the call')}()"
    advice = ". A load balancer must answer every request, whatever the client sends"
    with _teaching(subject, what, request, advice), time_bound(seconds, what):
        return fn(*args, **kwargs)


def _across(fn: Callable):
    """``fn`` as the grading process reaches it.

    A method of a learner's object (``router.route`` of a router in the learner's kernel,
    say) becomes the handle that runs it there.
    """
    owner = getattr(fn, "__self__", None)
    if getattr(type(owner), "remote_name", None) is not None and not hasattr(fn, "remote_batch"):
        return owner.remote_method(fn.__name__)
    return fn


def batch(subject, fn: Callable, calls: Iterable[tuple], *, seconds: float | None = None,
          what: str | None = None) -> list:
    """``[fn(*args) for args in calls]`` in one go, time-bounded; any exception becomes a teaching failure.

    While autograding, ``fn`` lives in the learner's kernel and each call would cross the
    process boundary on its own (about a tenth of a millisecond); a batch crosses once,
    so a test can fill a table of 100,000 entries, or time the learner's code itself.
    ``seconds`` bounds the whole batch (default: :data:`CALL_SECONDS`, plus a millisecond a call).
    """
    calls = [tuple(args) for args in calls]
    if seconds is None:
        seconds = CALL_SECONDS + 0.001 * len(calls)
    what = what or f"{getattr(fn, '__name__', 'the call')}()"
    many = getattr(_across(fn), "remote_batch", None)
    if many is None:
        return [call(subject, fn, *args, seconds=seconds, what=what) for args in calls]
    with _teaching(subject, what), time_bound(seconds, f"{len(calls):,} calls of {what}"):
        return many(calls)


def cpu_seconds(subject, fn: Callable, calls: Iterable[tuple], *, seconds: float | None = None,
                what: str | None = None) -> tuple[list, float]:
    """:func:`batch`, and the CPU seconds the calls took where ``fn`` runs.

    While autograding that is the CPU time of the learner's kernel's thread that ran them
    (``time.thread_time``: the process clock moves in ticks of a few milliseconds while a
    CPU-time bound is armed), so a speed check compares work done, not a wall clock that
    a busy machine stretches.
    """
    calls = [tuple(args) for args in calls]
    if seconds is None:
        seconds = CALL_SECONDS + 0.001 * len(calls)
    what = what or f"{getattr(fn, '__name__', 'the call')}()"
    measured = getattr(_across(fn), "remote_measured", None)
    with _teaching(subject, what), time_bound(seconds, f"{len(calls):,} calls of {what}"):
        if measured is not None:
            results, cpu = measured(calls)
            return results, float(cpu)
        started = time.thread_time()
        results = [fn(*args) for args in calls]
        return results, time.thread_time() - started


# -- what the learner's code is made of, seen where it runs ------------------------------------------
#: Where the stickylab package lives: a function whose code is in a file under it is the library's.
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: The library's own checking code, never reported as used by the learner.
_NOT_REPORTED = (os.path.join(_PACKAGE, "grading.py"), os.path.join(_PACKAGE, "grade") + os.sep)
#: Reported by :func:`library_calls` when the learner's code switched the tracing off.
SWITCHED_OFF = "<the tracing of this check was switched off by the code>"
_SWITCHES = {sys.setprofile, sys.settrace, threading.setprofile, threading.settrace}


def _module_of(filename: str) -> str:
    relative = os.path.splitext(filename[len(_PACKAGE):])[0].replace(os.sep, ".")
    return "stickylab" if relative == "__init__" else "stickylab." + relative.removesuffix(".__init__")


def _traced(fn: Callable, *args, **kwargs) -> tuple[object, list[str]]:
    """``fn(*args, **kwargs)`` and the sorted names of the stickylab functions it called.

    Runs where ``fn`` lives (the learner's kernel while autograding), with a profile
    function on every Python call: a function is the library's if its code was compiled
    from a file of the installed package, whatever name or alias reached it, and it is
    reported when code outside the library called it (what the library calls in turn is not).
    """
    seen: set[str] = set()
    names: dict = {}
    tracing = [True]

    def library(code) -> str | None:
        """``code``'s qualified name if it is the library's; '' for its checking code; None if not its."""
        if code not in names:
            filename = os.path.abspath(code.co_filename)
            names[code] = (None if not filename.startswith(_PACKAGE) else
                           "" if filename.startswith(_NOT_REPORTED) else
                           f"{_module_of(filename)}.{code.co_qualname}")
        return names[code]

    def profile(frame, event, arg):
        if not tracing[0]:
            return
        if event == "call":
            name = library(frame.f_code)
            if name and not (frame.f_back and library(frame.f_back.f_code)):
                seen.add(name)      # called from outside the library: the learner's code, or the check
        elif event == "c_call" and arg in _SWITCHES:
            seen.add(SWITCHED_OFF)

    previous = sys.getprofile()
    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        result = fn(*args, **kwargs)
    finally:
        tracing[0] = False
        if sys.getprofile() is not profile:
            seen.add(SWITCHED_OFF)
        sys.setprofile(previous)
        threading.setprofile(None)
    return result, sorted(seen)


def library_calls(subject, fn: Callable, *args, seconds: float | None = None, what: str | None = None,
                  **kwargs) -> tuple[object, frozenset[str]]:
    """Call ``fn`` (checked as :func:`call` does); its answer and the stickylab functions that ran.

    The names are qualified (``"stickylab.hashing.Ring.lookup"``). The call is traced
    where the learner's code runs, so whatever name, alias or subclass reached the
    library's code, it shows here. See :func:`written_yourself`.
    """
    what = what or f"{getattr(fn, '__name__', 'the call')}()"
    traced = getattr(_across(fn), "remote_traced", None)
    with _teaching(subject, what), time_bound(seconds, what):
        result, names = traced(*args, **kwargs) if traced is not None else _traced(fn, *args, **kwargs)
    return result, frozenset(str(n) for n in names)


#: What any answer may use of the library: the model (requests, pools, responses), the Router
#: base class and the stable hash the exercises point to.
OWN_ALLOWED = ("stickylab.model", "stickylab.routers.base", "stickylab.hashing.stable_hash")


def written_yourself(subject, calls: Iterable[str], allow: Iterable[str] = OWN_ALLOWED,
                     what: str = "this exercise asks you to write it yourself") -> None:
    """Fail if ``calls`` (from :func:`library_calls`) used library code outside ``allow`` (prefixes)."""
    calls = set(calls)
    check(SWITCHED_OFF not in calls, subject,
          "switched off Python's profiler while the tests traced it (sys.setprofile or settrace); "
          "the tests check what your code runs, so leave tracing alone")
    allow = tuple(allow)
    used = sorted(c for c in calls if not any(c == a or c.startswith(a + ".") for a in allow))
    shown = ", ".join(f"{name}()" for name in used[:3])
    shown += f" and {len(used) - 3} more" if len(used) > 3 else ""
    check(not used, subject, f"runs {shown} of the stickylab library: {what}")


_LEAVES = (str, bytes, bytearray, int, float, complex, bool, type(None), range)


def _reachable(obj, limit: int = 1_000_000) -> dict:
    """What ``obj`` holds: the objects reachable from it, counted, and their types' names.

    Follows what the garbage collector sees an object refer to (attributes, slots, the
    items of containers), but not into classes, modules, functions or code, which every
    object refers to. Stops once more than ``limit`` objects have been counted.
    """
    import gc
    import types as pytypes

    opaque = (type, pytypes.ModuleType, pytypes.FunctionType, pytypes.BuiltinFunctionType,
              pytypes.MethodType, pytypes.CodeType, pytypes.FrameType)
    seen: set[int] = set()
    kinds: set[str] = set()
    todo = [obj]
    while todo and len(seen) <= limit:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        cls = type(item)
        kinds.add(f"{cls.__module__}.{cls.__qualname__}")
        if not isinstance(item, opaque + _LEAVES):
            todo += gc.get_referents(item)
    return {"count": len(seen), "types": sorted(kinds), "complete": not todo}


def reach(obj, limit: int = 1_000_000) -> dict:
    """What the learner's object ``obj`` holds, counted where it lives (see :func:`_reachable`).

    ``{"count": objects reached, "types": ["module.Class", ...], "complete": walked to the end}``.
    """
    remote = getattr(obj, "remote_reach", None)
    with _teaching(obj, "looking at what it holds"), time_bound(10.0, "looking at what it holds"):
        return remote(limit) if remote is not None else _reachable(obj, limit)


def route(router: Router, req: Request, pool_: Pool, *, allow: Iterable[str] | None = None) -> str:
    """``router.route(req, pool_)``, checked: time-bounded, no crash, a live instance id.

    ``allow`` narrows the acceptable answers (e.g. only healthy instances for a new client);
    by default any live instance (healthy or draining) is accepted.
    """
    if not isinstance(router, Router):
        raise AssertionError(f"expected a stickylab Router (a subclass of sl.Router), got {router!r}")
    answer = call(router, router.route, req, pool_, request=req, what="route()")
    iid = _instance_id(router, answer, req, "; it must return an instance id, a plain str such as 'i0'")
    allowed = tuple(pool_.ids if allow is None else allow)
    if iid not in allowed:
        if iid in pool_.draining:
            why = ("is draining: it keeps the clients that are stuck to it, but takes no new "
                   "ones (HAProxy `state drain` or `weight 0`)")
        elif not pool_.is_up(iid):
            why = ("is not up (it is not in pool.ids): a router must not keep sending clients "
                   "to a dead instance; check pool.is_up(iid) and pick again (redispatch)")
        else:
            why = f"may not take this request here (allowed: {list(allowed)})"
        fail(router, f"route() returned {iid!r}, which {why}. Pool: {pool_!r}", req)
    return iid


def respond(router: Router, req: Request, instance: str) -> Response:
    """Call ``router.on_response`` with a fresh :class:`~stickylab.Response`; return it (time-bounded)."""
    response = Response()
    call(router, router.on_response, req, instance, response, request=req,
         what="on_response()")
    return response


class Client:
    """A browser with a cookie jar, at one address, that follows ``Set-Cookie`` like a real one.

    A :class:`~stickylab.browser.Browser` (the simulator's model of a client) driven through
    the checked :func:`route` and :func:`respond`. ``send`` routes one request through the
    router, gives it the response, stores the cookies it sets (``max_age=0`` deletes, a
    ``max_age`` expires) and returns ``(instance, response)``. The router gets the cookies
    read-only; ``jar`` is the client's own dict, which a test may change.
    """

    def __init__(self, client_ip: str = "198.51.100.7", headers: Mapping[str, str] | None = None,
                 cookies: Mapping[str, str] | None = None):
        self.browser = Browser(client_ip, dict(headers or {}), cookies)

    @property
    def client_ip(self) -> str:
        """The address the client's requests come from."""
        return self.browser.client_ip

    @client_ip.setter
    def client_ip(self, value: str) -> None:
        self.browser.client_ip = value

    @property
    def headers(self) -> dict:
        """The headers sent with every request."""
        return self.browser.headers

    @headers.setter
    def headers(self, value: Mapping[str, str]) -> None:
        self.browser.headers = dict(value)

    @property
    def jar(self) -> dict[str, str]:
        """The stored cookies, name -> value."""
        return self.browser.jar

    @jar.setter
    def jar(self, value: Mapping[str, str]) -> None:
        self.browser.jar = dict(value)

    def send(self, router: Router, pool_: Pool, *, time: float = 0.0, path: str = "/",
             allow: Iterable[str] | None = None) -> tuple[str, Response]:
        """One request through ``router`` to the instance it picks, and back."""
        req = self.browser.request(path, time)
        iid = route(router, req, pool_, allow=allow)
        response = respond(router, req, iid)
        self.browser.receive(response, time)
        return iid, response

    def __repr__(self) -> str:
        return f"Client(client_ip={self.client_ip!r}, jar={self.jar!r})"


def no_healthy_ok(router: Router, req: Request, pool_: Pool) -> str | None:
    """Route ``req``; None if the router raised :class:`~stickylab.NoHealthyInstance` (a 503)."""
    try:
        with time_bound(what="route()"):
            answer = router.route(req, pool_)
    except NoHealthyInstance:
        return None
    except TimeoutError as exc:
        fail(router, str(exc), req)
    except Exception as exc:
        fail(router, f"route() raised {type(exc).__name__}: {exc}; with no instance to take a new "
             "client, raise sl.NoHealthyInstance (the balancer answers 503)", req)
    return _instance_id(router, answer, req,
                        f" with pool {pool_!r}: return an instance id (a str such as 'i0') or, when no "
                        "instance can take the request, raise sl.NoHealthyInstance (the balancer answers "
                        "503); returning None is not a 503")


def _instance_id(router: Router, answer, req: Request, advice: str) -> str:
    """``route()``'s ``answer`` as a plain str; else fail, naming it and adding ``advice``."""
    iid = _as_plain(answer, (str,))
    check(iid is not _NOT_PLAIN, router,
          f"route() returned {answer!r:.200} ({_type_name(answer)}){advice}", req)
    return iid


# -- what Validate does not say -----------------------------------------------------------------------
def visible_passed(assignment: str) -> None:
    """Say, under a visible test cell that passed, that hidden tests check more, and how to run them.

    Validate's "Success! Your notebook passes all the tests" speaks of the visible tests
    only. Printed when the learner runs the cell (and while validating); silent while
    autograding, where the hidden tests have just run.
    """
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        return
    notebook = f"exercises/{assignment}/{assignment}.ipynb"
    print(f"Visible tests passed. Hidden tests check more of this part when your notebook is graded; "
          f"to run them now, from the course folder: python -m stickylab.grade {notebook}")


# -- the same in every process ---------------------------------------------------------------------
_PRELUDE = "import stickylab as sl\nfrom stickylab import grading\n"


def source_of(obj) -> str:
    """The source of the notebook cell (or module) that defined function or class ``obj``.

    A class defined in a Jupyter cell has no file ``inspect`` can read, but its methods
    record the cell's cached file name, so the whole cell is recovered from ``linecache``.
    While autograding, ``obj`` lives in the learner's kernel: its cell is the last one of
    notebook's cells (see :func:`autograding`) that defines its name.
    """
    if getattr(type(obj), "remote_name", None) is not None:
        name = obj.remote_name.rsplit(".", 1)[-1]
        pattern = re.compile(rf"^\s*(class|def)\s+{re.escape(name)}\b", re.M)
        for cell in reversed(_AUTOGRADING.cells() if _AUTOGRADING else []):
            if pattern.search(cell):
                return cell
        raise AssertionError(f"cannot find the cell that defines {name}: define it in the exercise's "
                             "code cell")
    functions = [obj] if inspect.isfunction(obj) else [
        v for v in vars(obj).values() if inspect.isfunction(v)] if inspect.isclass(obj) else []
    for fn in functions:
        lines = linecache.getlines(fn.__code__.co_filename)
        if lines:
            return "".join(lines)
    try:
        return inspect.getsource(sys.modules[obj.__module__])
    except (KeyError, OSError, TypeError):
        raise AssertionError(f"cannot find the source of {describe(obj)}: define it in the "
                             "exercise's code cell") from None


def _start_probe(source: str, probe: str, seed: int) -> subprocess.Popen:
    script = (_PRELUDE + source + "\nimport json as _json\n"
              f"print('\\n@@probe@@' + _json.dumps(repr({probe})))\n")
    env = dict(os.environ, PYTHONHASHSEED=str(seed))
    return children.start([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env)


def _probe_answer(proc: subprocess.Popen, seconds: float) -> str:
    try:
        stdout, stderr = (text.decode(errors="replace") for text in proc.communicate(timeout=seconds))
    except subprocess.TimeoutExpired:
        children.kill(proc)
        raise AssertionError(f"a fresh Python process running your cell did not finish "
                             f"within {seconds:g} s") from None
    marker = stdout.rfind("@@probe@@")
    if proc.returncode != 0 or marker < 0:
        tail = "\n".join(stderr.strip().splitlines()[-4:])
        raise AssertionError("your cell does not run on its own in a fresh Python process "
                             f"(keep its imports and helpers in the cell):\n{tail}")
    return json.loads(stdout[marker + len("@@probe@@"):].strip())


def same_across_restarts(obj, probe: str, seeds: Iterable[int] = (1, 2, 3),
                         seconds: float = 30.0) -> None:
    """Check that ``probe`` gives the same answer in fresh interpreters with different hash seeds.

    ``obj`` is the learner's class or function; its defining cell is run in new Python
    processes with ``PYTHONHASHSEED`` set to each of ``seeds``, then ``probe`` (an
    expression over that cell's names) is evaluated there. Python salts ``hash()`` of
    ``str`` and ``bytes`` per process, so a router built on it sends clients elsewhere
    after every restart of the balancer, and two balancers never agree.
    """
    seeds = list(seeds)
    if _AUTOGRADING is not None:        # the grader runs the notebook's cells, sandboxed
        answers = _AUTOGRADING.fresh_probe(probe, seeds, seconds)
    else:
        source = source_of(obj)
        procs = {seed: _start_probe(source, probe, seed) for seed in seeds}    # run side by side
        try:
            answers = {seed: _probe_answer(proc, seconds) for seed, proc in procs.items()}
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    children.kill(proc)
    first = answers[seeds[0]]
    for seed in seeds[1:]:
        if answers[seed] != first:
            fail(obj, textwrap.dedent(f"""\
                gives different answers in different Python processes:
                    {probe}
                    with PYTHONHASHSEED={seeds[0]}: {first[:200]}
                    with PYTHONHASHSEED={seed}: {answers[seed][:200]}
                Python's built-in hash() of a str is salted per process, so after a restart of
                the balancer (or on a second balancer) clients land elsewhere and lose their
                sessions. Use sl.hashing.stable_hash (or hashlib) instead."""))
