"""The learner's side of grading: answering the tests' calls from the learner's kernel.

Runs in the learner's kernel (and in the fresh interpreters of :mod:`stickylab.grade.fresh`),
sandboxed. The host runs :data:`stickylab.grade.protocol.SERVE` in the kernel between two of
the learner's cells; :func:`serve` then answers the test process's requests on a Unix socket
(see :mod:`stickylab.grade.protocol`): the names the learner's cells defined, and calls of
their functions and methods, each bounded in CPU and wall-clock time. Answers are plain
data (:mod:`stickylab.grade.wire`) or handles to objects that stay here; the test process's
side is :mod:`stickylab.grade.remote`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import sys
import time
from types import ModuleType

from .. import grading
from ..model import Response
from ..routers.base import Router
from . import protocol, wire
from .protocol import DEFAULT_SECONDS

__all__ = ["serve"]

#: Largest value (bytes of JSON) sent as data when the tests list the learner's names.
NAME_BYTES = 1 << 20
#: Names a kernel always has that are not the learner's.
_KERNEL_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}
#: Special methods a handle forwards, when the learner's class defines them.
_DUNDERS = ("__len__", "__contains__", "__getitem__", "__iter__", "__call__")


# -- what one kernel keeps ------------------------------------------------------------------------------
class _Served:
    """What one kernel keeps between the grader's visits: handles, pools, names already sent."""

    def __init__(self):
        self.objects: dict[int, object] = {}
        self.refs: dict[int, int] = {}          # id(obj) -> ref
        self.pools: dict = {}
        self.sent: dict[str, int] = {}          # name -> id of the value last sent
        self.counter = itertools.count(1)
        self.visits = 0

    def handle(self, obj) -> dict:
        ref = self.refs.get(id(obj))
        if ref is None or self.objects.get(ref) is not obj:
            ref = next(self.counter)
            self.objects[ref], self.refs[id(obj)] = obj, ref
        if isinstance(obj, type):
            kind = "class"
        elif isinstance(obj, Router):
            custom = type(obj).on_response is not Router.on_response
            kind = "router+response" if custom else "router"
        elif _is_function(obj):
            kind = "function"
        else:
            kind = "object"
        cls = obj if isinstance(obj, type) else type(obj)
        methods = [] if kind in ("class", "function") else sorted(
            n for n in dir(cls) if (not n.startswith("_") or n in _DUNDERS) and _callable_attr(cls, n))
        name = getattr(obj, "__qualname__", None) if kind in ("class", "function") else cls.__qualname__
        return {"ref": [ref, str(name or cls.__name__)[:200], kind, methods]}

    def resolve(self, tag, body):
        if tag == "obj":
            if type(body) is not int or body not in self.objects:
                raise wire.WireError(f"no object {body!r} in this kernel")
            return self.objects[body]
        if tag == "Pool":
            key = wire.pool_key(body)
            pool = self.pools.get(key)
            self.pools[key] = pool = wire.decode_pool(body, into=pool)
            return pool
        raise wire.WireError(f"unknown tag {tag!r}")

    def names(self, namespace: dict, every: bool, only=None) -> dict:
        out = {}
        for name, value in list(namespace.items()):
            if name.startswith("_") or name in _KERNEL_NAMES or isinstance(value, ModuleType):
                continue
            if only is not None and name not in only:
                continue
            if not every and self.sent.get(name) == id(value):
                continue
            self.sent[name] = id(value)
            try:
                data = wire.encode(value, self.handle)
                if len(json.dumps(data)) > NAME_BYTES:     # a big list or dict stays here, reachable
                    data = self.handle(value)
                out[name] = data
            except Exception as exc:     # too deep: the test says so if it needs the name
                out[name] = {"unsendable": f"{type(value).__name__}: {exc}"[:300]}
        return out

    def call(self, message: dict):
        op = message.get("op")
        target = self.resolve("obj", message.get("target"))
        if op == "getattr":
            return getattr(target, _name(message)), []
        if op == "setattr":
            setattr(target, _name(message), wire.decode(message.get("value"), self.resolve))
            return None, []
        args = wire.decode(message.get("args", {"list": []}), self.resolve)
        kwargs = wire.decode(message.get("kwargs", {"dict": []}), self.resolve)
        if type(args) is not list or type(kwargs) is not dict:
            raise wire.WireError("bad arguments")
        if op == "reach":
            return _bounded(message, grading._reachable, target, *args[:1]), []
        if op in ("batch", "measured"):
            fn = target if message.get("name") is None else getattr(target, _name(message))
            if not all(type(a) is list for a in args):
                raise wire.WireError("bad batch")
            if op == "batch":
                return _bounded(message, lambda: [fn(*a) for a in args]), []
            started = time.thread_time()
            results = _bounded(message, lambda: [fn(*a) for a in args])
            return [results, time.thread_time() - started], []
        if op in ("call", "traced"):
            fn = target if message.get("name") is None else getattr(target, _name(message))
        elif op == "list":
            fn = lambda: list(target)   # noqa: E731 - iteration, materialised here
        else:
            fn = getattr(target, _name(message))
        if op == "traced":
            result = list(_bounded(message, grading._traced, fn, *args, **kwargs))
        else:
            result = _bounded(message, fn, *args, **kwargs)
        changed = [[k, v] for k, v in enumerate(args) if type(v) is Response]
        changed += [[k, v] for k, v in kwargs.items() if type(v) is Response]
        return result, changed


def _is_function(obj) -> bool:
    return type(obj).__name__ in ("function", "builtin_function_or_method", "method", "partial")


def _callable_attr(cls, name: str) -> bool:
    try:
        return callable(getattr(cls, name))
    except Exception:
        return False


def _name(message: dict) -> str:
    name = message.get("name")
    if type(name) is not str or not name.isidentifier():
        raise wire.WireError(f"bad attribute name {name!r}")
    return name


_BOUNDS = [DEFAULT_SECONDS, DEFAULT_SECONDS]     # the CPU and wall-clock seconds of the call running


def _computed_too_long(signum, frame):
    raise TimeoutError(f"did not return within {_BOUNDS[0]:.3g} s of computing: is there an infinite loop, "
                       "or work that grows with every request?")


def _waited_too_long(signum, frame):
    raise TimeoutError(f"did not return within {_BOUNDS[1]:.3g} s: is it waiting for something (a sleep, "
                       "a lock) that never comes?")


def _bounded(message: dict, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, stopped with TimeoutError past the bounds ``message`` carries.

    ``seconds`` is CPU time (``SIGPROF``), ``wall`` the wall clock (``SIGALRM``): what is
    left of the test's :func:`~stickylab.grading.time_bound`. :func:`serve` installs both
    handlers once; each call only arms the timers.
    """
    def bound(key, default):
        value = message.get(key)
        return value if type(value) in (int, float) and 0 < value < 36_000 else default

    seconds = bound("seconds", DEFAULT_SECONDS)
    wall = bound("wall", DEFAULT_SECONDS * grading.WALL_SLACK)
    _BOUNDS[:] = seconds, wall
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, wall)
    try:
        return fn(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)


_SERVED: _Served | None = None


def serve(path: str, namespace: dict | None = None, accept_seconds: float = 30.0) -> None:
    """Answer the grading process's requests on the Unix socket ``path`` until it is done.

    Runs in the learner's kernel, in the main thread, between two of the learner's cells.
    ``namespace`` defaults to the globals of the caller: the kernel's user namespace, for
    a call made by a cell.

    The requests are answered in a child process forked for this visit (where fork
    works): whatever the tests' calls do to the learner's objects (a router that records
    every request it was given, say) stays in the child and ends with it, so no later
    cell of the learner can show a hidden test's inputs, and a call that exits or hangs
    takes only the child down. Signals and timers of the calls are the child's own.
    """
    global _SERVED
    if namespace is None:           # the kernel's user namespace: the globals of the cell that called
        namespace = sys._getframe(1).f_globals
    if _SERVED is None:
        _SERVED = _Served()
    served = _SERVED
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
        os.chmod(path, 0o777)               # the tests' process runs as another user
        listener.listen(1)
        listener.settimeout(accept_seconds)
        conn, _ = listener.accept()
    finally:
        listener.close()
    conn.settimeout(None)
    served.visits += 1
    try:
        child = os.fork()
    except OSError:                 # no process to spare: answer here, as the kernel itself
        child = None
    if child == 0:
        try:
            _quiet()
            served.counter = itertools.count(served.visits * _REFS_PER_VISIT)
            _install_timers()
            _answer(conn, served, namespace)
        finally:
            os._exit(0)
    if child is None:
        previous = _install_timers()
        try:
            _answer(conn, served, namespace)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return
    conn.close()
    try:
        os.waitpid(child, 0)
    except BaseException:           # interrupted by the grader: the child is stuck in a call
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
        raise


#: Handles made in one visit never share a number with another's (their objects died with it).
_REFS_PER_VISIT = 1 << 32


def _install_timers() -> dict:
    """Install the handlers of the calls' CPU and wall-clock bounds, unblocked; return those replaced."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGPROF, signal.SIGALRM})
    return {signal.SIGPROF: signal.signal(signal.SIGPROF, _computed_too_long),
            signal.SIGALRM: signal.signal(signal.SIGALRM, _waited_too_long)}


class _Sink:
    """Where a forked child's output goes: nowhere (the kernel's streams belong to its parent)."""

    def write(self, text) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _quiet() -> None:
    """Send everything the child prints, through any reference to the kernel's streams, nowhere."""
    sink = _Sink()
    for stream in {id(s): s for s in (sys.stdout, sys.stderr)}.values():
        with contextlib.suppress(Exception):
            stream.write, stream.flush = sink.write, sink.flush
    sys.stdout = sys.stderr = sink


def _answer(conn, served: _Served, namespace: dict) -> None:
    """Answer requests on ``conn`` until the grader says done or hangs up."""
    with conn:
        while True:
            try:
                message = protocol.receive(conn)
            except EOFError:
                return
            op = message.get("op")
            if op == "done":
                protocol.send(conn, {"id": message.get("id"), "ok": None})
                return
            reply = {"id": message.get("id")}
            try:
                if op == "names":
                    wanted = message.get("only")
                    wanted = set(map(str, wanted)) if type(wanted) is list else None
                    names = served.names(namespace, bool(message.get("every")), wanted)
                    reply["ok"] = {"dict": [[k, v] for k, v in names.items()]}
                else:
                    result, changed = served.call(message)
                    reply["ok"] = wire.encode(result, served.handle)
                    reply["changed"] = [[k if type(k) is int else str(k), wire.encode(v)] for k, v in changed]
            except BaseException as exc:    # the learner's error, whatever it is, is an answer
                reply = {"id": message.get("id"), **protocol.error(exc)}
            protocol.send(conn, reply)
