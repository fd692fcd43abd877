"""The reverse proxy: each HTTP request becomes a :class:`~stickylab.Request` for a real router.

Per request, as a real balancer does it:

1. read the client's address, headers, cookies and path (a malformed or oversized
   ``Cookie`` header is a 400 or 431; aiohttp refuses oversized request lines and headers
   with a 400 itself);
2. ask ``router.route(request, pool)`` through a :class:`~.guard.RouterGuard`: a
   learner's router runs off the event loop within ``router_timeout`` and sees a read-only
   pool; a router that raises anything, is too slow, or answers something that is not an
   instance id, is reported by name (a 500 page and one short log line), and the proxy
   carries on; an id that names no backend is a 400 (it came from the
   client's cookie or header); :class:`~stickylab.NoHealthyInstance` is a 503;
3. read the body as sent (not decompressed; a client slower than ``client_timeout`` gets a
   408) and forward it to that backend over a pooled keep-alive connection, with the raw
   path, the client's end-to-end headers and ``X-Forwarded-For`` from the proxy alone (a
   client's own ``X-Forwarded-*`` is dropped: it would let a client pose as another);
4. give the backend's answer (a 502 if it is not HTTP or is cut off; a header holding
   control characters is dropped), its ``Set-Cookie`` headers read into the
   :class:`~stickylab.Response`, to ``router.on_response``, and add the cookies the router
   sets (an affinity cookie) to the answer.

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
import time
from collections import deque
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from yarl import URL

from ..app import SESSION_COOKIE
from ..model import Cookie, Cookies, Headers, Pool, Request, Response
from ..routers import Router, as_router
from .cookies import BadCookie, parse_cookie_header, parse_set_cookie
from .guard import ReadOnlyPool, RouterFailure, RouterGuard
from .procs import until_stopped

__all__ = ["IDEMPOTENT", "Proxy", "RouterFailure"]

log = logging.getLogger("stickylab.live.proxy")

#: Methods a proxy may retry on another backend (RFC 9110 section 9.2.2).
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
#: Hop-by-hop headers (RFC 9110 section 7.6.1): never forwarded.
_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                  "transfer-encoding", "upgrade", "proxy-connection", "host", "content-length"})
#: Headers only this proxy may set: a client's own are dropped, so a backend cannot be lied to.
_OURS = frozenset({"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "forwarded"})
_CONNECT_ERRORS = (aiohttp.ClientConnectionError, asyncio.TimeoutError, OSError)


#: Control characters no header may hold (a backend's are dropped: aiohttp would refuse to send them).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]").search


def _refused(exc: BaseException) -> bool:
    """Whether a connection error says the backend is gone (refused, reset), not merely slow."""
    return not isinstance(exc, TimeoutError)


def _unsent(exc: BaseException) -> bool:
    """Whether the request surely never reached the backend, so sending it elsewhere is safe."""
    return isinstance(exc, aiohttp.ConnectionTimeoutError) or not isinstance(exc, TimeoutError)


@dataclass
class _Member:
    """One backend as the proxy knows it."""

    address: str             # host:port, never shown to clients
    up: bool = True
    draining: bool = False
    fails: int = 0           # active checks failed in a row
    in_flight: int = 0


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
            its request line and headers, stays open (nginx's ``keepalive_timeout``, 75 s;
            aiohttp's own default is an hour, which lets slow clients hold connections).
        router_timeout: seconds a call of the router may take (see :class:`~.guard.RouterGuard`).
        isolate_router: run the router off the event loop; None: every router but the package's own.
    """

    def __init__(self, router: Router | str, backends: dict[str, str] | None = None, *,
                 host: str = "127.0.0.1", port: int = 0, health_interval: float = 0.5, fall: int = 3,
                 check_timeout: float = 2.0,
                 retries: int = 1, timeout: float = 10.0, client_timeout: float = 10.0,
                 keepalive_timeout: float = 75.0, router_timeout: float = 2.0,
                 isolate_router: bool | None = None):
        self.host, self.port = host, port
        self.router_timeout, self.isolate_router = router_timeout, isolate_router
        self.router = router
        self.members: dict[str, _Member] = {iid: _Member(addr) for iid, addr in (backends or {}).items()}
        self.pool = Pool(load=self._load)
        self.health_interval, self.fall, self.retries, self.timeout = health_interval, fall, retries, timeout
        self.client_timeout, self.keepalive_timeout = client_timeout, keepalive_timeout
        self.check_timeout = check_timeout
        self._started = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._health: asyncio.Task | None = None
        self._update_pool()

    # -- the router and the pool -----------------------------------------------------------------
    @property
    def router(self) -> Router:
        """The router (it may be replaced while the proxy runs)."""
        return self.guard.router

    @router.setter
    def router(self, router: Router | str) -> None:
        errors = self.guard.errors if hasattr(self, "guard") else ()
        self.guard = RouterGuard(as_router(router), self.router_timeout, self.isolate_router)
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
        self.view = ReadOnlyPool(self.pool)

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

    # -- starting and stopping --------------------------------------------------------------------
    async def start(self) -> int:
        """Listen, start the health checks; return the port."""
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        # auto_decompress=False: a body is forwarded as the client sent it, Content-Encoding and all.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, auto_decompress=False,
                                     keepalive_timeout=self.keepalive_timeout)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port, backlog=1024).start()
        self.port = self._runner.addresses[0][1]
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=256, ttl_dns_cache=None)
        self._client = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=self.timeout, sock_connect=3.0))
        self._health = asyncio.get_running_loop().create_task(self._check_forever())
        return self.port

    async def stop(self) -> None:
        """Stop listening and checking; close the backend connections."""
        if self._health is not None:
            self._health.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()
        self.guard.stop()

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        return f"http://{self.host}:{self.port}"

    # -- health checks -----------------------------------------------------------------------------
    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(self.health_interval)
            await asyncio.gather(*(self._check(iid) for iid in list(self.members)))

    async def _check(self, iid: str) -> None:
        member = self.members.get(iid)
        if member is None:
            return
        try:
            async with self._client.get(f"http://{member.address}/health",
                                        timeout=aiohttp.ClientTimeout(total=self.check_timeout)) as reply:
                ok = reply.status == 200
        except _CONNECT_ERRORS:
            ok = False
        if ok:
            self.mark(iid, True)
        elif member.up:
            member.fails += 1
            if member.fails >= self.fall:
                self.mark(iid, False)

    # -- one request ----------------------------------------------------------------------------------
    def request_of(self, req: web.Request) -> Request:
        """The router's view of an HTTP request (raises BadCookie for a bad Cookie header)."""
        cookies = parse_cookie_header(req.headers.getall("Cookie", []), self.own_cookies)
        return Request(req.remote or "", Headers(req.headers.items()), Cookies(cookies), req.path,
                       time.monotonic() - self._started)

    async def route(self, request: Request) -> str:
        """The router's choice, checked; RouterFailure says what went wrong and with which request."""
        return await self.guard.route(request, self.view, self.members)

    async def handle(self, req: web.Request) -> web.StreamResponse:
        """Serve one client request through the router and a backend."""
        try:
            request = self.request_of(req)
        except BadCookie as exc:
            return _page(exc.status, str(exc))
        body = await self._body(req)
        if isinstance(body, web.Response):
            return body
        attempts = 1 + (self.retries if req.method in IDEMPOTENT else 0)
        for attempt in range(attempts):
            try:
                iid = await self.route(request)
            except RouterFailure as exc:
                return _page(exc.status, str(exc))
            try:
                status, headers, content = await self._forward(req, iid, body)
            except _CONNECT_ERRORS as exc:
                if _refused(exc):
                    self.mark(iid, False)       # passive health check: the connection failed
                if not _unsent(exc):            # sent and unanswered: it may have been served
                    return _page(504, f"backend {iid} did not answer within {self.timeout:g} s")
                if attempt + 1 == attempts:
                    retried = " after a retry" if attempt else (
                        "" if req.method in IDEMPOTENT else f" ({req.method} is not retried)")
                    state = "is down" if _refused(exc) else "could not be reached in time"
                    return _page(503, f"backend {iid} {state} ({type(exc).__name__}){retried}")
                continue
            except aiohttp.ClientError as exc:      # not HTTP, or cut off mid-answer: never retried
                return _page(502, f"backend {iid} sent a broken answer ({type(exc).__name__})")
            return await self._answer(request, iid, status, headers, content)
        raise AssertionError("unreachable")       # pragma: no cover

    async def _body(self, req: web.Request) -> bytes | web.Response:
        """The request's body as sent; a 408 page if it is slower than ``client_timeout``, a 400 if broken."""
        try:
            return await asyncio.wait_for(req.read(), self.client_timeout)
        except TimeoutError:
            return _page(408, f"the request body took longer than {self.client_timeout:g} s to arrive",
                         Connection="close")
        except (HttpProcessingError, ConnectionError) as exc:     # a lying chunk, a client gone
            return _page(400, f"the request body could not be read ({type(exc).__name__})",
                         Connection="close")

    async def _forward(self, req: web.Request, iid: str, body: bytes):
        """Send the request to backend ``iid``; its status, headers and body."""
        member = self.members[iid]
        url = URL.build(scheme="http", authority=member.address, path=req.rel_url.raw_path,
                        query_string=req.rel_url.raw_query_string, encoded=True)
        member.in_flight += 1
        try:
            async with self._client.request(req.method, url, headers=_forwarded_headers(req),
                                            data=body or None,
                                            allow_redirects=False) as reply:
                return reply.status, reply.headers, await reply.read()
        finally:
            member.in_flight -= 1

    async def _answer(self, request: Request, iid: str, status: int, headers, content: bytes) -> web.Response:
        """The client's response: the backend's, plus what ``on_response`` adds."""
        set_cookies = headers.getall("Set-Cookie", [])
        app_cookies = [c for c in map(parse_set_cookie, set_cookies) if c is not None]
        response = Response(status, {k: v for k, v in headers.items() if k.lower() != "set-cookie"},
                            app_cookies)
        try:
            await self.guard.on_response(request, iid, response)
            added = [_set_cookie(cookie) for cookie in response.cookies[len(app_cookies):]]
        except RouterFailure as exc:
            return _page(exc.status, str(exc))
        except TypeError as exc:
            return _page(500, str(self.guard.failure(500, f"router {self.guard.label()!r}.on_response "
                                                     f"raised TypeError: {exc}", request, exc)))
        out = web.Response(status=status, body=content)
        for k, v in headers.items():
            if k.lower() not in _HOP and k.lower() != "set-cookie" and not _CONTROL(k + v):
                out.headers.add(k, v)
        for raw in set_cookies + added:
            if not _CONTROL(raw):
                out.headers.add("Set-Cookie", raw)
        return out


def _set_cookie(cookie) -> str:
    """The ``Set-Cookie`` value of a cookie a router added; a TypeError if it is not a Cookie."""
    if not isinstance(cookie, Cookie):
        raise TypeError(f"response.cookies holds {cookie!r}, not a stickylab Cookie: "
                        "use response.set_cookie(name, value)")
    return cookie.header()


def _forwarded_headers(req: web.Request) -> list[tuple[str, str]]:
    """What the backend is sent: the client's end-to-end headers, and X-Forwarded-* from us alone.

    Hop-by-hop headers, those the client's ``Connection`` header names (RFC 9110 section
    7.6.1) and any ``X-Forwarded-*`` or ``Forwarded`` the client made up are dropped.
    """
    named = {t.strip().lower() for v in req.headers.getall("Connection", []) for t in v.split(",")}
    headers = [(k, v) for k, v in req.headers.items()
               if k.lower() not in _HOP and k.lower() not in _OURS and k.lower() not in named]
    headers.append(("X-Forwarded-For", req.remote or ""))
    headers.append(("X-Forwarded-Host", req.host))
    return headers


def _page(status: int, text: str, **headers: str) -> web.Response:
    """A short plain-text error page from the proxy itself (never sniffed as HTML, never cached)."""
    return web.Response(status=status, text=f"{status} {_REASONS.get(status, '')}: {text}\n",
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", **headers})


_REASONS = {400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large",
            500: "Router Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def main(argv: list[str] | None = None) -> None:
    """``python -m stickylab.live.proxy --router NAME --backend i0=HOST:PORT ...``: the proxy alone.

    Prints ``READY <port>`` once listening; stops on SIGTERM or SIGINT.
    """
    import argparse

    from ..routers import make

    parser = argparse.ArgumentParser(prog="python -m stickylab.live.proxy", description=main.__doc__)
    parser.add_argument("--router", default="CookieInsert", help="a router name, e.g. RoundRobin")
    parser.add_argument("--backend", action="append", default=[], help="ID=HOST:PORT, once per backend")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    backends = dict(b.split("=", 1) for b in args.backend)

    async def serve() -> None:
        proxy = Proxy(make(args.router), backends, host=args.host, port=args.port)
        print(f"READY {await proxy.start()}", flush=True)
        try:
            await until_stopped()
        finally:
            await proxy.stop()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
