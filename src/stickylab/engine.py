"""The simulator: a workload's requests go through a router to instances that keep state.

The model, piece by piece:

- Each user is a :class:`~stickylab.browser.Browser`: a cookie jar (unless the client
  drops cookies) whose cookies without ``Max-Age`` last one visit and the others until
  they expire, and, once logged in, ``X-User-Id`` and ``Authorization: Bearer`` headers.
- Each instance runs an :class:`~stickylab.app.App`: sessions in memory (session id ->
  last seen; a request that lands where its session is not finds the user logged out,
  counts as a session loss, and logs in again there) and a local LRU cache of
  ``cache_size`` users' data (a miss waits ``miss_penalty``). With
  ``session_store="external"`` the apps share one store instead, so no instance can lose
  a session, and every request pays ``store_latency`` for the round trip.
- Each instance is a **single FIFO server** of ``capacity`` requests per second: a request
  waits until the instance is free, so a hot instance shows up as latency. The queue is
  the engine's own, and so is ``Pool.load``: the requests in flight at an instance.
- The engine never fixes a router's choice: a request sent to a dead or unknown
  instance fails, and so does one the router could not place (:class:`NoHealthyInstance`).
- Routers see the pool as the balancer believes it: a failure with a detection time
  (``Fail(..., detect=6.0)``) leaves the dead instance in the pool until it is noticed.

The engine itself is an event loop: requests in time order, with the run's events (and
a periodic purge of expired sessions) applied when they fall due. What it records per
request is laid out in :mod:`stickylab.trace`.
"""

from __future__ import annotations

import copy
import gc
import itertools
import math
from array import array
from collections import deque

import numpy as np

from . import events as ev
from .app import LOGIN_PATH, LOGOUT_PATH, SESSION_COOKIE, App, Apps
from .browser import Browser
from .metrics import Result
from .model import NoHealthyInstance, Pool, Request, Response
from .routers import Router, as_router
from .scenario import Scenario
from .trace import FAILED, HIT, NEEDED, NO_INSTANCE, OUTCOME_MASK, pack, split
from .workload import LOGIN, LOGOUT, NORMAL, generate

__all__ = ["APP_COOKIE", "RouterError", "simulate"]

#: The application's session cookie (see :mod:`stickylab.app`).
APP_COOKIE = SESSION_COOKIE
_PATHS = {NORMAL: "/app", LOGIN: LOGIN_PATH, LOGOUT: LOGOUT_PATH}
_NO_INSTANCE = object()         # what a router that raised NoHealthyInstance "returned"
_PURGE_EVERY = 60.0             # seconds between looks for expired sessions to purge


class RouterError(RuntimeError):
    """A router raised, or returned something that is not an instance id; names the router and request."""


class _Server:
    """One instance: the application it runs and its queue (when the server is next free)."""

    __slots__ = ("id", "index", "codes", "app", "busy_until")

    def __init__(self, index: int, app: App):
        self.id, self.index = f"i{index}", index
        self.codes = tuple(pack(index, flags) for flags in range(OUTCOME_MASK + 1))   # by flags
        self.app = app
        self.busy_until = 0.0

    def crash(self) -> None:
        """Lose what the instance held in memory, and its queue."""
        self.app.crash()
        self.busy_until = 0.0


def _describe(router: Router) -> str:
    label = router.label() if isinstance(router, Router) else type(router).__name__
    return f"router {label!r}"


def _route_error(router, request, exc) -> RouterError:
    return RouterError(f"{_describe(router)} raised {type(exc).__name__}: {exc} "
                       f"while routing {request!r}")


def _copy(router: Router) -> Router:
    """A fresh copy of ``router`` to run (see :func:`simulate`); one that cannot be copied runs as given."""
    try:
        return copy.deepcopy(router)
    except Exception:       # a router holding a lock or a socket runs as given
        return router


class _Run:
    """The state of one simulation while it runs: clients, instances, the pool and the clock."""

    def __init__(self, sc: Scenario, router: Router, plan, keeps_cookies):
        self.sc, self.router = sc, router
        self.plan = deque(plan)
        self.store: dict[str, float] | None = {} if sc.session_store == "external" else None
        self.apps = Apps(session_timeout=sc.session_timeout, cache_size=sc.cache_size, store=self.store)
        self.servers = [self._server(k) for k in range(sc.instances)]
        self.live = {s.id: s for s in self.servers}
        self.pool = Pool(healthy=list(self.live), load=self.in_flight)
        self.states = {s.id: ev.HEALTHY for s in self.servers}    # as they are
        self.unnoticed: dict[str, tuple[float, str]] = {}   # failed, not yet detected: id -> (when, seen as)
        self.browsers = [Browser(keeps_cookies=keeps) for keeps in keeps_cookies]
        self.now = 0.0
        self.next_purge = _PURGE_EVERY

    def _server(self, index: int) -> _Server:
        return _Server(index, self.apps[f"i{index}"])

    def in_flight(self, iid: str) -> int:
        """``Pool.load``: requests queued or in service at instance ``iid`` now (0 if it is not live)."""
        server = self.live.get(iid)
        if server is None or server.busy_until <= self.now:
            return 0
        return math.ceil((server.busy_until - self.now) * self.sc.capacity - 1e-9)

    # -- the clock -------------------------------------------------------------------------
    def next_check(self) -> float:
        """When the loop must next call :meth:`advance`: the next event, detection or purge."""
        detection = min((when for when, _ in self.unnoticed.values()), default=math.inf)
        return min(self.plan[0][0].at if self.plan else math.inf, detection, self.next_purge)

    def advance(self, now: float) -> float:
        """Apply the events and detections due by ``now``, purge if it is time; return :meth:`next_check`."""
        plan = self.plan
        while plan or self.unnoticed:
            detection = min(self.unnoticed.items(), key=lambda item: item[1][0], default=None)
            event_at = plan[0][0].at if plan else math.inf
            if detection is not None and detection[1][0] <= min(now, event_at):
                del self.unnoticed[detection[0]]
                self.update_pool()
            elif event_at <= now:
                self.apply(*plan.popleft())
            else:
                break
        if now >= self.next_purge:
            self.purge(now)
            self.next_purge = now + _PURGE_EVERY
        return self.next_check()

    def finish(self) -> None:
        """Apply the events after the last request: they still change the pool (and its series)."""
        self.advance(math.inf)

    def apply(self, event: ev.Event, touched: list[str], states: dict[str, str]) -> None:
        """Carry out one event on the instances and the pool."""
        for iid in touched:
            index = int(iid[1:])
            if index == len(self.servers):
                self.servers.append(self._server(index))
            if states[iid] in (ev.FAILED, ev.REMOVED):
                self.servers[index].crash()
            if iid in self.unnoticed:           # back, or gone, before the balancer noticed
                del self.unnoticed[iid]
        if isinstance(event, ev.Fail) and event.detect > 0:
            self.unnoticed[event.id] = (event.at + event.detect, self.states[event.id])
        self.states = states
        self.live = {s.id: s for s in self.servers if states[s.id] in (ev.HEALTHY, ev.DRAINING)}
        self.update_pool()

    def update_pool(self) -> None:
        """Show routers the pool as the balancer believes it: failures it has not detected look live."""
        seen = dict(self.states)
        for iid, (_, before) in self.unnoticed.items():
            seen[iid] = before
        self.pool.update(
            healthy=[i for i, s in seen.items() if s == ev.HEALTHY],
            draining=[i for i, s in seen.items() if s == ev.DRAINING],
            members=[i for i, s in seen.items() if s != ev.REMOVED])

    def purge(self, now: float) -> None:
        """Forget expired sessions (abandoned ones) where they have piled up: see :meth:`App.tidy`."""
        if self.store is not None:
            self.servers[0].app.tidy(now)       # one store, shared by every app
        else:
            for server in self.servers:
                server.app.tidy(now)

    # -- the rare paths of the loop --------------------------------------------------------
    def refuse(self, iid, request: Request, kind: int, browser: Browser) -> int:
        """A request no live instance takes (or a router's answer that is no instance id): its code."""
        if iid is not _NO_INSTANCE and type(iid) is not str:
            raise RouterError(f"{_describe(self.router)} returned {iid!r}, which is not an instance "
                              f"id (a string such as 'i0'), for {request!r}")
        if kind == LOGOUT:
            browser.close()
        return pack(NO_INSTANCE, FAILED if kind == LOGIN else FAILED | NEEDED)


def simulate(scenario: Scenario, router: Router | str, events=None) -> Result:
    """Run ``scenario``'s workload through ``router``, applying ``events``; return the :class:`Result`.

    ``router`` is a :class:`~stickylab.Router` (a fresh copy runs, available afterwards as
    ``result.router``) or a router name for :func:`stickylab.routers.make`. Everything is
    checked before the run starts.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a stickylab.Scenario, got {scenario!r}")
    router = _copy(as_router(router))
    plan = ev.plan(events, scenario.instances, scenario.duration)
    workload = generate(scenario)
    run = _Run(scenario, router, plan, workload.keeps_cookies.tolist())
    collecting = gc.isenabled()
    gc.disable()        # the loop allocates millions of short-lived objects and no cycles
    try:
        codes, dones = _loop(run, workload)
    finally:
        if collecting:
            gc.enable()
    instance, outcome = split(codes)
    return Result(scenario=scenario, router=router, events=[p[0] for p in plan], workload=workload,
                  instance_ids=[s.id for s in run.servers], instance=instance,
                  latency=_latency(scenario, workload.times, np.array(dones, dtype=float), outcome),
                  outcome=outcome)


def _latency(sc: Scenario, times, done, outcome) -> np.ndarray:
    """Seconds from arrival to response: queue and service, a cache miss's warm-up, the store round trip."""
    miss = (outcome & HIT) == 0
    extra = sc.store_latency if sc.session_store == "external" else 0.0
    return done - times + extra + np.where(miss, sc.miss_penalty, 0.0)


def _requests(wl, browsers, chunk: int = 1 << 16):
    """Each request of workload ``wl`` as Python values: (time, browser, kind, address, path).

    Made a chunk at a time: one chunk's objects are freed before the next chunk is made,
    which reuses their memory while it is still in the processor's cache.
    """
    addresses = np.array(wl.addresses, dtype=object)
    paths = np.array([_PATHS[k] for k in range(3)], dtype=object)
    clients = np.empty(len(browsers), dtype=object)
    clients[:] = browsers

    def chunks():
        for start in range(0, len(wl.times), chunk):
            part = slice(start, start + chunk)
            kinds = wl.kinds[part]
            yield zip(wl.times[part].tolist(), clients[wl.users[part]].tolist(), kinds.tolist(),
                      addresses[wl.addr[part]].tolist(), paths[kinds].tolist())

    return itertools.chain.from_iterable(chunks())


def _loop(run: _Run, wl) -> tuple[array, array]:
    """Send every request through the router and back; return per-request codes and completion times.

    A request is :meth:`Browser.request`, the router's ``route``, :meth:`App.serve` and
    :meth:`App.warm`, the queue, the router's ``on_response`` and :meth:`Browser.store`.
    Millions of requests go through here, so the common case of each method is written
    out in place (marked "inlined"), with every name it needs bound to a local first:
    in CPython a call costs as much as the work it would do (calling ``App.resume`` for the
    session check alone costs about 5%). Rare cases call the methods. The rules written out
    here twice (session and cookie expiry, the LRU cache) are kept alike by a test that sends
    the same requests through the methods and compares each request's outcome
    (``tests/test_engine_agreement.py``).
    """
    sc, router, pool, browsers = run.sc, run.router, run.pool, run.browsers
    route = router.route
    on_response = router.on_response if type(router).on_response is not Router.on_response else None
    service, timeout, cache_size = 1.0 / sc.capacity, float(sc.session_timeout), sc.cache_size
    normal, logout, needed, hit = NORMAL, LOGOUT, NEEDED, HIT
    never, nan = -math.inf, math.nan
    codes, dones = array("i"), array("d")       # raw C values: no object per request kept alive
    add_code, add_done = codes.append, dones.append
    response = Response()   # one object, reset per request: valid only during on_response
    unset: list = []        # its cookies while nobody has set one (replaced once somebody does)
    live_get = run.live.get
    next_check = run.next_check()
    user_of = {browser: f"u{u}" for u, browser in enumerate(browsers)}    # a user's id, at first login
    for t, browser, kind, ip, path in _requests(wl, browsers):
        if t >= next_check:     # an event is due, or it is time to purge expired sessions
            next_check = run.advance(t)
            live_get = run.live.get
        run.now = t

        # Browser.request, inlined: the engine changes a jar only through the browser's
        # methods, which keep `browser.sent` current, so the comparison request() makes is skipped.
        if t >= browser.expires:
            browser.expire(t)
        request = Request(ip, browser.headers, browser.sent, path, t)
        try:
            iid = route(request, pool)
        except NoHealthyInstance:
            iid = _NO_INSTANCE
        except Exception as exc:
            raise _route_error(router, request, exc) from exc
        try:
            server = live_get(iid)
        except TypeError:       # unhashable: certainly not an instance id
            server = None
        if server is None:
            add_code(run.refuse(iid, request, kind, browser))
            add_done(nan)
            continue

        # App.serve, inlined for its common case: a request of a visit, whose session is here.
        app = server.app
        token = browser.token
        sessions = app.sessions
        if kind == normal and token is not None and t - sessions.get(token, never) <= timeout:
            sessions[token] = t
            flags, cookies = needed, None
        else:                   # a login, a logout, or a user logged out here
            flags, new_token, cookies = app.serve(path, token, t)
            if new_token is not None:
                browser.sign_in(browser.user_id or user_of[browser], new_token)

        # App.warm, inlined: the local cache of users' data, least recently used out first.
        cache = app.cache
        if cache.pop(browser, 0) is None:
            cache[browser] = None
            flags |= hit
        else:
            cache[browser] = None
            if len(cache) > cache_size:
                del cache[next(iter(cache))]

        # The queue: one FIFO server per instance (latency is worked out from completion times).
        busy = server.busy_until
        done = server.busy_until = (busy if busy > t else t) + service
        add_code(server.codes[flags])
        add_done(done)

        # The response: the application's cookies, then whatever the router adds.
        if on_response is not None:
            response.cookies = cookies or unset
            try:
                on_response(request, iid, response)
            except Exception as exc:
                raise RouterError(f"{_describe(router)}.on_response raised {type(exc).__name__}: "
                                  f"{exc} for {request!r}") from exc
            cookies = response.cookies
            if cookies is unset and unset:      # the router appended: hand the list over
                unset = []
        if cookies:
            browser.store(cookies, t)
        if kind == logout:
            browser.close()
    run.finish()
    return codes, dones
