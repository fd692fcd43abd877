"""The reverse proxy: each HTTP request becomes a :class:`~stickylab.Request` for a real router.

Per request, as a real balancer does it:

1. read the request off the wire (:mod:`~stickylab.live.http1`: malformed, smuggling or
   oversized requests get a clean 4xx there) and its cookies (the lab's own strictly, a
   malformed or oversized ``Cookie`` header is a 400 or 431: :mod:`~stickylab.live.cookies`);
2. ask ``router.route(request, pool)`` through a :class:`~.guard.RouterGuard`: a
   learner's router runs off the event loop within ``router_timeout`` and sees a read-only
   pool; a router that raises anything, is too slow, or answers something that is not an
   instance id, is reported by name (a 500 page and one short log line), and the proxy
   carries on; an id that names no backend is a 400 (it came from the client's cookie or
   header); :class:`~stickylab.NoHealthyInstance` is a 503;
3. forward the request to that backend over a pooled keep-alive connection, with the raw
   path, the client's end-to-end headers and ``X-Forwarded-For``, ``-Host`` and ``-Proto``
   from the proxy alone (a client's own ``X-Forwarded-*`` is dropped: it would let a client
   pose as another);
4. give the backend's answer (a 502 if it is not HTTP or is cut off; a header holding
   control characters is dropped), its ``Set-Cookie`` headers read into the
   :class:`~stickylab.Response`, to ``router.on_response``, and add the cookies the router
   sets (an affinity cookie) to the answer;
5. count it for the backend (requests, errors, bytes: :meth:`Proxy.stats`) and write one
   line of the access log (:attr:`Proxy.access_log`, the last ``access_log`` requests).

With ``tls`` (an :class:`ssl.SSLContext`, see :func:`stickylab.live.tls.lab_certificates`)
the proxy speaks HTTPS, as a balancer that terminates TLS: the backends are told
``X-Forwarded-Proto: https``, which is what lets an application mark its cookies ``Secure``.

Health: a backend that refuses or drops the connection is marked down at once (a passive
check), and every ``health_interval`` seconds each member's ``/health`` is asked (an active
check, HAProxy ``check inter``): ``fall`` failures in a row mark it down (HAProxy's default
is 3), one success up. A slow answer is not a dead backend: a check slower than
``check_timeout`` counts as one failure, and a request slower than ``timeout`` is a 504
that marks nothing down (on a busy machine, marking a slow backend down would move its
users for nothing). When the chosen backend is down, or its connection could not be made,
an idempotent request is routed again on the updated pool and retried once (HAProxy
``option redispatch`` with ``retries 1``): what the router then says goes
(``CookieInsert`` picks a live instance; ``persist=True`` insists, and the client gets a
503). Other requests get the 503 at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import time
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

from yarl import URL

from ..app import SESSION_COOKIE
from ..model import Cookie, Cookies, Headers, Pool, Request, Response
from ..routers import Router, as_router
from .cookies import BadCookie, parse_cookie_header, parse_set_cookie
from .guard import ReadOnlyPool, RouterFailure, RouterGuard
from .http1 import (BackendDown, Backends, BackendTimeout, BackendUnreachable, BrokenAnswer, ClientSide,
                    Incoming, response)
from .procs import until_stopped

__all__ = ["IDEMPOTENT", "Access", "Proxy", "RouterFailure"]

log = logging.getLogger("stickylab.live.proxy")

#: Methods a proxy may retry on another backend (RFC 9110 section 9.2.2).
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
#: Hop-by-hop headers (RFC 9110 section 7.6.1), and those the proxy writes itself: never forwarded.
_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                  "transfer-encoding", "upgrade", "proxy-connection", "host", "content-length", "expect"})
#: Headers only this proxy may set: a client's own are dropped, so a backend cannot be lied to.
_OURS = frozenset({"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "forwarded"})
#: Control characters no header may hold (a backend's header holding one is dropped).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]").search


class Access(NamedTuple):
    """One line of the access log: when, who, what, which backend, the answer, how long."""

    time: float              # seconds since the epoch, when the answer was sent
    client: str              # the client's address
    method: str
    path: str                # the request target, cut to 200 characters
    status: int
    backend: str | None      # None: the proxy answered by itself
    bytes: int               # of the answer's body
    seconds: float           # from the whole request read to the answer written


@dataclass
class _Member:
    """One backend as the proxy knows it, with its counters."""

    address: str             # host:port, never shown to clients
    up: bool = True
    draining: bool = False
    fails: int = 0           # active checks failed in a row
    in_flight: int = 0
    requests: int = 0        # requests forwarded to it
    errors: int = 0          # of them: no answer, a broken one, or a 5xx of its own
    sent: int = 0            # bytes of request bodies sent to it
    received: int = 0        # bytes of answer bodies it sent back


class Proxy:
    """A reverse proxy on ``host:port`` routing with ``router`` over ``backends`` (id -> ``host:port``).

    Args:
        router: any :class:`~stickylab.Router`, used as given (its tables can be inspected), or a
            router name; checked as the simulator checks it (:func:`stickylab.routers.as_router`).
        backends: instance id -> ``"host:port"``, in creation order.
        host: the address to listen on: loopback unless told otherwise.
        port: 0 picks a free port (see :attr:`port` after :meth:`start`).
        health_interval: seconds between active health checks of each backend.
        fall: active checks failed in a row that mark a backend down (HAProxy's default, 3).
        check_timeout: seconds a health check has to answer; a slower one counts as failed.
        retries: times an idempotent request is routed again when its backend is down.
        timeout: seconds a backend has to answer; a slower one is a 504 (and stays up).
        client_timeout: seconds a client has to send its whole body (HAProxy ``timeout
            http-request``); a slower one gets a 408.
        keepalive_timeout: seconds an idle client connection, or one that has not finished
            its request line and headers, stays open (nginx's ``keepalive_timeout`` is 75 s).
            Longer than clients keep an idle connection (aiohttp's client: 15 s), so that the
            client, not the proxy, closes it: a connection closed by the server just as the
            client reuses it fails that request.
        router_timeout: seconds a call of the router may take (see :class:`~.guard.RouterGuard`).
        isolate_router: run the router off the event loop; None: every router but the package's own.
        tls: an :class:`ssl.SSLContext` to serve HTTPS with (None: plain HTTP).
        access_log: how many requests :attr:`access_log` keeps (the newest).
        reuse_port: let several proxy processes listen on one port (``SO_REUSEPORT``).
        max_connections: client connections held open at most (HAProxy's ``maxconn``); past it
            a new connection gets a 503 and is closed.
    """

    def __init__(self, router: Router | str, backends: dict[str, str] | None = None, *,
                 host: str = "127.0.0.1", port: int = 0, health_interval: float = 0.5, fall: int = 3,
                 check_timeout: float = 2.0, retries: int = 1, timeout: float = 10.0,
                 client_timeout: float = 10.0, keepalive_timeout: float = 30.0, router_timeout: float = 2.0,
                 isolate_router: bool | None = None, tls: ssl.SSLContext | None = None,
                 access_log: int = 1000, reuse_port: bool = False, max_connections: int = 4096):
        for name, value in (("health_interval", health_interval), ("check_timeout", check_timeout),
                            ("timeout", timeout), ("client_timeout", client_timeout),
                            ("keepalive_timeout", keepalive_timeout)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {name}={value!r}")
        for name, value in (("access_log", access_log), ("max_connections", max_connections)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {name}={value!r}")
        if tls is not None and not isinstance(tls, ssl.SSLContext):
            raise TypeError(f"tls must be an ssl.SSLContext (see stickylab.live.tls), got {tls!r}")
        self.host, self.port, self.tls, self.reuse_port = host, port, tls, reuse_port
        self.router_timeout, self.isolate_router = router_timeout, isolate_router
        self.router = router
        self.members: dict[str, _Member] = {iid: _Member(addr) for iid, addr in (backends or {}).items()}
        self.pool = Pool(load=self._load)
        self.health_interval, self.fall, self.retries, self.timeout = health_interval, fall, retries, timeout
        self.client_timeout, self.keepalive_timeout = client_timeout, keepalive_timeout
        self.check_timeout, self.max_connections = check_timeout, max_connections
        #: The last requests served, oldest first (:class:`Access` records).
        self.access_log: deque[Access] = deque(maxlen=access_log)
        self._started = time.monotonic()
        self._server: asyncio.Server | None = None
        self._clients: set[ClientSide] = set()
        self._backends = Backends()
        self._health: asyncio.Task | None = None
        self._update_pool()

    # -- the router and the pool -----------------------------------------------------------------
    @property
    def router(self) -> Router:
        """The router (it may be replaced while the proxy runs)."""
        return self.guard.router

    @router.setter
    def router(self, router: Router | str) -> None:
        old = getattr(self, "guard", None)
        errors = old.errors if old else ()
        self.guard = RouterGuard(as_router(router), self.router_timeout, self.isolate_router)
        if old is not None:
            old.stop()                  # its worker threads end once their calls return
        self.guard.errors.extend(errors)
        name = getattr(self.guard.router, "cookie", None)
        #: The cookies read strictly: the session cookie and the router's own (``router.cookie``).
        self.own_cookies = frozenset({SESSION_COOKIE, name} if isinstance(name, str) else {SESSION_COOKIE})

    @property
    def errors(self) -> deque[str]:
        """The last router failures, newest last: one short line each, without secrets."""
        return self.guard.errors

    def _load(self, iid: str) -> int:
        member = self.members.get(iid)
        return member.in_flight if member else 0

    def _update_pool(self) -> None:
        m = self.members
        self.pool.update(healthy=[i for i, b in m.items() if b.up and not b.draining],
                         draining=[i for i, b in m.items() if b.up and b.draining], members=list(m))
        #: What the router is handed: the pool, read-only.
        self.view = ReadOnlyPool(self.pool.healthy, self.pool.draining, self.pool.members, load=self._load)

    def set_backend(self, iid: str, address: str, up: bool = True) -> None:
        """Add backend ``iid`` at ``address``, or move it there (a restarted process); up unless told."""
        member = self.members.get(iid)
        if member is None:
            self.members[iid] = _Member(address, up=up)
        else:
            member.address, member.up, member.fails = address, up, 0
        self._update_pool()

    def drain(self, iid: str, draining: bool = True) -> None:
        """Let ``iid`` keep its sticky users but take no new ones (or take new ones again)."""
        self._member(iid).draining = draining
        self._update_pool()

    def remove(self, iid: str) -> None:
        """Take ``iid`` out of the pool for good."""
        self._member(iid)
        del self.members[iid]
        self._update_pool()

    def mark(self, iid: str, up: bool) -> None:
        """Mark ``iid`` up or down (what the health checks do)."""
        member = self.members.get(iid)
        if member is not None and member.up != up:
            member.up, member.fails = up, 0
            log.info("backend %s is %s", iid, "UP" if up else "DOWN")
            self._update_pool()

    def _member(self, iid: str) -> _Member:
        member = self.members.get(iid)
        if member is None:
            raise KeyError(f"no backend {iid!r}; backends: {', '.join(self.members) or 'none'}")
        return member

    def stats(self) -> dict[str, dict[str, int]]:
        """Each backend's counters: requests, errors, in flight, bytes sent and received."""
        return {iid: {"requests": m.requests, "errors": m.errors, "in_flight": m.in_flight,
                      "sent": m.sent, "received": m.received} for iid, m in self.members.items()}

    # -- starting and stopping --------------------------------------------------------------------
    async def start(self) -> int:
        """Listen, start the health checks; return the port."""
        loop = asyncio.get_running_loop()
        scheme = "https" if self.tls else "http"

        def connection() -> ClientSide:
            return ClientSide(self.handle, keepalive_timeout=self.keepalive_timeout,
                              client_timeout=self.client_timeout, scheme=scheme, connections=self._clients,
                              most=self.max_connections)

        self._server = await loop.create_server(connection, self.host, self.port, backlog=1024, ssl=self.tls,
                                                reuse_port=self.reuse_port or None)
        self.port = self._server.sockets[0].getsockname()[1]
        self._health = loop.create_task(self._check_forever())
        return self.port

    async def stop(self) -> None:
        """Stop listening and checking; close every connection."""
        if self._health is not None:
            self._health.cancel()
        if self._server is not None:
            self._server.close()
            for client in list(self._clients):
                client.transport.abort()
            await self._server.wait_closed()
        self._backends.close()
        self.guard.stop()

    @property
    def url(self) -> str:
        """The proxy's base URL (``https://`` with TLS)."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """The (host, port) of each socket the proxy listens on."""
        return [s.getsockname()[:2] for s in self._server.sockets] if self._server else []

    # -- health checks -----------------------------------------------------------------------------
    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(self.health_interval)
            await asyncio.gather(*(self._check(iid) for iid in list(self.members)))

    async def _check(self, iid: str) -> None:
        member = self.members.get(iid)
        if member is None:
            return
        ask = f"GET /health HTTP/1.1\r\nHost: {member.address}\r\n\r\n".encode()
        try:
            ok = (await self._backends.exchange(member.address, ask, self.check_timeout)).status == 200
        except (BackendDown, TimeoutError, BrokenAnswer):
            ok = False
        if ok:
            self.mark(iid, True)
        elif member.up:
            member.fails += 1
            if member.fails >= self.fall:
                self.mark(iid, False)

    # -- one request ----------------------------------------------------------------------------------
    def request_of(self, incoming: Incoming) -> Request:
        """The router's view of a request (raises BadCookie for a bad Cookie header)."""
        headers = Headers(incoming.headers)
        cookie = [v for k, v in incoming.headers if k.lower() == "cookie"] if "cookie" in headers else []
        cookies = parse_cookie_header(cookie, self.own_cookies) if cookie else {}
        return Request(incoming.client.peer, headers, Cookies(cookies), _path(incoming.target),
                       time.monotonic() - self._started)

    async def route(self, request: Request) -> str:
        """The router's choice, checked; RouterFailure says what went wrong and with which request."""
        return await self.guard.route(request, self.view)

    async def handle(self, incoming: Incoming) -> tuple[bytes, bool]:
        """Serve one client request through the router and a backend: the answer's bytes, and close?"""
        t0 = time.monotonic()
        try:
            request = self.request_of(incoming)
            target = _origin(incoming.target)
        except BadCookie as exc:
            return self._page(incoming, t0, exc.status, str(exc))
        except ValueError as exc:
            return self._page(incoming, t0, 400, str(exc))
        attempts = 1 + (self.retries if incoming.method in IDEMPOTENT else 0)
        for attempt in range(attempts):
            try:
                iid = await self.route(request)
            except RouterFailure as exc:
                return self._page(incoming, t0, exc.status, str(exc))
            member = self.members.get(iid)
            if member is None:                  # removed while the router was deciding
                if attempt + 1 < attempts:
                    continue
                return self._page(incoming, t0, 503, f"backend {iid} was removed from the pool", iid)
            try:
                reply = await self._forward(incoming, target, member)
            except (BackendDown, BackendUnreachable) as exc:      # never reached the backend
                if isinstance(exc, BackendDown):
                    self.mark(iid, False)       # passive health check: the connection failed
                if attempt + 1 < attempts:
                    continue
                member.errors += 1
                retried = " after a retry" if attempt else (
                    "" if incoming.method in IDEMPOTENT else f" ({incoming.method} is not retried)")
                state = "is down" if isinstance(exc, BackendDown) else "could not be reached in time"
                return self._page(incoming, t0, 503, f"backend {iid} {state} ({type(exc).__name__}){retried}",
                                  iid)
            except BackendTimeout:              # sent and unanswered: it may have been served
                member.errors += 1
                text = f"backend {iid} did not answer within {self.timeout:g} s"
                return self._page(incoming, t0, 504, text, iid)
            except BrokenAnswer as exc:         # not HTTP, or cut off mid-answer: never retried
                member.errors += 1
                return self._page(incoming, t0, 502, f"backend {iid} sent a broken answer ({exc})", iid)
            return await self._answer(incoming, request, iid, reply, t0)
        raise AssertionError("unreachable")       # pragma: no cover

    async def _forward(self, incoming: Incoming, target: str, member: _Member):
        """Send the request to ``member``; its Reply."""
        head = [f"{incoming.method} {target} HTTP/1.1", f"Host: {member.address}"]
        named = {t.strip().lower() for k, v in incoming.headers if k.lower() == "connection"
                 for t in v.split(",")}
        host = ""
        for k, v in incoming.headers:
            lower = k.lower()
            if lower == "host":
                host = v
            if lower not in _HOP and lower not in _OURS and lower not in named:
                head.append(f"{k}: {v}")
        head += [f"X-Forwarded-For: {incoming.client.peer}", f"X-Forwarded-Host: {host}",
                 f"X-Forwarded-Proto: {incoming.client.scheme}"]
        body = incoming.body
        if body or incoming.method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        member.in_flight += 1
        member.requests += 1
        member.sent += len(body)
        try:
            return await self._backends.exchange(member.address, data, self.timeout,
                                                 head=incoming.method == "HEAD")
        finally:
            member.in_flight -= 1

    async def _answer(self, incoming: Incoming, request: Request, iid: str, reply, t0: float):
        """The client's answer: the backend's, plus the cookies ``on_response`` adds."""
        kept, set_cookies, length = [], [], None
        for k, v in reply.headers:
            lower = k.lower()
            if lower == "set-cookie":
                if not _CONTROL(v):
                    set_cookies.append(v)
            elif lower == "content-length":
                length = v
            elif lower not in _HOP and not _CONTROL(k + v):
                kept.append((k, v))
        app_cookies = [c for c in map(parse_set_cookie, set_cookies) if c is not None]
        answer = Response(reply.status, dict(kept), app_cookies)
        try:
            await self.guard.on_response(request, iid, answer)
            added = [_set_cookie(cookie) for cookie in answer.cookies[len(app_cookies):]]
        except RouterFailure as exc:
            return self._page(incoming, t0, exc.status, str(exc), iid)
        except TypeError as exc:
            name = await self.guard.named()
            failure = self.guard.failure(500, f"router {name!r}.on_response raised TypeError: {exc}",
                                         request, exc)
            return self._page(incoming, t0, 500, str(failure), iid)
        kept += [("Set-Cookie", raw) for raw in set_cookies + added]
        member = self.members.get(iid)
        if member is not None:
            member.received += len(reply.body)
            member.errors += reply.status >= 500
        # A HEAD answer has no body but says how long the GET's would be: that length is kept.
        head_only = incoming.method == "HEAD" and length is not None and length.isdigit()
        self._log(incoming, t0, reply.status, iid, len(reply.body))
        return response(reply.status, kept, reply.body, close=not incoming.keep_alive,
                        length=int(length) if head_only else None), False

    def _page(self, incoming: Incoming, t0: float, status: int, text: str, iid: str | None = None,
              ) -> tuple[bytes, bool]:
        """A short plain-text error page from the proxy itself (never sniffed as HTML, never cached)."""
        body = f"{status} {_REASONS.get(status, '')}: {text}\n".encode()
        self._log(incoming, t0, status, iid, len(body))
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store"),
                   ("X-Content-Type-Options", "nosniff")]
        return response(status, headers, body, close=not incoming.keep_alive), False

    def _log(self, incoming: Incoming, t0: float, status: int, iid: str | None, size: int) -> None:
        now = time.monotonic()
        self.access_log.append(Access(time.time(), incoming.client.peer, incoming.method,
                                      incoming.target[:200], status, iid, size, now - t0))


_REASONS = {400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large",
            500: "Router Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _origin(target: str) -> str:
    """The origin form (``/path?query``) of a request target; ValueError if it has none.

    An absolute form (``http://host/path``) is read as its path, as RFC 9112 section 3.2.2 asks.
    """
    if target.startswith("/"):
        return target
    if target.startswith(("http://", "https://")):
        path = target.split("//", 1)[1].partition("/")
        return "/" + path[2]
    raise ValueError(f"the request target {target[:40]!r} is not a path (this proxy serves no CONNECT "
                     "or OPTIONS *)")


def _path(target: str) -> str:
    """The path a router sees: percent-decoded as the backend's aiohttp (yarl) decodes it."""
    raw = _origin(target).partition("?")[0].partition("#")[0]
    return raw if "%" not in raw else URL.build(path=raw, encoded=True).path


def _set_cookie(cookie) -> str:
    """The ``Set-Cookie`` value of a cookie a router added; a TypeError if it is not a Cookie."""
    if not isinstance(cookie, Cookie):
        # Only plain values are shown: another object's repr() is the router's code, run on the loop.
        shown = repr(cookie)[:80] if type(cookie) in (str, bytes, int, float, type(None)) else (
            f"a {type(cookie).__name__}")
        raise TypeError(f"response.cookies holds {shown}, not a stickylab Cookie: "
                        "use response.set_cookie(name, value)")
    return cookie.header()


def use_uvloop() -> bool:
    """Make uvloop asyncio's event loop where it is installed (a proxy runs faster); True if so."""
    try:
        import uvloop
    except ImportError:             # pragma: no cover - uvloop is in the live extra
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


def _router(name: str) -> Router:
    """Router ``name``, signing its cookies with ``STICKYLAB_PROXY_SECRET`` when it signs any."""
    import inspect
    import os

    from ..routers import make

    cls = type(make(name))
    secret = os.environ.get("STICKYLAB_PROXY_SECRET")
    if secret and "secret" in inspect.signature(cls).parameters:
        return make(name, secret=bytes.fromhex(secret))
    return make(name)


def main(argv: list[str] | None = None) -> None:
    """``python -m stickylab.live.proxy --router NAME --backend i0=HOST:PORT ...``: the proxy alone.

    Prints ``READY <port>`` once listening; stops on SIGTERM or SIGINT. ``--workers N``
    runs N processes on one port (``SO_REUSEPORT``: the kernel spreads connections over
    them), each with its own health checks; their routers sign cookies with one secret,
    so that any of them reads the affinity cookie another set.
    """
    import argparse
    import os
    import secrets
    import subprocess
    import sys

    from .. import children
    from . import procs
    from .tls import lab_certificates

    parser = argparse.ArgumentParser(prog="python -m stickylab.live.proxy", description=main.__doc__)
    parser.add_argument("--router", default="CookieInsert", help="a router name, e.g. RoundRobin")
    parser.add_argument("--backend", action="append", default=[], help="ID=HOST:PORT, once per backend")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="proxy processes sharing the port")
    parser.add_argument("--shared", action="store_true", help="listen with SO_REUSEPORT")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with certificates made for the lab")
    parser.add_argument("--isolate-router", action="store_true",
                        help="call the router on a worker thread even if it is one of the package's own")
    args = parser.parse_args(argv)
    backends = dict(b.split("=", 1) for b in args.backend)
    if not os.environ.get("STICKYLAB_PROXY_SECRET"):
        os.environ["STICKYLAB_PROXY_SECRET"] = secrets.token_hex(32)
    port = args.port or (procs.free_port(args.host) if args.workers > 1 else 0)
    again = [sys.executable, "-m", "stickylab.live.proxy", "--router", args.router, "--host", args.host,
             "--port", str(port), "--shared", *[f"--backend={b}" for b in args.backend],
             *(["--tls"] if args.tls else []), *(["--isolate-router"] if args.isolate_router else [])]
    others = [children.start(again, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
              for _ in range(args.workers - 1)]
    for other in others:                # READY once every process listens
        if not other.stdout.readline().startswith(b"READY "):
            sys.exit(f"a proxy process did not start (exit code {other.wait()})")

    async def serve() -> None:
        tls = lab_certificates().server if args.tls else None
        proxy = Proxy(_router(args.router), backends, host=args.host, port=port,
                      reuse_port=args.shared or args.workers > 1, tls=tls,
                      isolate_router=True if args.isolate_router else None)
        print(f"READY {await proxy.start()}", flush=True)
        try:
            await until_stopped()
        finally:
            await proxy.stop()

    use_uvloop()
    try:
        asyncio.run(serve())
    finally:
        for other in others:
            children.stop(other)


if __name__ == "__main__":
    main()
