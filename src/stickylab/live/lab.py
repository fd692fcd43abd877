"""The lab: N backend processes and the proxy on free loopback ports, controlled while traffic runs.

::

    with Lab(sl.routers.CookieInsert(), instances=3) as lab:
        lab.send(browser, "/login")     # a real request through the proxy
        lab.kill("i1")                  # SIGKILL: its in-memory sessions die with it
        lab.restart("i1")               # a fresh process, empty memory, same id
        res = lab.run(scenario, events=[sl.Fail("i2", at=30.0)], speed=10.0)
        lab.remove("i0")                # drain, then stop: users whose visits end meanwhile lose nothing
        lab.health()                    # each backend's word on its session store

The proxy runs in a thread of this process (so a router written in a notebook runs as
it is), with an event loop of its own; the backends are child processes. Controlling them
never holds that loop: every wait for a process (to start, to stop, to drain) is awaited or
runs on a worker thread, so the traffic goes on while a backend is killed, restarted or removed.

With ``store="redis"`` and no ``redis_url``, the lab starts a redis-server of its own that
saves nothing to disk (``--save ""``, ``--appendonly no``): ``lab.kill("redis")`` then
``lab.restart("redis")`` empties every session, and every user is logged out at once.

However the lab ends (``close``, the ``with`` block, an exception, garbage collection, or this process
dying, even by SIGKILL), no process it started is left behind: see :mod:`stickylab.children`.
"""

from __future__ import annotations

import asyncio
import math
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

import aiohttp

from .. import children
from .. import events as ev
from ..browser import Browser
from ..routers import Router, as_router
from . import procs
from .backend import HEALTH_PATH
from .proxy import Proxy
from .tls import LabTLS, forget, lab_certificates, trust
from .stores import STORES, redis_available
from .traffic import Reply, client, drive, exchange, many_loopback_addresses, take

__all__ = ["DRAIN_TIMEOUT", "Lab", "Reply"]

_START_TIMEOUT = 30.0
#: Seconds :meth:`Lab.remove` waits by default for the users of a draining backend to end their
#: visits (Kubernetes' default ``terminationGracePeriodSeconds``).
DRAIN_TIMEOUT = 30.0
#: Seconds between two looks at a draining backend.
_DRAIN_POLL = 0.1


def _reap(running: dict, loops: list) -> None:
    """Stop every child still running, and the loop thread (runs even if ``close`` was never called)."""
    for proc in list(running.values()):
        children.stop(proc, grace=0.5)
    running.clear()
    for loop in loops:
        if not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
    loops.clear()


class Lab:
    """Real backends and a real proxy on loopback, for one router and one session store.

    Args:
        router: a :class:`~stickylab.Router` (run as given: inspect it afterwards) or a router name.
        instances: backends to start, ids ``"i0"``, ``"i1"``, ...
        store: where backends keep sessions: ``"memory"`` (each its own), ``"sqlite"`` (one
            database file shared by all), ``"redis"`` (``redis_url``, or a redis-server the lab
            starts when one is installed) or ``"jwt"`` (stateless signed tokens).
        redis_url: a running Redis to use, e.g. ``"redis://127.0.0.1:6379/0"``.
        host: the proxy's listening address (loopback unless told otherwise).
        port: the proxy's port; 0 picks a free one.
        session_timeout: seconds an idle session lives in the backends.
        health_interval: seconds between the proxy's health checks of each backend.
        tls: serve HTTPS with certificates made for the lab (:mod:`stickylab.live.tls`); the
            backends are told ``X-Forwarded-Proto: https``.
    """

    def __init__(self, router: Router | str = "CookieInsert", instances: int = 3, *, store: str = "memory",
                 redis_url: str | None = None, host: str = "127.0.0.1", port: int = 0,
                 session_timeout: float = 1800.0, health_interval: float = 0.25, tls: bool = False):
        if isinstance(instances, bool) or not isinstance(instances, int) or not 1 <= instances <= 64:
            raise ValueError(f"instances must be an integer from 1 to 64, got instances={instances!r}")
        if store not in STORES:
            raise ValueError(f"store must be one of {', '.join(map(repr, STORES))}, got store={store!r}")
        if store == "redis" and redis_url is None and not redis_available():
            raise RuntimeError("store='redis' needs a Redis: pass redis_url='redis://HOST:PORT/0', or "
                               "install redis-server (apt install redis-server, brew install redis); "
                               "store='sqlite' is an external store that needs nothing installed")
        self.router = as_router(router)
        self.instances, self.store, self.redis_url = instances, store, redis_url
        self.host, self.session_timeout, self.health_interval = host, session_timeout, health_interval
        self._port = port
        #: With ``tls=True``, the lab's certificates (:class:`~stickylab.live.tls.LabTLS`): the proxy
        #: serves HTTPS, and ``lab.tls.write_ca(path)`` hands its CA to curl or a browser.
        self.tls: LabTLS | None = lab_certificates() if tls else None
        self.proxy: Proxy | None = None
        #: Every instance id ever started, in creation order (the ``instance_ids`` of results).
        self.ever: list[str] = []
        self._children: dict[str, subprocess.Popen] = {}
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._reaper = weakref.finalize(self, _reap, self._children, self._loops)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dir: Path | None = None
        self._clients: dict = {}
        self._control: aiohttp.ClientSession | None = None
        self._redis_port: int | None = None
        self._t0 = time.monotonic()

    # -- the loop thread ---------------------------------------------------------------------------
    def _call(self, coro, timeout: float = 60.0):
        """Run ``coro`` on the lab's loop from another thread; its result."""
        if self._loop is None:
            coro.close()
            raise RuntimeError("the lab is not running: use `with Lab(...) as lab:` or call lab.start()")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> Lab:
        """Start the backends and the proxy; return the lab."""
        if self._loop is not None:
            return self
        if not self._reaper.alive:        # started again after close()
            self._reaper = weakref.finalize(self, _reap, self._children, self._loops)
        self._dir = Path(tempfile.mkdtemp(prefix="stickylab-lab-"))
        self._loop = asyncio.new_event_loop()
        self._loops.append(self._loop)
        threading.Thread(target=self._loop.run_forever, daemon=True, name="stickylab-lab").start()
        try:
            self._call(self._start())
        except BaseException:
            self.close()
            raise
        return self

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    async def _start(self) -> None:
        self._control = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(),
                                              timeout=aiohttp.ClientTimeout(total=2.0))
        self._spec, self._env = await self._store_spec()
        ids = [f"i{k}" for k in range(self.instances)]
        addresses = await asyncio.gather(*(self._spawn(iid) for iid in ids))
        self.ever = list(ids)
        self.proxy = Proxy(self.router, dict(zip(ids, addresses)), host=self.host, port=self._port,
                           health_interval=self.health_interval, tls=self.tls.server if self.tls else None)
        await self.proxy.start()
        if self.tls:
            trust(self.proxy.url, self.tls.client)

    async def _store_spec(self) -> tuple[str, dict]:
        """The backends' ``--store`` and environment; starts a redis-server if one is needed."""
        env = dict(os.environ)
        if self.store == "sqlite":
            return f"sqlite:{self._dir / 'sessions.db'}", env
        if self.store == "jwt":
            env["STICKYLAB_JWT_SECRET"] = secrets.token_hex(32)
            return "jwt", env
        if self.store == "redis":
            return self.redis_url or await self._start_redis(), env
        return "memory", env

    async def _start_redis(self) -> str:
        """A redis-server of the lab's own on a loopback port, nothing saved to disk (``--save ""``).

        A restart takes the port it had, so the backends find it again (empty).
        """
        port = self._redis_port = self._redis_port or procs.free_port()
        self._children["redis"] = await asyncio.to_thread(
            procs.spawn, ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", str(self._dir)], log=str(self._dir / "redis.log"))
        import redis

        r = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
        for _ in range(200):
            try:
                if await asyncio.to_thread(r.ping):
                    return f"redis://127.0.0.1:{port}/0"
            except redis.ConnectionError:
                await asyncio.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {port}: {self._tail('redis')}")

    async def _spawn(self, iid: str) -> str:
        """Start backend ``iid``; its address once it listens."""
        argv = [sys.executable, "-m", "stickylab.live.backend", "--id", iid, "--store", self._spec,
                "--parent", str(os.getpid()), "--session-timeout", str(self.session_timeout),
                "--prefix", f"stickylab:{id(self):x}:"]
        proc = await asyncio.to_thread(procs.spawn, argv, log=str(self._dir / f"{iid}.log"), env=self._env)
        self._children[iid] = proc
        loop = asyncio.get_running_loop()
        try:
            line = await asyncio.wait_for(loop.run_in_executor(None, proc.stdout.readline), _START_TIMEOUT)
        except TimeoutError:
            line = b""
        if not line.startswith(b"READY "):
            await children.stop_async(self._children.pop(iid))
            raise RuntimeError(f"backend {iid} did not start: {self._tail(iid)}")
        return f"127.0.0.1:{int(line.split()[1])}"

    def _tail(self, name: str) -> str:
        path = self._dir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return text[-2000:].strip() or "(no output)"

    def close(self) -> None:
        """Stop the proxy and every process the lab started; safe to call twice."""
        loop, self._loop = self._loop, None
        if loop is not None:
            try:
                asyncio.run_coroutine_threadsafe(self._close(), loop).result(10.0)
            except Exception:       # the processes are stopped below whatever happened here
                pass
        self._reaper()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    async def _close(self) -> None:
        await asyncio.gather(*(c.close() for c in self._clients.values()))
        self._clients.clear()
        if self._control is not None:
            await self._control.close()
        if self.proxy is not None:
            forget(self.proxy.url)
            await self.proxy.stop()

    # -- what the lab shows -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The proxy's base URL, e.g. ``http://127.0.0.1:43121``."""
        if self.proxy is None:
            raise RuntimeError("the lab is not running")
        return self.proxy.url

    def status(self) -> dict[str, str]:
        """Each backend the proxy knows: ``"up"``, ``"draining"`` or ``"down"``."""
        members = self.proxy.members if self.proxy else {}
        return {iid: ("draining" if m.draining else "up") if m.up else "down" for iid, m in members.items()}

    def stats(self) -> dict[str, dict[str, int]]:
        """Each backend's counters at the proxy: requests, errors, in flight, bytes sent and received."""
        return self.proxy.stats() if self.proxy else {}

    def access_log(self, last: int = 20) -> list:
        """The proxy's last ``last`` requests (:class:`~stickylab.live.proxy.Access`), oldest first."""
        return list(self.proxy.access_log)[-last:] if self.proxy and last > 0 else []

    def backends(self) -> dict[str, str]:
        """Each backend's ``host:port``, for the operator (clients never see them)."""
        return {iid: m.address for iid, m in self.proxy.members.items()} if self.proxy else {}

    def pids(self) -> dict[str, int]:
        """The process id of each running child (backends, and ``redis`` if the lab started one)."""
        return {name: p.pid for name, p in self._children.items() if p.poll() is None}

    def health(self) -> dict[str, dict | None]:
        """Each backend's own ``/health`` answer (None if it gives none): what its session store is doing.

        ``{"i0": {"instance": "i0", "process": "up", "store": {"kind": "sqlite", "state":
        "unreachable", "reason": "OperationalError: database is locked", "for": 3.2},
        "sessions": None}, ...}``: ``sessions`` counts the live sessions a backend holds in
        its memory (None when they are kept elsewhere). A backend whose store is unreachable
        still answers and stays in the pool; its requests that need the store get a 503.
        """
        return self._call(self._health())

    async def _health(self) -> dict[str, dict | None]:
        backends = self.backends()
        answers = await asyncio.gather(*(self._ask_health(address) for address in backends.values()))
        return dict(zip(backends, answers))

    def log(self, iid: str) -> str:
        """The end of backend ``iid``'s error output."""
        return self._tail(iid)

    # -- controlling the backends ----------------------------------------------------------------------------
    def kill(self, iid: str) -> None:
        """Crash backend ``iid`` (SIGKILL): what it held in memory is gone; the proxy finds out by itself.

        ``"redis"`` kills the lab's own redis-server: every request that needs a session gets
        the backends' 503 naming the store, while the backends stay in the pool.
        """
        self._call(self._kill(iid))

    async def _kill(self, iid: str) -> None:
        proc = self._children.pop(self._child(iid), None)
        if proc is None:
            raise ValueError(f"{'' if iid == 'redis' else 'backend '}{iid} is not running")
        await children.kill_async(proc)

    def restart(self, iid: str) -> None:
        """Start a fresh process for backend ``iid`` (empty memory) and put it back in the pool.

        A running one is stopped first (:func:`stickylab.children.stop`: one stopped with SIGSTOP
        ends at once too). ``"redis"`` restarts the lab's own
        redis-server on its port: it saves nothing, so every session is gone.
        """
        self._call(self._restart(iid))

    async def _restart(self, iid: str) -> None:
        self._child(iid)
        proc = self._children.pop(iid, None)
        if proc is not None:
            await children.stop_async(proc)
        if iid == "redis":
            await self._start_redis()
        else:
            self.proxy.set_backend(iid, await self._spawn(iid))

    def add(self) -> str:
        """Start one more backend (scale out); its id."""
        return self._call(self._add())

    async def _add(self) -> str:
        iid = f"i{len(self.ever)}"
        self.ever.append(iid)
        self.proxy.set_backend(iid, await self._spawn(iid))
        return iid

    def drain(self, iid: str) -> None:
        """Let backend ``iid`` keep its sticky users but take no new ones."""
        self._call(self._drain(iid))

    async def _drain(self, iid: str) -> None:
        self.proxy.drain(self._backend(iid))

    def remove(self, iid: str, drain_timeout: float = DRAIN_TIMEOUT) -> float:
        """Scale in: drain backend ``iid``, take it out of the pool, stop it; the seconds the drain took.

        As a balancer's drain (HAProxy ``state drain``, Kubernetes' grace period): the backend
        takes no new users, its sticky users keep reaching it until their visits end (with
        sessions in memory: until it holds none) or ``drain_timeout`` seconds pass, and the
        requests it is serving are answered; then it is stopped. Users still on it after the
        timeout lose their sessions (in memory). ``drain_timeout=0`` removes it at once.
        """
        if isinstance(drain_timeout, bool) or not isinstance(drain_timeout, int | float) or not (
                0 <= drain_timeout < math.inf):
            raise ValueError(f"drain_timeout must be a number of seconds >= 0, "
                             f"got drain_timeout={drain_timeout!r}")
        return self._call(self._remove(iid, float(drain_timeout)), timeout=drain_timeout + 60.0)

    async def _remove(self, iid: str, drain_timeout: float) -> float:
        member = self.proxy.members[self._backend(iid)]
        start = time.monotonic()
        self.proxy.drain(iid)
        await self._drained(member, start + drain_timeout, sessions=self.store == "memory")
        took = time.monotonic() - start
        self.proxy.remove(iid)
        await self._drained(member, time.monotonic() + self.proxy.timeout, sessions=False)
        proc = self._children.pop(iid, None)
        if proc is not None:
            await children.stop_async(proc)
        return took

    async def _drained(self, member, deadline: float, *, sessions: bool) -> bool:
        """Wait until ``member`` serves no request (and, if ``sessions``, holds none) or ``deadline``."""
        while time.monotonic() < deadline:
            if member.in_flight == 0 and not (sessions and await self._sessions(member.address)):
                return True
            await asyncio.sleep(min(_DRAIN_POLL, max(0.0, deadline - time.monotonic())))
        return False

    async def _sessions(self, address: str) -> int:
        """How many live sessions the backend at ``address`` holds in memory (0 if it does not answer)."""
        answer = await self._ask_health(address)
        return int(answer.get("sessions") or 0) if answer else 0

    async def _ask_health(self, address: str) -> dict | None:
        """The ``/health`` answer of the backend at ``address``, or None if it gives none in 2 s."""
        try:
            async with self._control.get(f"http://{address}{HEALTH_PATH}") as reply:
                answer = await reply.json()
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None
        return answer if isinstance(answer, dict) else None

    def _backend(self, iid: str) -> str:
        if self.proxy is None or iid not in self.proxy.members:
            known = ", ".join(self.proxy.members) if self.proxy else "none"
            raise ValueError(f"no backend {iid!r} in the lab (backends: {known})")
        return iid

    def _child(self, iid: str) -> str:
        """``iid`` if it names a backend, or ``"redis"`` when the lab started its own redis-server."""
        if iid == "redis" and self._redis_port is not None:
            return iid
        if iid == "redis":
            raise ValueError("the lab did not start a redis-server (its store is not 'redis', or it was "
                             "given a redis_url)")
        return self._backend(iid)

    @property
    def store_address(self) -> str | None:
        """Where the backends keep sessions: the SQLite file's path, the Redis URL, or None."""
        spec = getattr(self, "_spec", "memory")
        if spec.startswith("sqlite:"):
            return spec[len("sqlite:"):]
        return spec if spec.startswith("redis://") else None

    async def apply(self, event: ev.Event, touched: list[str]) -> None:
        """Carry out a simulator event for real: Fail kills, Recover restarts, ScaleOut adds, ..."""
        if isinstance(event, ev.Fail):
            await self._kill(event.id)
        elif isinstance(event, ev.Recover):
            await (self._drain_off(event.id) if event.id in self._children else self._restart(event.id))
        elif isinstance(event, ev.ScaleOut):
            for _ in touched:
                await self._add()
        elif isinstance(event, ev.ScaleIn):
            await self._remove(event.id, 0.0)       # terminated at once, as the simulator's ScaleIn
        elif isinstance(event, ev.Drain):
            await self._drain(event.id)
        else:
            raise TypeError(f"the lab cannot carry out {event!r}")

    async def _drain_off(self, iid: str) -> None:
        self.proxy.drain(iid, draining=False)

    # -- traffic ---------------------------------------------------------------------------------------
    def send(self, browser: Browser, path: str = "/app", method: str = "GET") -> Reply:
        """One real request from ``browser`` through the proxy; the browser keeps the cookies it sets.

        The request comes from ``browser.client_ip`` if it is a loopback address this
        system lets a client use (any 127.x.y.z on Linux), else from 127.0.0.1.
        """
        if not isinstance(browser, Browser):
            raise TypeError(f"browser must be a stickylab.Browser, got {browser!r}")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"path must start with '/', got path={path!r}")
        return self._call(self._send(browser, path, method))

    async def _send(self, browser: Browser, path: str, method: str) -> Reply:
        ip = browser.client_ip
        source = ip if ip.startswith("127.") and ip != "127.0.0.1" and many_loopback_addresses() else None
        if source not in self._clients:
            self._clients[source] = client(source)
        t = time.monotonic() - self._t0
        https = self.url.startswith("https://")          # a browser sends its Secure cookies over HTTPS only
        request = browser.request(path, t, https)
        reply = await exchange(self._clients[source], self.url + path, request, method)
        take(browser, reply, t, browser.user_id or "learner", https)
        return reply

    def run(self, scenario, events=None, *, speed: float = 10.0):
        """Replay ``scenario``'s workload through the lab, ``speed`` times faster; the measured Result.

        ``events`` (``sl.Fail("i1", at=30.0)``, ...) happen for real at their scenario times.
        The lab must have the scenario's instances, and an external store if the scenario says so.
        """
        if scenario.instances != len(self.ever):
            raise ValueError(f"the scenario has instances={scenario.instances} but the lab has started "
                             f"{len(self.ever)}: use Lab(instances={scenario.instances}) or scenario.replace")
        if (scenario.session_store == "external") != (self.store != "memory"):
            raise ValueError(f"the scenario says session_store={scenario.session_store!r} but the lab keeps "
                             f"sessions in store={self.store!r}: make them agree")
        budget = scenario.duration / speed + 60.0
        return self._call(drive(self.url, scenario, speed=speed, events=events, lab=self, router=self.router),
                          timeout=budget)

    def __repr__(self) -> str:
        state = "running" if self._loop else "stopped"
        return f"<Lab {state}: {self.router.label()} over {len(self.ever)} backends, store={self.store!r}>"
