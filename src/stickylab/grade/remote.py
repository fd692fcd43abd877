"""The test process's side of grading: the learner's objects, reached across the process boundary.

Runs in the test process (:mod:`stickylab.grade.verdict`), sandboxed. The test cells reach
the learner's classes, functions and objects through what is defined here:

- :class:`Connection` asks the learner's kernel (or a fresh interpreter), which answers
  from :mod:`stickylab.grade.learner_side` (the messages: :mod:`stickylab.grade.protocol`);
  what comes back is decoded by :mod:`stickylab.grade.wire` into built-in types and
  stickylab model objects, or into a :class:`Remote` handle for anything else (a learner's
  router, table or class).

A handle behaves like the object for what tests do with it: call it, call its methods,
read and set attributes, ``len()``, ``in``, indexing. A handle of a learner's router is
an :class:`~stickylab.Router`, so the simulator and the grading helpers drive it as they
would the real one. Nothing the learner's code does can change how a test decides: the
test runs here, and only data comes back.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import socket
import threading
import time

from .. import grading
from ..model import NoHealthyInstance, Response
from ..routers.base import Router
from . import protocol, wire
from .protocol import DEFAULT_SECONDS

__all__ = ["Connection", "KernelGone", "Remote", "RemoteError"]

class KernelGone(RuntimeError):
    """The learner's kernel stopped answering (it exited, crashed, or is stuck in an earlier call)."""


class RemoteError(Exception):
    """An exception raised by the learner's code that is not a built-in one (its name is kept)."""


_ERROR_TYPES: dict[str, type] = {}


def _exception(name: str, module: str, message: str, where: list) -> BaseException:
    """The exception to raise here for one the learner's code raised there (never their class)."""
    import builtins

    cls = None
    if module == "builtins":
        cls = getattr(builtins, name, None)
        if not (isinstance(cls, type) and issubclass(cls, Exception)):
            cls = None
    elif name == "NoHealthyInstance" and module.startswith("stickylab"):
        cls = NoHealthyInstance
    exc = None
    if cls is not None:
        with contextlib.suppress(Exception):
            exc = cls(message)
    if exc is None:
        safe = name if name.isidentifier() else "Error"
        if module not in ("builtins", "__main__") and all(p.isidentifier() for p in module.split(".")):
            safe = f"{module}.{safe}"           # binascii.Error says more than Error
        cls = _ERROR_TYPES.get(safe)
        if cls is None:
            cls = _ERROR_TYPES[safe] = type(safe, (RemoteError,), {"__module__": "learner"})
        exc = cls(message)
    exc.learner_traceback = [str(w)[:200] for w in where if isinstance(w, str)]
    return exc


class Connection:
    """The grading side of one learner kernel: sends requests, decodes answers into values and handles."""

    def __init__(self):
        self.sock: socket.socket | None = None
        self.buffer = bytearray()
        self.ids = itertools.count(1)
        self.pending: int | None = None
        self.gone: str | None = None
        self.proxies: dict[int, Remote] = {}
        self.pools: dict[int, object] = {}     # keeps every pool sent alive, so its id stays its own

    def connect(self, path: str, seconds: float = 10.0) -> None:
        """Connect to a kernel serving on ``path`` (waiting up to ``seconds`` for it to listen)."""
        self.close()
        deadline = time.monotonic() + seconds
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                break
            except OSError as exc:
                sock.close()
                if time.monotonic() > deadline:
                    self.gone = ("the tests could not reach the kernel running your notebook "
                                 f"({exc.strerror}): "
                                 "did one of your cells stop the kernel, or change how cells run?")
                    raise KernelGone(self.gone) from None
                time.sleep(0.02)
        self.sock, self.pending, self.gone, self.buffer = sock, None, None, bytearray()
        self.proxies.clear()            # a new visit: the kernel numbers its objects afresh

    def close(self) -> None:
        """Tell the kernel the tests are done for now, and hang up."""
        if self.sock is None:
            return
        with contextlib.suppress(Exception):
            if self.gone is None and self.pending is None:
                self.sock.settimeout(2.0)
                protocol.send(self.sock, dict(protocol.done(), id=next(self.ids)))
                self._read(time.monotonic() + 2.0)
        self.sock.close()
        self.sock = None

    # -- requests
    def request(self, message: dict, what: str):
        """Send one request and return the decoded answer (or raise the learner's error)."""
        if self.gone is not None:
            raise KernelGone(self.gone)
        if self.sock is None:
            raise KernelGone("the tests are not connected to the kernel running your notebook")
        seconds, wall = _time_left()
        message = dict(message, id=next(self.ids), seconds=seconds, wall=wall)
        with _alarm_deferred():
            try:
                self._drain()
                protocol.send(self.sock, message)
                self.pending = message["id"]
                reply = self._reply(message["id"], wall + 2.0, what)
                self.pending = None
            except (EOFError, ConnectionError, BrokenPipeError) as exc:
                self.gone = (f"the kernel running your notebook stopped while running {what} "
                             f"({type(exc).__name__}): did your code exit, or kill its own process?")
                raise KernelGone(self.gone) from None
        if "error" in reply:
            name, module, text, where = (reply["error"] + [None] * 4)[:4]
            raise _exception(str(name), str(module), str(text), where if isinstance(where, list) else [])
        return reply

    def _reply(self, mid: int, seconds: float, what: str) -> dict:
        deadline = time.monotonic() + seconds
        try:
            while True:
                reply = self._read(deadline)
                if reply.get("id") == mid:
                    return reply
        except TimeoutError:
            raise TimeoutError(f"{what} did not return within {seconds - 2.0:g} s") from None

    def _read(self, deadline: float) -> dict:
        """The next whole message; a timeout keeps what has arrived of it for the next read."""
        while True:
            message = protocol.take(self.buffer)
            if message is not None:
                return message
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer in time")
            self.sock.settimeout(left)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("the other side closed the connection")
            self.buffer += chunk

    def _drain(self) -> None:
        """Skip the answer to a call that timed out here, if it comes; give up on a kernel that is stuck."""
        if self.pending is None:
            return
        try:
            self._reply(self.pending, 3.0, "an earlier call")
        except TimeoutError:
            self.gone = ("your code is still running a call that timed out earlier, so the tests cannot "
                         "go on; look for an infinite loop")
            raise KernelGone(self.gone) from None
        self.pending = None

    def value(self, reply: dict, key: str = "ok"):
        """The value a reply carries, decoded (handles become proxies)."""
        return wire.decode(reply.get(key), self._resolve)

    def _resolve(self, tag, body):
        if tag == "ref":
            ref, name, kind, methods = wire._list(body, 4)
            proxy = self.proxies.get(ref)
            if proxy is None:
                cls = {"router": RemoteRouter, "router+response": RemoteResponseRouter}.get(kind, Remote)
                proxy = self.proxies[ref] = cls(self, ref, str(name), str(kind), tuple(map(str, methods)))
            return proxy
        if tag == "unsendable":
            return Unsendable(str(body))
        if tag == "Pool":
            return wire.decode_pool(body)
        raise wire.WireError(f"unknown tag {tag!r} from the learner's kernel")

    def _encode(self, value):
        def handle(obj):
            if isinstance(obj, Remote) and obj._conn is self:
                return {"obj": obj._ref}
            raise wire.WireError(f"a {type(obj).__name__} cannot be passed to your code from the tests")

        if type(value) is wire.Pool:
            self.pools[id(value)] = value
        return wire.encode(value, handle)

    def names(self, every: bool = False, only=None) -> dict:
        """The learner's names defined or changed since the last call (all of them if ``every``).

        ``only``: the names wanted (the others are not even sent).
        """
        return self.value(self.request(protocol.list_names(every, only), "listing your names"))

    def call(self, ref: int, op: str, args=(), kwargs=None, name: str | None = None,
             what: str = "the call"):
        """Call (``op``: call, method, getattr, list, batch) the learner's object ``ref``; its answer."""
        kwargs = kwargs or {}
        for value in list(args) + list(kwargs.values()):
            if type(value) is wire.Pool:
                self.pools[id(value)] = value
        message = protocol.call(op, ref, self._encode(list(args)), self._encode(dict(kwargs)), name)
        reply = self.request(message, what)
        for key, data in reply.get("changed", []):
            original = args[key] if type(key) is int and key < len(args) else kwargs.get(key)
            if type(original) is Response:
                fresh = wire.decode(data)
                original.status, original.headers = fresh.status, fresh.headers
                original.cookies = fresh.cookies
        return self.value(reply)


@contextlib.contextmanager
def _alarm_deferred():
    """Hold the test's time bounds (``SIGALRM``, ``SIGPROF``) until one exchange with the kernel is over.

    An exception raised in the middle of a read would leave half a message on the socket,
    so while a request is answered a timer that fires is only noted; the socket's timeout
    (the wall-clock time left, plus a margin) bounds the wait, and a timer noted meanwhile
    raises after it.
    """
    timers = {signal.SIGALRM: signal.ITIMER_REAL, signal.SIGPROF: signal.ITIMER_PROF}
    armed = [signum for signum, which in timers.items() if signal.getitimer(which)[0] > 0]
    if not armed or threading.current_thread() is not threading.main_thread():
        yield                           # no time bound running (or none can run here)
        return
    noted = []
    previous = {signum: signal.signal(signum, lambda signum, frame: noted.append((signum, frame)))
                for signum in armed}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if noted and callable(previous[noted[0][0]]):
            previous[noted[0][0]](*noted[0])


def _time_left() -> tuple[float, float]:
    """CPU and wall-clock seconds left on the test's time bound (``grading.time_bound``), or the defaults."""
    cpu, _ = signal.getitimer(signal.ITIMER_PROF)
    wall, _ = signal.getitimer(signal.ITIMER_REAL)
    cpu = min(cpu, 3600.0) if cpu > 0 else DEFAULT_SECONDS
    return cpu, min(wall, 36_000.0) if wall > 0 else cpu * grading.WALL_SLACK


class Unsendable:
    """A learner's value that could not be sent (too large, too deep); any use says why."""

    def __init__(self, why: str):
        self.why = why

    def __repr__(self) -> str:
        return f"<a value the tests could not receive: {self.why}>"


class Remote:
    """A learner's class, function or object, reached through the kernel that holds it."""

    def __init__(self, conn: Connection, ref: int, name: str, kind: str, methods: tuple[str, ...]):
        for key, value in (("_conn", conn), ("_ref", ref), ("_name", name), ("_kind", kind),
                           ("_methods", methods)):
            object.__setattr__(self, key, value)

    @property
    def __name__(self):            # noqa: D401 - what error messages call it
        return self._name

    @property
    def remote_name(self) -> str:
        """The learner's name for it (the class's or function's qualified name)."""
        return self._name

    def remote_method(self, name: str) -> RemoteMethod:
        """The learner's method ``name`` of this object, as a handle (for a batch, a trace, a timing)."""
        return RemoteMethod(self, name)

    def remote_batch(self, calls: list[tuple]) -> list:
        """``[self(*args) for args in calls]``, crossing the boundary once (see ``grading.batch``)."""
        return self._conn.call(self._ref, "batch", [list(a) for a in calls], what=f"{self._name}()")

    def remote_measured(self, calls: list[tuple]) -> tuple[list, float]:
        """:meth:`remote_batch` and the kernel's CPU seconds for it (see ``grading.cpu_seconds``)."""
        return tuple(self._conn.call(self._ref, "measured", [list(a) for a in calls], what=f"{self._name}()"))

    def remote_traced(self, *args, **kwargs) -> tuple[object, list[str]]:
        """The call, traced in the kernel (see ``grading.library_calls``)."""
        return tuple(self._conn.call(self._ref, "traced", args, kwargs, what=f"{self._name}()"))

    def remote_reach(self, limit: int) -> dict:
        """What the object holds, walked in the kernel (see ``grading.reach``)."""
        return self._conn.call(self._ref, "reach", (limit,), what=f"looking into {self._name}")

    def __call__(self, *args, **kwargs):
        """Call the learner's class (a new object), function, or callable object."""
        if self._kind == "object" and "__call__" not in self._methods:
            raise TypeError(f"{self._name} object is not callable")
        return self._conn.call(self._ref, "call", args, kwargs, what=f"{self._name}()")

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        if name in self._methods:
            return RemoteMethod(self, name)
        return self._conn.call(self._ref, "getattr", name=name, what=f"{self._name}.{name}")

    def __setattr__(self, name: str, value) -> None:
        self._conn.request({"op": "setattr", "target": self._ref, "name": name,
                            "value": self._conn._encode(value)}, f"setting {self._name}.{name}")

    def _method(self, name: str, *args):
        if name not in self._methods:
            raise TypeError(f"{self._name} has no {name}()")
        return self._conn.call(self._ref, "method", args, name=name, what=f"{self._name}.{name}()")

    def __len__(self):
        value = self._method("__len__")
        if type(value) is not int or value < 0:
            raise TypeError(f"len() of {self._name} returned {value!r}, not a non-negative int")
        return value

    def __contains__(self, item):
        return bool(self._method("__contains__", item) is True)

    def __getitem__(self, key):
        return self._method("__getitem__", key)

    def __iter__(self):
        if "__iter__" not in self._methods:
            raise TypeError(f"{self._name} object is not iterable")
        return iter(self._conn.call(self._ref, "list", what=f"iterating over {self._name}"))

    def __repr__(self) -> str:
        return f"<{self._name} in your notebook>"

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)


class RemoteMethod:
    """A bound method of a learner's object (what ``router.route`` is)."""

    def __init__(self, owner: Remote, name: str):
        self.__self__, self.__name__ = owner, name
        self.__qualname__ = f"{owner._name}.{name}"

    def __call__(self, *args, **kwargs):
        owner = self.__self__
        return owner._conn.call(owner._ref, "method", args, kwargs, name=self.__name__,
                                what=f"{self.__name__}()")

    def remote_batch(self, calls: list[tuple]) -> list:
        """``[self(*args) for args in calls]``, crossing the boundary once (see ``grading.batch``)."""
        return self._many("batch", calls)

    def remote_measured(self, calls: list[tuple]) -> tuple[list, float]:
        """:meth:`remote_batch` and the kernel's CPU seconds for it (see ``grading.cpu_seconds``)."""
        return tuple(self._many("measured", calls))

    def remote_traced(self, *args, **kwargs) -> tuple[object, list[str]]:
        """The call, traced in the kernel (see ``grading.library_calls``)."""
        owner = self.__self__
        return tuple(owner._conn.call(owner._ref, "traced", args, kwargs, name=self.__name__,
                                      what=f"{self.__name__}()"))

    def _many(self, op: str, calls: list[tuple]):
        owner = self.__self__
        return owner._conn.call(owner._ref, op, [list(a) for a in calls], name=self.__name__,
                                what=f"{self.__name__}()")

    def __repr__(self) -> str:
        return f"<method {self.__qualname__} in your notebook>"


class RemoteRouter(Remote, Router):
    """A learner's router: a :class:`~stickylab.Router` here, whose ``route`` runs there."""

    def route(self, request, pool):
        return self._conn.call(self._ref, "method", (request, pool), name="route", what="route()")

    def label(self) -> str:
        return self._name


class RemoteResponseRouter(RemoteRouter):
    """A learner's router that also looks at responses (its ``on_response`` runs there)."""

    def on_response(self, request, instance, response):
        return self._conn.call(self._ref, "method", (request, instance, response), name="on_response",
                               what="on_response()")
