"""One instance of the application, served over real HTTP: ``python -m stickylab.live.backend``.

The pages (every response names the instance in ``X-Instance`` and says in ``X-Cache``
whether the user's data was in this process's cache):

- ``/login``: starts a session (:meth:`App.login`) and sets the ``SESSION`` cookie
  (``?user=NAME`` says who logs in: it keys the cache, as ``X-User-Id`` does afterwards).
- ``/logout``: ends it and deletes the cookie (``X-Session: ended``, or ``missing``).
- ``/cart``: GET lists the session's cart, POST ``?item=NAME`` adds to it (session data).
- ``/health``: for the balancer's health checks (needs no session): ``200`` and a JSON body
  whenever the process runs, with the session store's state in it (see :class:`StoreHealth`).
- any other path: a page that needs the session. Without one here (never logged in,
  expired, or held in another instance's memory) it is ``401`` with a body saying so and
  ``X-Session: missing``, and, as :meth:`App.serve` does, a new empty session starts
  (a fresh ``SESSION`` cookie): the user was logged out and is signed in again here.

The session is named by the ``SESSION`` cookie, else by ``Authorization: Bearer``, as in
:meth:`stickylab.App.handle`.

A store that may stall (SQLite, Redis) is called on a thread of the backend's own, never on
its event loop: a locked database or a Redis that is gone costs the requests that need it a
``503`` naming the store (and ``X-Store: unreachable``) within
:data:`~stickylab.live.stores.STORE_TIMEOUT` seconds, while ``/health`` keeps answering at
once. A shared store's outage is not a dead backend: the balancer keeps it in the pool (as
Kubernetes advises for liveness probes, which should not fail because a dependency does, or
every replica is restarted at once).

The process exits when its parent does: it reads stdin until EOF (the parent holds the other
end: :func:`stickylab.children.exit_with_parent`), and on Linux the lab starts it to be killed
with its parent (:func:`stickylab.children.start`).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from .. import children
from ..app import LOGIN_PATH, LOGOUT_PATH, SESSION_COOKIE
from ..trace import LOST
from ..model import Cookie
from .cookies import BadCookie, parse_cookie_header
from .procs import until_stopped
from .stores import MAX_CART, MAX_ITEM, PING_TIMEOUT, STORE_TIMEOUT, StoreDown, make_store

__all__ = ["BACKEND", "HEALTH_PATH", "INSTANCE_HEADER", "Backend", "StoreHealth", "make_app", "main"]

#: The header naming the instance that served a response.
INSTANCE_HEADER = "X-Instance"
#: The page the balancer's health checks ask for.
HEALTH_PATH = "/health"
#: Seconds between two pings of the store that ``/health`` starts (more frequent checks share one).
_PING_EVERY = 0.2


#: Requests between looks for expired in-memory sessions (see :meth:`App.tidy`).
_TIDY_EVERY = 1000
#: Largest ``Set-Cookie`` a browser is sure to keep (RFC 6265 section 6.1): a stateless session
#: token growing past it would be dropped by the browser, or refused by the proxy as too large.
MAX_SET_COOKIE = 4096


def store_is_shared(store) -> bool:
    """True if ``store`` keeps sessions outside this process (they expire there, not here)."""
    return store.shared


def _store_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean the session store is unreachable (Redis, SQLite)."""
    import sqlite3

    errors: list[type[BaseException]] = [StoreDown, OSError, sqlite3.OperationalError]
    try:
        import redis

        errors.append(redis.RedisError)
    except ImportError:             # pragma: no cover - redis-py is in requirements.txt
        pass
    return tuple(errors)


class StoreHealth:
    """What the backend last learned of its session store: ``ok``, or ``unreachable`` and why.

    Every request that uses the store, and every ping ``/health`` starts, tells it; ``/health``
    shows it (:meth:`as_dict`).
    """

    def __init__(self, kind: str):
        self.kind, self.ok, self.reason = kind, True, ""
        self.since = time.monotonic()

    def saw(self, error: str | None) -> None:
        """Note one outcome: None if the store answered, else why it did not."""
        if (error is None) != self.ok:
            self.ok, self.since = error is None, time.monotonic()
        self.reason = error or ""

    def as_dict(self) -> dict:
        """``kind``, ``state`` (``ok`` or ``unreachable``), ``reason`` and ``for`` (seconds in this state)."""
        return {"kind": self.kind, "state": "ok" if self.ok else "unreachable", "reason": self.reason,
                "for": round(time.monotonic() - self.since, 3)}


class Backend:
    """The HTTP side of one instance: reads the session, asks the :class:`App`, writes headers.

    A blocking store (``store.blocking``) is called on one thread of its own (``io``), which
    serialises the calls as one connection needs; its pings run on another (``pinger``).
    """

    def __init__(self, instance: str, store, session_timeout: float = 1800.0):
        self.instance, self.store = instance, store
        self.app = store.app(session_timeout)
        self.errors = _store_errors()
        self.served = 0
        self.health = StoreHealth(store.kind)
        blocking = getattr(store, "blocking", False)
        self.io = ThreadPoolExecutor(1, f"store-{instance}") if blocking else None
        self.pinger = ThreadPoolExecutor(1, f"ping-{instance}") if blocking else None
        self._ping: asyncio.Future | None = None
        self._pinged = -math.inf

    def close(self) -> None:
        """Let the store threads go (a call still running finishes within the store's own timeout)."""
        for pool in (self.io, self.pinger):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    # -- reading the request -------------------------------------------------------------
    @staticmethod
    def token(request: web.Request) -> str | None:
        """The session token: the SESSION cookie, else ``Authorization: Bearer``."""
        cookies = parse_cookie_header(request.headers.getall("Cookie", []))
        token = cookies.get(SESSION_COOKIE)
        if token is None:
            bearer = request.headers.get("Authorization", "")
            token = bearer[7:] if bearer.startswith("Bearer ") else None
        return token or None

    def reply(self, request: web.Request, status: int, text: str, token: str | None,
              **headers) -> web.Response:
        """A response with the instance and cache headers.

        The cache is keyed as in :meth:`App.handle` (``X-User-Id``, else the session, else
        the address), except that a login names its user in ``?user=``, as a login form would.
        """
        user = request.headers.get("X-User-Id") or (request.path == LOGIN_PATH and request.query.get("user"))
        hit = self.app.warm(user or token or request.remote)
        response = web.Response(status=status, text=text + "\n", headers=headers)
        response.headers[INSTANCE_HEADER] = self.instance
        response.headers["X-Cache"] = "HIT" if hit else "MISS"
        response.headers["Cache-Control"] = "no-store"
        return response

    # -- the pages ------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        """Every request: bad cookies are a 400/431, a store that fails or does not answer a 503."""
        if request.path == HEALTH_PATH:
            return await self.check(request)
        try:
            token = self.token(request)
        except BadCookie as exc:
            return web.Response(status=exc.status, text=f"{exc.status}: {exc}\n")
        self.served += 1
        if self.served % _TIDY_EVERY == 0 and not store_is_shared(self.store):
            self.app.tidy(time.time())      # forget expired sessions held in this process's memory
        if self.io is None:
            return self.answer(request, token, time.time())
        work = asyncio.get_running_loop().run_in_executor(self.io, self.answer, request, token, time.time())
        try:
            return await asyncio.wait_for(work, STORE_TIMEOUT)
        except TimeoutError:
            return self.unavailable(f"no answer within {STORE_TIMEOUT:g} s")

    def answer(self, request: web.Request, token: str | None, now: float) -> web.Response:
        """:meth:`page`, or the store's 503 if it fails (on the store's thread when it may block)."""
        try:
            response = self.page(request, token, now)
        except self.errors as exc:
            return self.unavailable(f"{type(exc).__name__}: {exc}")
        self.health.saw(None)
        return response

    def unavailable(self, reason: str) -> web.Response:
        """The 503 of a request that needs the session store when it fails; noted for ``/health``."""
        self.health.saw(reason)
        headers = {INSTANCE_HEADER: self.instance, "Cache-Control": "no-store", "X-Store": "unreachable"}
        return web.Response(status=503, headers=headers,
                            text=f"503: the session store ({self.store.kind}) is unreachable: {reason}\n")

    async def check(self, request: web.Request) -> web.Response:
        """``/health``: 200 while the process serves, with the store's state and (memory) live sessions.

        The store is pinged on its own thread, at most every 0.2 s, and waited for at most twice
        :data:`~stickylab.live.stores.PING_TIMEOUT` (0.5 s): the answer comes that soon whatever
        the store does.
        """
        if self.pinger is not None:
            await self._ping_store()
        sessions = None
        if not store_is_shared(self.store):
            limit = time.time() - self.app.timeout
            sessions = sum(1 for seen in self.app.sessions.values() if seen >= limit)
        body = {"instance": self.instance, "process": "up", "store": self.health.as_dict(),
                "sessions": sessions}
        return web.json_response(body, headers={INSTANCE_HEADER: self.instance, "Cache-Control": "no-store"})

    async def _ping_store(self) -> None:
        loop = asyncio.get_running_loop()
        if (self._ping is None or self._ping.done()) and loop.time() - self._pinged >= _PING_EVERY:
            self._pinged = loop.time()
            self._ping = loop.run_in_executor(self.pinger, self._ping_once)
        if self._ping is None or self._ping.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._ping), 2 * PING_TIMEOUT)
        except TimeoutError:
            self.health.saw(f"no answer to a ping within {2 * PING_TIMEOUT:g} s")

    def _ping_once(self) -> None:
        try:
            self.store.ping()
        except self.errors as exc:
            self.health.saw(f"{type(exc).__name__}: {exc}")
        else:
            self.health.saw(None)

    def page(self, request: web.Request, token: str | None, now: float) -> web.Response:
        """The page ``request.path`` names, as :meth:`App.serve` decides (login, logout, a lost session)."""
        path = request.path
        flags, new, cookies = self.app.serve(path, token, now)
        if path == LOGIN_PATH:
            response = self.reply(request, 200, f"Logged in on {self.instance}.", new,
                                  **{"X-Session": "new"})
        elif path == LOGOUT_PATH:
            response = self.logout(request, token, not flags & LOST)
        elif flags & LOST:
            text = (f"401 Unauthorized: instance {self.instance} holds no session for this request (never "
                    "logged in, expired, or kept in another instance's memory): you were logged out. "
                    "A new, empty session starts here.")
            response = self.reply(request, 401, text, new, **{"X-Session": "missing"})
        elif path == "/cart":
            response = self.cart(request, new)
        else:
            response = self.reply(request, 200, f"Hello from {self.instance}: your session is here.", new,
                                  **{"X-Session": "ok"})
        for cookie in cookies or ():
            response.headers.add("Set-Cookie", secured(request, cookie).header())
        return response

    def logout(self, request: web.Request, token: str | None, ended: bool) -> web.Response:
        """The answer to a logout (App.serve ended the session, if it was here, and deletes the cookie)."""
        if ended and token:
            self.store.forget(token)
        return self.reply(request, 200, "Logged out." if ended else "No session here to log out of.",
                          None, **{"X-Session": "ended" if ended else "missing"})

    def cart(self, request: web.Request, token: str) -> web.Response:
        """GET: the cart; POST ``?item=NAME``: add NAME (a new token for stateless sessions)."""
        headers = {"X-Session": "ok"}
        if request.method == "POST":
            item = request.query.get("item", "")
            if not item or len(item) > MAX_ITEM or not item.isprintable():
                return self.reply(request, 400, f"400: item must be 1 to {MAX_ITEM} printable characters, "
                                  f"got {item[:MAX_ITEM]!r}", token, **headers)
            if len(self.store.cart(self.app, token)) >= MAX_CART:
                return self.reply(request, 409, f"409: the cart is full ({MAX_CART} items)", token, **headers)
            new = self.store.add(self.app, token, item)
            if new is not None:
                cookie = secured(request, Cookie(SESSION_COOKIE, new)).header()
                if len(cookie) > MAX_SET_COOKIE:        # the token holds the cart: refuse, keep the old one
                    return self.reply(request, 409, f"409: the cart is full (the session cookie would be "
                                      f"{len(cookie)} bytes, more than {MAX_SET_COOKIE})", token, **headers)
                token = new
                headers["Set-Cookie"] = cookie
                headers["X-Session"] = "reissued"
        items = self.store.cart(self.app, token)
        return self.reply(request, 200, "cart: " + ", ".join(items), token, **headers)


def secured(request: web.Request, cookie: Cookie) -> Cookie:
    """``cookie``, marked ``Secure`` when the client's connection was HTTPS.

    The proxy in front terminates TLS and says so in ``X-Forwarded-Proto`` (it drops any the
    client sent): a browser then sends a ``Secure`` cookie back over HTTPS only, so the session
    never crosses the network in clear text. Over plain HTTP a browser would not store it.
    """
    if cookie.secure or request.headers.get("X-Forwarded-Proto", "").lower() != "https":
        return cookie
    return dataclasses.replace(cookie, secure=True)


#: Where an application made by :func:`make_app` keeps its :class:`Backend`.
BACKEND = web.AppKey("backend", Backend)


def make_app(instance: str, store, session_timeout: float = 1800.0) -> web.Application:
    """The aiohttp application of instance ``instance`` keeping sessions in ``store``."""
    backend = Backend(instance, store, session_timeout)
    app = web.Application(client_max_size=64 * 1024)
    app.router.add_route("*", "/{tail:.*}", backend.handle)
    app[BACKEND] = backend
    return app


# -- the process ----------------------------------------------------------------------------------
def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stickylab.live.backend",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--id", required=True, help="the instance id, e.g. i0")
    parser.add_argument("--store", default="memory", help="memory, sqlite:PATH, redis://HOST:PORT/DB or jwt")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed on stdout)")
    parser.add_argument("--session-timeout", type=float, default=1800.0)
    parser.add_argument("--prefix", default="stickylab:", help="Redis key prefix")
    parser.add_argument("--parent", type=int, default=None, help="exit when this process is gone")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Serve one instance; print ``READY <port>`` once listening, stop on SIGTERM or SIGINT."""
    args = _arguments(argv)
    if args.parent is not None:
        children.exit_with_parent(args.parent)
    secret = os.environ.get("STICKYLAB_JWT_SECRET")
    store = make_store(args.store, secret=bytes.fromhex(secret) if secret else None, prefix=args.prefix)
    asyncio.run(serve(make_app(args.id, store, args.session_timeout), args.host, args.port))


async def serve(app: web.Application, host: str, port: int) -> None:
    """Listen on ``host:port`` until SIGTERM or SIGINT."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=512)
    await site.start()
    print(f"READY {runner.addresses[0][1]}", flush=True)
    try:
        await until_stopped()
    finally:
        await runner.cleanup()
        app[BACKEND].close()


if __name__ == "__main__":
    main()
    # Every answer is sent and every write committed: skip the interpreter's teardown, which takes
    # up to a second with the package's plotting libraries loaded, while the lab waits for this exit.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
