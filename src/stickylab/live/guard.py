"""A learner's router, called so that it cannot stall or break the proxy.

A router is ordinary Python written in a notebook: it may sleep, loop, raise anything
(``KeyboardInterrupt``, ``GeneratorExit``, ``SystemExit``) or change the pool it is handed.
:class:`RouterGuard` calls it the way a real balancer keeps a plugin in check:

- the router's ``route()`` and ``on_response()`` run on worker threads, never on the
  proxy's event loop, with a time budget: a slow call delays only its own request, and
  past the budget the client gets a 500 naming the router and the call is stopped (a
  router that loops forever would hold the GIL for good). Calls for different requests
  may run side by side, as in a balancer with several threads (HAProxy's ``nbthread``);
  the GIL keeps a single dict or list operation whole;
- any exception, ``BaseException`` included, becomes that 500; nothing reaches the loop;
- the router sees a :class:`ReadOnlyPool`, a snapshot it cannot change;
- what is kept and logged of a failure is one short line without cookie values or
  credentials, and a failure repeated at the same place is logged once a minute.

The package's own routers (every method from :mod:`stickylab.routers`) are known to
answer at once without blocking: they run inline, which costs nothing per request.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import queue
import threading
import time
import traceback
from collections import deque
from typing import NamedTuple

from ..model import NoHealthyInstance, Pool, Request
from ..routers import Router

__all__ = ["ReadOnlyPool", "RouterFailure", "RouterGuard", "is_builtin", "without_secrets"]

log = logging.getLogger(__name__)

#: Most characters of a router failure kept in :attr:`RouterGuard.errors`, logged, or shown.
MOST_KEPT = 600
#: Request headers whose values are never kept, logged or shown.
SECRET_HEADERS = ("cookie", "authorization", "proxy-authorization")
#: Seconds before a failure at the same place in the router is logged again.
_LOG_EVERY = 60.0


class RouterFailure(Exception):
    """The router raised, was too slow or answered nonsense: ``status`` and a ``message`` naming it."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class ReadOnlyPool(Pool):
    """A :class:`~stickylab.Pool` that a router can read and not change (made as a Pool is made).

    ``update()`` and setting an attribute raise TypeError; ``load`` may still read live counts
    (the proxy's requests in flight). The proxy makes a new one each time its membership changes.
    """

    __slots__ = ("_sealed",)

    def __init__(self, healthy=(), draining=(), members=None, load=None):
        super().__init__(healthy, draining, members, load=load)
        object.__setattr__(self, "_sealed", True)

    def update(self, healthy, draining=(), members=None) -> None:
        """Refused once made: a router reads the pool, only the proxy's health checks change it."""
        if getattr(self, "_sealed", False):
            raise TypeError("the pool a router is handed is read-only: only the proxy's health checks "
                            "and the lab change it")
        super().update(healthy, draining, members)

    def __setattr__(self, name, value) -> None:
        if getattr(self, "_sealed", False):
            raise TypeError(f"the pool a router is handed is read-only (cannot set {name!r})")
        object.__setattr__(self, name, value)


def is_builtin(router: Router, depth: int = 0) -> bool:
    """True if ``router`` runs only the package's code.

    Its ``route``, ``on_response`` and ``label`` come from :mod:`stickylab.routers`, none is
    replaced on the object itself, and so for every router it holds (``balance=``): a
    ``CookieInsert`` balancing with a learner's router is a learner's router.
    """
    cls = type(router)
    methods = ("route", "on_response", "label")
    if not all(getattr(getattr(cls, name, None), "__module__", "").startswith("stickylab.routers")
               for name in methods):
        return False
    held = getattr(router, "__dict__", {})
    if depth > 5 or any(name in held for name in methods):
        return False
    return all(is_builtin(value, depth + 1) for value in held.values() if isinstance(value, Router))


def without_secrets(message: str, request: Request | None) -> str:
    """``message`` with the request's cookie values and credentials hidden.

    An error page that echoes them would hand ``HttpOnly`` cookies to any script that can
    make a request fail (as Apache's 400 page did, CVE-2012-0053); a log that keeps them
    hands them to whoever reads the log.
    """
    if request is None:
        return message
    secrets = [*request.cookies.values(), *(request.headers.get(h) for h in SECRET_HEADERS)]
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        message = message.replace(repr(secret), "'(hidden)'")
        if len(secret) >= 6:
            message = message.replace(secret, "(hidden)")
    return message


def cut(text: str, most: int = 200) -> str:
    """``text``, cut to ``most`` characters."""
    return text if len(text) <= most else text[:most] + "...(cut)"


def _where(exc: BaseException) -> str:
    """``file:line in function`` of the deepest frame of ``exc``'s traceback (where the router failed)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno} in {last.name}"


class RouterTimeout(BaseException):
    """Raised inside a router call that ran past its budget, to stop it.

    A BaseException, so that a router's own ``except Exception`` does not swallow it.
    """


class _Workers:
    """Daemon threads that run calls and hand the results to an event loop's futures.

    A thread is added when every thread is busy, up to ``most``; past that, calls wait their
    turn (and their budget runs). A call past its budget is stopped by :meth:`interrupt`,
    which raises :class:`RouterTimeout` in its thread (CPython's ``PyThreadState_SetAsyncExc``,
    the one way to stop a thread): a router looping forever would otherwise keep a thread,
    and the GIL, busy for good. Code blocked in C (a ``time.sleep``, a socket read) is
    stopped when it returns to Python. Daemon threads: no router keeps Python from exiting.
    """

    def __init__(self, most: int = 32, stuck_most: int = 256):
        self.most, self.stuck_most = most, stuck_most
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._waiting = 0                                   # calls queued, not yet taken
        self._running: dict[int, asyncio.Future] = {}       # thread ident -> the call it runs
        self._stuck: set[int] = set()                       # threads whose call ran past its budget
        self.started: list[threading.Thread] = []

    def submit(self, loop: asyncio.AbstractEventLoop, fn, *args) -> asyncio.Future:
        """Run ``fn(*args)`` on a worker; a future of ``loop`` gets its result (``fn`` must not raise).

        A thread whose call ran past its budget and was told to stop may be blocked in C code
        (a ``time.sleep``, a lock) where no exception reaches it: it does not count towards
        ``most``, so that other calls get threads of their own (up to ``stuck_most`` such threads).
        """
        future = loop.create_future()
        with self._lock:
            self._waiting += 1
            alive = len(self.started)
            if (len(self._running) + self._waiting > alive and alive - len(self._stuck) < self.most
                    and len(self._stuck) < self.stuck_most):
                thread = threading.Thread(target=self._work, daemon=True, name="stickylab-router")
                thread.start()
                self.started.append(thread)
        self._jobs.put((loop, future, fn, args))
        return future

    def interrupt(self, future: asyncio.Future) -> bool:
        """Stop the call that was to answer ``future``, if a thread still runs it; True if one did."""
        with self._lock:
            for ident, running in self._running.items():
                if running is future:
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident),
                                                               ctypes.py_object(RouterTimeout))
                    self._stuck.add(ident)
                    return True
        return False

    def busy(self) -> int:
        """Threads running a call now."""
        return len(self._running)

    def stop(self) -> None:
        """Let every idle thread end (one in a router ends when the router returns or is stopped)."""
        for _ in self.started:
            self._jobs.put(None)

    def _work(self) -> None:
        ident = threading.get_ident()
        while True:
            try:
                if not self._one(ident):
                    return
            except RouterTimeout:       # it came as the call was ending: nothing left to stop
                with self._lock:
                    self._running.pop(ident, None)
                    self._stuck.discard(ident)

    def _one(self, ident: int) -> bool:
        """Run the next call; False when told to stop."""
        job = self._jobs.get()
        if job is None:
            return False
        loop, future, fn, args = job
        with self._lock:
            self._waiting -= 1
            self._running[ident] = future
        try:
            result = fn(*args)
        finally:
            with self._lock:
                self._running.pop(ident, None)
                self._stuck.discard(ident)
        try:
            loop.call_soon_threadsafe(_settle, future, result)
        except RuntimeError:        # the loop is closed: nobody waits for this answer
            pass
        return True


def _settle(future: asyncio.Future, result) -> None:
    if not future.done():
        future.set_result(result)


class _Raised(NamedTuple):
    """What a router raised, described where it ran (its ``str()`` is the router's code too)."""

    kind: str                # the exception's class name
    text: str                # str() of it, cut to 300 characters
    where: str               # file:line in function
    no_backend: bool         # it is a NoHealthyInstance


def _call(fn, *args):
    """``("ok", fn(*args))``, or ``("raised", _Raised)`` for any exception at all.

    The exception is described here, not on the proxy's loop: its ``__str__`` is the
    router's code as well, and may raise or sleep.
    """
    try:
        return "ok", fn(*args)
    except BaseException as exc:        # noqa: BLE001 - a router's KeyboardInterrupt must not escape
        return "raised", _describe(exc)


def _describe(exc: BaseException) -> _Raised:
    try:
        text = cut(str(exc), 300)
    except BaseException as error:      # noqa: BLE001 - a broken __str__ is the router's failure too
        text = f"(its str() raised {type(error).__name__})"
    return _Raised(type(exc).__name__, text, _where(exc), isinstance(exc, NoHealthyInstance))


class _Odd(NamedTuple):
    """A router's answer that is not a str, shown (its ``repr()`` is the router's code too)."""

    shown: str


def _route(route, request: Request, pool: ReadOnlyPool):
    """``route(request, pool)`` if it is a str; else an :class:`_Odd` showing what it was."""
    iid = route(request, pool)
    if type(iid) is str:
        return iid
    try:
        shown = cut(repr(iid))
    except BaseException as error:      # noqa: BLE001 - a broken __repr__ is the router's failure too
        shown = f"a {type(iid).__name__} (its repr() raised {type(error).__name__})"
    return _Odd(shown)


def _label_of(router: Router) -> str:
    """``router.label()`` cut to 80 characters; its class name if that fails or is not a string."""
    try:
        label = router.label()
    except BaseException:               # noqa: BLE001 - any failure of label() means: use the class name
        label = None
    return cut(label, 80) if type(label) is str else type(router).__name__


class RouterGuard:
    """Calls ``router`` for the proxy, within ``timeout`` seconds a call, reporting failures by name.

    Args:
        router: the router, as the proxy was given it.
        timeout: seconds a call of ``route`` or ``on_response`` may take.
        isolate: run the router's calls on worker threads; None (the default) isolates every
            router except the package's own (:func:`is_builtin`).
    """

    def __init__(self, router: Router, timeout: float = 2.0, isolate: bool | None = None):
        if not timeout > 0:
            raise ValueError(f"router_timeout must be a positive number of seconds, got {timeout!r}")
        self.router, self.timeout = router, timeout
        self.isolated = not is_builtin(router) if isolate is None else bool(isolate)
        #: The last router failures, newest last, each one short line without secrets.
        self.errors: deque[str] = deque(maxlen=100)
        self._workers = _Workers()
        self._logged: dict[str, float] = {}
        self._label: str | None = None

    def label(self) -> str:
        """The router's label; its class name if ``label()`` fails (or a learner's was not asked yet).

        A learner's ``label()`` is its code like ``route()``: it is asked once, off the loop and
        within the budget, when a failure must be named (:meth:`named`); this returns what it said.
        """
        if self._label is None and not self.isolated:
            self._label = _label_of(self.router)
        return self._label or type(self.router).__name__

    async def named(self) -> str:
        """The router's label for a failure's message, asked off the loop the first time."""
        if self._label is None and self.isolated:
            loop = asyncio.get_running_loop()
            answer = self._workers.submit(loop, _label_of, self.router)
            timer = loop.call_later(min(self.timeout, 1.0), _settle, answer, None)
            label = await answer
            timer.cancel()
            if label is None:
                self._workers.interrupt(answer)
            self._label = label or type(self.router).__name__
        return self.label()

    async def _run(self, what: str, request: Request, fn, *args):
        """``fn(*args)``'s result, inline or on a worker within the budget; RouterFailure if it fails."""
        if self.isolated:
            loop = asyncio.get_running_loop()
            answer = self._workers.submit(loop, _call, fn, *args)
            timer = loop.call_later(self.timeout, _settle, answer, ("late", None))
            kind, value = await answer
            timer.cancel()
            if kind == "late":
                self._workers.interrupt(answer)
                raise self.failure(500, f"router {await self.named()!r}.{what} took longer than "
                                   f"{self.timeout:g} s (a router must answer at once; it runs off "
                                   "the proxy's loop, so only this request waited)", request)
        else:
            kind, value = _call(fn, *args)
        if kind == "ok":
            return value
        if value.no_backend:
            raise RouterFailure(503, f"no backend can take this request: {value.text}")
        raise self.failure(500, f"router {await self.named()!r}.{what} raised {value.kind}: "
                           f"{value.text} (at {value.where}) while routing {request!r}",
                           request, value)

    async def route(self, request: Request, pool: ReadOnlyPool) -> str:
        """The router's choice for ``request``, checked to be a member of the ``pool`` it was handed."""
        iid = await self._run("route", request, _route, self.router.route, request, pool)
        if type(iid) is _Odd:
            raise self.failure(500, f"router {await self.named()!r} returned {iid.shown}, which is not an "
                               f"instance id (a string such as 'i0'), for {request!r}", request)
        if iid not in pool.members:
            raise RouterFailure(400, f"router {await self.named()!r} chose {iid[:40]!r}, which is not a "
                                "backend of this proxy (a cookie or header of the request named it?)")
        return iid

    async def on_response(self, request: Request, iid: str, response) -> None:
        """Let the router see the response (and add its cookies); RouterFailure if it fails."""
        await self._run("on_response", request, self.router.on_response, request, iid, response)

    def failure(self, status: int, message: str, request: Request | None,
                exc: BaseException | _Raised | None = None) -> RouterFailure:
        """Keep and log ``message`` (short, secrets hidden); the RouterFailure for the client's page."""
        line = cut(without_secrets(message, request), MOST_KEPT)
        self.errors.append(line)
        if isinstance(exc, BaseException):
            exc = _Raised(type(exc).__name__, "", _where(exc), False)
        where = f"{exc.kind}@{exc.where}" if exc is not None else message[:80]
        now = time.monotonic()
        if now - self._logged.get(where, -_LOG_EVERY) >= _LOG_EVERY:
            if len(self._logged) > 1000:
                self._logged.clear()
            self._logged[where] = now
            log.error("%s", line)
        return RouterFailure(status, line)

    def stop(self) -> None:
        """Let the worker threads end."""
        self._workers.stop()

    def threads(self) -> int:
        """The worker threads still alive."""
        return sum(t.is_alive() for t in self._workers.started)

    def busy(self) -> int:
        """The worker threads running a call of the router now."""
        return self._workers.busy()
