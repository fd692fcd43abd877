"""The traffic driver: a scenario's workload replayed over real HTTP by :class:`~stickylab.Browser` clients.

The simulator's workload (:func:`stickylab.generate`) says who sends what, when and from
which address. Here each user is a :class:`~stickylab.Browser` (the same cookie jar and
headers the simulator uses) whose requests go over real TCP connections, from a
loopback address of its own: the workload's k-th distinct address becomes
:func:`loopback_address` ``(k)``, so users behind one NAT still share one (Linux routes
the whole of 127.0.0.0/8 to the loopback interface; elsewhere every client is
127.0.0.1, and :func:`many_loopback_addresses` says so). Scenario time runs ``speed``
times faster than the wall clock.

Events (a crash, a restart, a new instance) happen for real, between the same requests
as in the simulator: each waits for the requests before it to be answered, and the
requests after it wait for it.

What comes back is a :class:`~stickylab.Result`, as :func:`stickylab.simulate` makes, so
every metric and plot works on it. Only what reality decides differs: latency is the
measured seconds, and the proxy learns that a backend died when a connection to it
fails (or a health check does), not at the instant of the event.
"""

from __future__ import annotations

import asyncio
import functools
import math
import socket
import time
from dataclasses import dataclass, field

import aiohttp
import numpy as np

from .. import events as ev
from ..app import LOGIN_PATH, SESSION_COOKIE
from ..browser import Browser
from ..metrics import Result
from ..model import Cookie, Request
from ..trace import FAILED, HIT, LOST, NEEDED, NO_INSTANCE, pack, split
from ..workload import LOGIN, LOGOUT, NORMAL, generate
from .backend import INSTANCE_HEADER
from .cookies import parse_set_cookie
from .tls import client_context

__all__ = ["Reply", "drive", "exchange", "loopback_address", "many_loopback_addresses"]

_PATHS = {NORMAL: "/app", LOGIN: LOGIN_PATH, LOGOUT: "/logout"}


def loopback_address(k: int) -> str:
    """The ``k``-th client address: 127.1.0.1, 127.1.0.2, ... (never 127.0.0.1, never .0 or .255)."""
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < 254 * 256 * 254:
        raise ValueError(f"k must be an integer in [0, {254 * 256 * 254}), got k={k!r}")
    return f"127.{1 + k // (254 * 256)}.{(k // 254) % 256}.{k % 254 + 1}"


@functools.cache
def many_loopback_addresses() -> bool:
    """True if a client can bind 127.x.y.z addresses other than 127.0.0.1 (Linux can, macOS cannot)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((loopback_address(1), 0))
        return True
    except OSError:
        return False


@dataclass
class Reply:
    """One real HTTP response, as a client saw it.

    Attributes:
        status: the HTTP status.
        instance: the ``X-Instance`` header (the backend that served), or None if the
            proxy answered by itself.
        headers: every response header, as (name, value) pairs in order.
        set_cookies: the raw ``Set-Cookie`` headers.
        cookies: those of them the cookie model reads.
        text: the body.
        latency: seconds from sending to the whole answer.
    """

    status: int
    instance: str | None
    headers: list[tuple[str, str]]
    set_cookies: list[str]
    cookies: list[Cookie]
    text: str
    latency: float

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first header called ``name`` (any case), or ``default``."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), default)

    def __repr__(self) -> str:
        return f"Reply({self.status} from {self.instance or 'the proxy'}, set_cookies={self.set_cookies!r})"


def _cookie_header(cookies) -> str | None:
    return "; ".join(f"{k}={v}" for k, v in cookies.items()) or None


async def exchange(session: aiohttp.ClientSession, url: str, request: Request, method: str = "GET") -> Reply:
    """Send ``request`` (its headers and cookies) to ``url`` and read the whole reply."""
    headers = {k: v for k, v in request.headers.items()}
    cookie = _cookie_header(request.cookies)
    if cookie:
        headers["Cookie"] = cookie
    start = time.perf_counter()
    async with session.request(method, url, headers=headers, allow_redirects=False,
                               ssl=client_context(url)) as r:
        text = await r.text(errors="replace")
    raw = r.headers.getall("Set-Cookie", [])
    return Reply(r.status, r.headers.get(INSTANCE_HEADER), list(r.headers.items()), raw,
                 [c for c in map(parse_set_cookie, raw) if c is not None], text, time.perf_counter() - start)


def take(browser: Browser, reply: Reply, t: float, user: str, https: bool = True) -> None:
    """What a browser does with a reply: store its cookies; a new session signs it in."""
    if reply.cookies:
        browser.store(reply.cookies, t, https)
    for c in reply.cookies:
        if c.name == SESSION_COOKIE and c.max_age != 0 and c.value:
            browser.sign_in(browser.user_id or user, c.value)


def client(address: str | None, limit: int = 64) -> aiohttp.ClientSession:
    """An HTTP client whose connections come from ``address`` (None: the system's choice).

    It keeps no cookies of its own: the :class:`~stickylab.Browser` is the cookie jar.
    """
    connector = aiohttp.TCPConnector(local_addr=(address, 0) if address else None, limit=limit,
                                     ttl_dns_cache=None)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                 timeout=aiohttp.ClientTimeout(total=15.0))


@dataclass
class _Replay:
    """One replay in progress: the workload, the browsers, and what each request got."""

    url: str
    workload: object
    speed: float
    start: float = 0.0
    sessions: dict = field(default_factory=dict)
    codes: np.ndarray = None
    latency: np.ndarray = None

    def __post_init__(self):
        n = len(self.workload)
        self.codes = np.full(n, pack(NO_INSTANCE, FAILED), dtype=np.int32)
        self.latency = np.full(n, math.nan)
        self.browsers = [Browser(keeps_cookies=bool(k)) for k in self.workload.keeps_cookies]
        self.spread = many_loopback_addresses()
        self.answered = np.zeros(n, dtype=bool)
        #: (time, done) per event: requests at or after ``time`` wait until ``done`` is set.
        self.gates: list[tuple[float, asyncio.Event]] = []

    def session(self, addr: int) -> aiohttp.ClientSession:
        """The client for the workload's address number ``addr`` (one per address: NATs share it)."""
        key = addr if self.spread else 0
        if key not in self.sessions:
            self.sessions[key] = client(loopback_address(addr) if self.spread else None)
        return self.sessions[key]

    async def until(self, t: float) -> None:
        """Sleep until scenario time ``t``."""
        delay = self.start + t / self.speed - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)

    async def user(self, u: int, indices: np.ndarray) -> None:
        """One user's requests, in order, each at its time (and after every event due before it)."""
        wl = self.workload
        for i in indices.tolist():
            t = float(wl.times[i])
            await self.until(t)
            for at, done in self.gates:
                if at <= t and not done.is_set():
                    await done.wait()
            try:
                await self.one(i, u)
            finally:
                self.answered[i] = True

    async def one(self, i: int, u: int) -> None:
        """Send request ``i`` of user ``u``; record its code and latency."""
        wl, browser = self.workload, self.browsers[u]
        kind, t = int(wl.kinds[i]), float(wl.times[i])
        browser.client_ip = loopback_address(int(wl.addr[i])) if self.spread else "127.0.0.1"
        session = self.session(int(wl.addr[i]))
        path = _PATHS[kind]
        query = f"?user=u{u}" if kind == LOGIN else ""
        try:
            reply = await exchange(session, self.url + path + query, browser.request(path, t))
        except (TimeoutError, aiohttp.ClientError, OSError):
            reply = None
        if reply is None or reply.instance is None or reply.status >= 500:
            self.codes[i] = pack(NO_INSTANCE, FAILED if kind == LOGIN else FAILED | NEEDED)
            if kind == LOGOUT:
                browser.close()
            return
        take(browser, reply, t, f"u{u}")
        flags = (HIT if reply.header("X-Cache") == "HIT" else 0) | (0 if kind == LOGIN else NEEDED)
        if reply.header("X-Session") == "missing":
            flags |= LOST
        self.codes[i] = pack(int(reply.instance[1:]), flags)
        self.latency[i] = reply.latency
        if kind == LOGOUT:
            browser.close()

    async def close(self) -> None:
        """Close every client."""
        await asyncio.gather(*(s.close() for s in self.sessions.values()))


async def drive(url: str, scenario, *, speed: float = 10.0, events=None, lab=None, router=None) -> Result:
    """Replay ``scenario``'s workload against the proxy at ``url``; the measured :class:`~stickylab.Result`.

    Args:
        url: the proxy's base URL.
        scenario: a :class:`~stickylab.Scenario`: its users, times, addresses and cookie habits.
        speed: scenario seconds per wall-clock second.
        events: :class:`~stickylab.Fail`, :class:`~stickylab.Recover`, ... applied to ``lab`` at
            their scenario times (a real kill, restart, add, drain or removal).
        lab: the :class:`~stickylab.live.Lab` the events act on (needed only with events).
        router: recorded in the result.
    """
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not 0 < speed < math.inf:
        raise ValueError(f"speed must be a positive number of scenario seconds per second, got {speed!r}")
    plan = ev.plan(events, scenario.instances, scenario.duration)
    if plan and lab is None:
        raise ValueError("events need the lab they act on: drive(..., lab=lab)")
    workload = generate(scenario)
    replay = _Replay(url.rstrip("/"), workload, float(speed))
    replay.gates = [(p[0].at, asyncio.Event()) for p in plan]
    replay.start = asyncio.get_running_loop().time() + 0.05
    order = np.argsort(workload.users, kind="stable")
    bounds = np.flatnonzero(np.diff(workload.users[order])) + 1
    tasks = [replay.user(int(workload.users[part[0]]), part) for part in np.split(order, bounds) if len(part)]
    try:
        await asyncio.gather(*tasks, _events(replay, plan, lab))
    finally:
        await replay.close()
    instance, outcome = split(replay.codes)
    ids = lab.ever if lab is not None else [f"i{k}" for k in range(int(instance.max(initial=-1)) + 1)]
    return Result(scenario=scenario, router=router, events=[p[0] for p in plan], workload=workload,
                  instance_ids=list(ids), instance=instance, latency=replay.latency, outcome=outcome)


async def _events(replay: _Replay, plan, lab) -> None:
    """Carry out each event on the lab at its scenario time, in the workload's order.

    An event waits until every earlier request is answered, and every later request waits
    for the event, as in the simulator: on a busy machine, where requests run late, a
    crash then still falls between the same requests.
    """
    times = replay.workload.times
    for (event, touched, _), (_, done) in zip(plan, replay.gates):
        await replay.until(event.at)
        before = int(np.searchsorted(times, event.at))
        while not replay.answered[:before].all():
            await asyncio.sleep(0.005)
        try:
            await lab.apply(event, touched)
        finally:
            done.set()
