"""The simulator: a workload's requests go through a router to instances that keep state.

The model, piece by piece:

- **Instances** keep sessions in memory (session id -> last seen). A request that lands
  where its session is not finds the user logged out: it counts as a session loss and
  the user logs in again there, getting a new session. With ``session_store="external"``
  sessions live in one shared store instead, so no instance can lose them, and every
  request pays ``store_latency`` for the round trip.
- Each instance has a **local cache** of ``cache_size`` users' data, least recently used
  out first. A miss means the warm-up is repeated: the request waits ``miss_penalty``.
- Each instance is a **single FIFO server** of ``capacity`` requests per second: a request
  waits until the instance is free, so a hot instance shows up as latency.
- The **application** sets its session cookie (``SESSION``) at login and clears it at
  logout; once logged in, clients also send ``X-User-Id`` and ``Authorization: Bearer``
  headers, as an application that cooperates with header routing would.
- **Clients** keep a cookie jar (unless they drop cookies): cookies without ``Max-Age``
  last for one visit (the browser closes), the others until they expire.
- The engine never fixes a router's choice: a request sent to a dead or unknown
  instance fails, and so does one the router could not place (:class:`NoHealthyInstance`).
"""

from __future__ import annotations

import copy
import gc
import math
from array import array
from collections import OrderedDict

import numpy as np

from . import events as ev
from .metrics import FAILED, HIT, LOST, NEEDED, Result
from .model import Cookie, Headers, NoHealthyInstance, Pool, Request, Response
from .routers import Router, make
from .scenario import Scenario
from .workload import LOGIN, LOGOUT, NORMAL, generate

__all__ = ["APP_COOKIE", "RouterError", "simulate"]

APP_COOKIE = "SESSION"
_PATHS = {0: "/app", LOGIN: "/login", LOGOUT: "/logout"}
_NO_INSTANCE = object()
_LOGOUT_COOKIE = Cookie(APP_COOKIE, "", max_age=0)     # immutable: one object serves every logout
_PURGE_EVERY = 60.0


class RouterError(RuntimeError):
    """A router raised, or returned something that is not an instance id; names the router and request."""


class _Instance:
    """One instance's state: its sessions, its cache and when its server is next free."""

    __slots__ = ("id", "index", "code", "sessions", "shared", "cache", "busy_until")

    def __init__(self, iid: str, index: int, store: dict | None):
        self.id, self.index, self.code = iid, index, index << 4
        self.shared = store is not None                 # sessions in an external store
        self.sessions: dict[str, float] = store if store is not None else {}
        self.cache: OrderedDict[int, None] = OrderedDict()
        self.busy_until = 0.0

    def crash(self) -> None:
        if not self.shared:
            self.sessions.clear()
        self.cache.clear()
        self.busy_until = 0.0


def _describe(router: Router) -> str:
    label = router.label() if isinstance(router, Router) else type(router).__name__
    return f"router {label!r}"


def _route_error(router, request, exc) -> RouterError:
    return RouterError(f"{_describe(router)} raised {type(exc).__name__}: {exc} "
                       f"while routing {request!r}")


def _check_router(router) -> Router:
    if isinstance(router, str):
        return make(router)
    if isinstance(router, type) and issubclass(router, Router):
        raise TypeError(f"pass a router object, not the class: {router.__name__}()")
    if not isinstance(router, Router):
        raise TypeError(f"router must be a stickylab Router or a router name, got {router!r}")
    if type(router).route is Router.route:
        raise TypeError(f"{_describe(router)} does not implement route(request, pool)")
    try:
        return copy.deepcopy(router)
    except Exception:       # a router holding a lock or a socket runs as given
        return router


class _Run:
    """The state of one simulation while it runs."""

    def __init__(self, sc: Scenario, router: Router, plan):
        self.sc, self.router, self.plan = sc, router, plan
        self.store: dict[str, float] | None = {} if sc.session_store == "external" else None
        self.instances = [_Instance(f"i{k}", k, self.store) for k in range(sc.instances)]
        self.pool = Pool(healthy=[i.id for i in self.instances])   # _loop gives it its load
        self.live = {inst.id: inst for inst in self.instances}

    def apply(self, event: ev.Event, touched: list[str], states: dict[str, str]) -> None:
        """Carry out one event on the instances and the pool."""
        for iid in touched:
            index = int(iid[1:])
            if index == len(self.instances):
                self.instances.append(_Instance(iid, index, self.store))
            if states[iid] in (ev.FAILED, ev.REMOVED):
                self.instances[index].crash()
        self.live = {i.id: i for i in self.instances if states[i.id] in (ev.HEALTHY, ev.DRAINING)}
        self.pool.update(
            healthy=[i for i, s in states.items() if s == ev.HEALTHY],
            draining=[i for i, s in states.items() if s == ev.DRAINING],
            members=[i for i, s in states.items() if s != ev.REMOVED])

    def purge(self, now: float) -> None:
        """Forget sessions idle longer than the session timeout (they were abandoned)."""
        stores = [self.store] if self.store is not None else [i.sessions for i in self.instances]
        limit = now - self.sc.session_timeout
        for sessions in stores:
            stale = [sid for sid, seen in sessions.items() if seen < limit]
            for sid in stale:
                del sessions[sid]


def simulate(scenario: Scenario, router: Router | str, events=None) -> Result:
    """Run ``scenario``'s workload through ``router``, applying ``events``; return the :class:`Result`.

    ``router`` is a :class:`~stickylab.Router` (a fresh copy runs, available afterwards as
    ``result.router``) or a router name for :func:`stickylab.routers.make`. Everything is
    checked before the run starts.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a stickylab.Scenario, got {scenario!r}")
    router = _check_router(router)
    plan = ev.plan(events, scenario.instances, scenario.duration)
    workload = generate(scenario)
    run = _Run(scenario, router, plan)
    collecting = gc.isenabled()
    gc.disable()        # the loop allocates millions of short-lived objects and no cycles
    try:
        codes, dones = _loop(run, workload)
    finally:
        if collecting:
            gc.enable()
    codes = np.array(codes, dtype=np.int32)        # copies the raw buffer (also when empty)
    outcome = (codes & 15).astype(np.int8)
    return Result(scenario=scenario, router=router, events=[p[0] for p in plan], workload=workload,
                  instance_ids=[i.id for i in run.instances], instance=codes >> 4,
                  latency=_latency(scenario, workload.times, np.array(dones, dtype=float), outcome),
                  outcome=outcome)


def _latency(sc: Scenario, times, done, outcome) -> np.ndarray:
    """Seconds from arrival to response: queue and service, a cache miss's warm-up, the store round trip."""
    miss = (outcome & HIT) == 0
    extra = sc.store_latency if sc.session_store == "external" else 0.0
    return done - times + extra + np.where(miss, sc.miss_penalty, 0.0)


def _loop(run: _Run, wl):  # noqa: C901 - the hot loop is one function on purpose: locals are fast
    """Send every request through the router; return per-request codes and latencies.

    A code is ``(instance index << 4) | outcome flags``, with index -1 for a failed request;
    a completion time is when the instance finished the request (NaN if it failed).
    """
    sc, router, pool = run.sc, run.router, run.pool
    route = router.route
    on_response = router.on_response if type(router).on_response is not Router.on_response else None
    n_users = sc.users
    keeps = wl.keeps_cookies.tolist()
    jars: list[dict] = [{}] * n_users          # copy-on-write: a jar is never changed in place
    lasting: list[dict | None] = [None] * n_users   # name -> expiry, for cookies with Max-Age
    next_expiry = [math.inf] * n_users
    sids: list[str | None] = [None] * n_users
    no_headers = Headers()
    headers = [no_headers] * n_users
    user_ids: list[str | None] = [None] * n_users
    service, capacity = 1.0 / sc.capacity, sc.capacity
    timeout = sc.session_timeout
    cache_size = sc.cache_size
    plan = list(run.plan)
    next_event = plan[0][0].at if plan else math.inf
    next_purge = _PURGE_EVERY
    next_check = min(next_event, next_purge)
    counter = 0
    live = run.live
    live_get = live.get
    codes, dones = array("i"), array("d")       # raw C values: no object per request kept alive
    add_code, add_done = codes.append, dones.append
    nan, never = math.nan, -math.inf
    normal, login, logout, needed, lost, hit = NORMAL, LOGIN, LOGOUT, NEEDED, LOST, HIT
    new_request = Request
    t = 0.0

    def in_flight(iid):     # Pool.load: requests queued or in service at the current time t
        inst = live.get(iid)
        if inst is None or inst.busy_until <= t:
            return 0
        return math.ceil((inst.busy_until - t) * capacity - 1e-9)

    pool._load = in_flight
    response = Response()   # one object, reset per request: valid only during on_response

    def end_visit(u):
        sids[u] = None
        headers[u] = Headers({"x-user-id": user_ids[u]}) if user_ids[u] else no_headers
        keep = lasting[u]
        if jars[u]:
            jars[u] = {k: v for k, v in jars[u].items() if keep and k in keep}

    def expire_cookies(u, t):
        keep = lasting[u]
        gone = [k for k, when in keep.items() if when <= t]
        jars[u] = {k: v for k, v in jars[u].items() if k not in gone}
        for k in gone:
            del keep[k]
        next_expiry[u] = min(keep.values(), default=math.inf)

    ips = np.array(wl.addresses, dtype=object)[wl.addr].tolist()
    paths = np.array([_PATHS[k] for k in range(3)], dtype=object)[wl.kinds].tolist()
    for t, u, kind, ip, path in zip(wl.times.tolist(), wl.users.tolist(), wl.kinds.tolist(),
                                    ips, paths):
        if t >= next_check:     # an event is due, or it is time to purge abandoned sessions
            while t >= next_event:
                run.apply(*plan.pop(0))
                next_event = plan[0][0].at if plan else math.inf
            live = run.live
            live_get = live.get
            if t >= next_purge:
                run.purge(t)
                next_purge = t + _PURGE_EVERY
            next_check = min(next_event, next_purge)
        if t >= next_expiry[u]:
            expire_cookies(u, t)
        request = new_request(ip, headers[u], jars[u], path, t)
        try:
            iid = route(request, pool)
        except NoHealthyInstance:
            iid = _NO_INSTANCE
        except Exception as exc:
            raise _route_error(router, request, exc) from exc
        try:
            inst = live_get(iid)
        except TypeError:       # unhashable: certainly not an instance id
            inst = None
        if inst is None:
            if iid is not _NO_INSTANCE and type(iid) is not str:
                raise RouterError(f"{_describe(router)} returned {iid!r}, which is not an instance "
                                  f"id (a string such as 'i0'), for {request!r}")
            add_code(-16 | FAILED if kind == login else -16 | FAILED | NEEDED)
            add_done(nan)
            if kind == logout:
                end_visit(u)
            continue

        # The application: find the user's session where the request landed.
        sessions = inst.sessions
        sid = sids[u]
        if kind == normal and sid is not None and t - sessions.get(sid, never) <= timeout:
            sessions[sid] = t                   # the common case: the session is here
            flags = needed
            new_sid = app_cookies = None
        elif kind == login:
            flags = 0
            counter += 1
            new_sid = f"s{counter:x}"
            sessions[new_sid] = t
            app_cookies = [Cookie(APP_COOKIE, new_sid)]
        elif kind == logout:
            new_sid = None
            if sid is not None and t - sessions.get(sid, never) <= timeout:
                flags = needed
                del sessions[sid]
            else:
                flags = needed | lost
            app_cookies = [_LOGOUT_COOKIE]
        else:                                   # logged out here: log in again, on this instance
            flags = needed | lost
            counter += 1
            new_sid = f"s{counter:x}"
            sessions[new_sid] = t
            app_cookies = [Cookie(APP_COOKIE, new_sid)]

        # The local cache and the queue (latency is worked out from completion times afterwards).
        cache = inst.cache
        if u in cache:
            cache.move_to_end(u)
            flags |= hit
        else:
            cache[u] = None
            if len(cache) > cache_size:
                cache.popitem(last=False)
        busy = inst.busy_until
        done = (busy if busy > t else t) + service
        inst.busy_until = done
        add_code(inst.code | flags)
        add_done(done)

        # The response: the application's cookie, then whatever the router adds.
        if on_response is not None:
            response.cookies = app_cookies or []
            try:
                on_response(request, iid, response)
            except Exception as exc:
                raise RouterError(f"{_describe(router)}.on_response raised {type(exc).__name__}: "
                                  f"{exc} for {request!r}") from exc
            app_cookies = response.cookies
        if app_cookies and keeps[u]:
            jar = dict(jars[u])
            for c in app_cookies:
                if c.max_age == 0:
                    jar.pop(c.name, None)
                else:
                    jar[c.name] = c.value
                    keep = lasting[u]
                    if c.max_age is not None:
                        if keep is None:
                            keep = lasting[u] = {}
                        keep[c.name] = t + c.max_age
                        if keep[c.name] < next_expiry[u]:
                            next_expiry[u] = keep[c.name]
                    elif keep is not None:
                        keep.pop(c.name, None)
            jars[u] = jar
        if new_sid is not None:
            sids[u] = new_sid
            if user_ids[u] is None:
                user_ids[u] = f"u{u}"
            headers[u] = Headers({"x-user-id": user_ids[u], "authorization": f"Bearer {new_sid}"})
        if kind == logout:
            end_visit(u)
    while plan:     # events after the last request still change the pool (and its series)
        run.apply(*plan.pop(0))
    return codes, dones
