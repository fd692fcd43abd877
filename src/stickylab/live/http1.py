"""HTTP/1.1 for the proxy, on asyncio protocols with httptools (llhttp, the parser Node.js uses).

Two sides, as in any reverse proxy:

- :class:`ClientSide`: one client connection. Requests are parsed as they arrive (pipelined
  ones are answered in order), held to limits (a request line of 8 KiB, 100 headers, a head
  of 64 KiB, a body of 1 MiB), and refused with a clean 4xx when they break HTTP; an idle
  connection, or one whose head does not arrive, is closed after ``keepalive_timeout``, and
  a body slower than ``client_timeout`` gets a 408.
- :class:`Backends`: keep-alive connections to the backends, reused from one request to the
  next (nginx's ``keepalive``, HAProxy's ``http-reuse``), each a :class:`BackendSide` that
  reads one answer at a time.

What a request means (routing, headers to forward, error pages) is the proxy's business:
this module only moves bytes and says what went wrong, with the exceptions below.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus

import httptools

__all__ = ["BackendDown", "BackendTimeout", "BackendUnreachable", "Backends", "BrokenAnswer", "ClientSide",
           "Incoming", "Reply", "response"]

log = logging.getLogger(__name__)

MAX_TARGET = 8190            # bytes of a request target (aiohttp's and nginx's 8 KiB line)
MAX_HEADERS = 100            # header fields in a request or an answer
MAX_HEAD = 65536             # bytes of a request's or an answer's head
MAX_BODY = 1024 * 1024       # bytes of a request body (nginx's client_max_body_size is 1 MiB)
MAX_ANSWER = 64 * 1024 * 1024  # bytes of a backend's body
MAX_IDLE = 64                # idle keep-alive connections kept per backend


class BackendDown(ConnectionError):
    """The backend refused the connection, or closed it without a byte of answer: it is gone."""


class BackendUnreachable(TimeoutError):
    """No connection to the backend within the connect timeout (the request was never sent)."""


class BackendTimeout(TimeoutError):
    """The request was sent and no whole answer came in time (it may have been served)."""


class BrokenAnswer(Exception):
    """The backend's answer is not HTTP, breaks a limit, or was cut off."""


# -- the client side ------------------------------------------------------------------------------------
@dataclass(slots=True)
class Incoming:
    """One client request as read off the wire (header names and values decoded as Latin-1)."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    keep_alive: bool
    client: ClientSide


class _Refused(Exception):
    """A request this side answers itself with ``status``, then closes the connection."""

    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status = status


class ClientSide(asyncio.Protocol):
    """One client connection: requests in, answers out, in order.

    ``handler(incoming)`` is a coroutine function returning the answer's bytes and whether to
    close the connection after it (see :func:`response`).
    """

    def __init__(self, handler, *, keepalive_timeout: float, client_timeout: float, scheme: str = "http",
                 connections: set | None = None, most: int = 4096):
        self.handler, self.scheme = handler, scheme
        self.connections = set() if connections is None else connections
        self.most = most
        self.keepalive_timeout, self.client_timeout = keepalive_timeout, client_timeout
        self.peer = ""
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._queue: deque[Incoming] = deque()
        self._busy = self._closing = self._paused = False
        self._last = b""                # a refusal to write once the answers owed are written
        self._lingering = 0             # bytes still read and dropped after a refusal
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None      # when the wait now running ends (loop time)
        self._then = None                         # what to do then
        self._reset()

    def _reset(self) -> None:
        self._target: list[bytes] = []
        self._size = 0
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._body_size = 0
        self._in_head = True

    # -- the connection ---------------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        """A client connected: wait for its first request, ``keepalive_timeout`` at most.

        Past ``most`` open connections (HAProxy's ``maxconn``) a new one gets a 503 and is closed.
        """
        self.transport = transport
        self._loop = asyncio.get_running_loop()
        peer = transport.get_extra_info("peername")
        self.peer = peer[0] if peer else ""
        if len(self.connections) >= self.most:
            self._refuse(503, f"the proxy holds {self.most} connections, its most: try again later")
            return
        self.connections.add(self)
        self._arm(self.keepalive_timeout, self._idle_too_long)

    def connection_lost(self, exc) -> None:
        """The connection is gone: forget it (an answer being made is dropped)."""
        self.connections.discard(self)
        self._closing = True
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self, seconds: float, then) -> None:
        """Call ``then`` in ``seconds`` unless disarmed or armed again before.

        One timer serves every wait of the connection: it is moved when it would ring too late,
        or rings early and finds a later deadline, not once per request (a keep-alive connection
        serves thousands).
        """
        self._deadline, self._then = self._loop.time() + seconds, then
        if self._timer is not None and self._timer.when() > self._deadline:
            self._timer.cancel()
            self._timer = None
        if self._timer is None:
            self._timer = self._loop.call_at(self._deadline, self._ring)

    def _disarm(self) -> None:
        self._deadline = None

    def _ring(self) -> None:
        self._timer = None
        if self._deadline is None:
            return
        if self._loop.time() < self._deadline:
            self._timer = self._loop.call_at(self._deadline, self._ring)
            return
        self._deadline, then = None, self._then
        then()

    def _idle_too_long(self) -> None:
        """An idle connection, or a head that did not arrive in time: closed without an answer."""
        if not self._busy:
            self.transport.close()

    def _body_too_slow(self) -> None:
        if not self._busy and not self._closing:
            self._refuse(408, f"the request body took longer than {self.client_timeout:g} s to arrive")

    def data_received(self, data: bytes) -> None:
        """Parse what arrived; a request that breaks HTTP or a limit is refused."""
        if self._closing:
            self._lingering -= len(data)
            if self._lingering < 0:
                self.transport.close()
            return
        if self._in_head:
            self._size += len(data)
        try:
            if self._size > MAX_HEAD:
                raise _Refused(431, f"the request head is larger than {MAX_HEAD} bytes")
            self._parser.feed_data(data)
        except _Refused as exc:
            self._refuse(exc.status, str(exc))
        except httptools.HttpParserUpgrade:
            self._upgrade()
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _Refused):      # raised by one of our callbacks
                self._refuse(exc.__context__.status, str(exc.__context__))
            else:
                log.debug("malformed request from %s: %s", self.peer, exc)
                self._refuse(400, f"malformed HTTP request ({_cut(exc)})")

    def _upgrade(self) -> None:
        """CONNECT is refused; a request asking for another protocol is served as plain HTTP, then closed."""
        if self._parser.get_method() == b"CONNECT":
            self._refuse(405, "CONNECT is not served by this proxy")
        elif self._queue or self._busy:
            self._closing = True        # serve what was read, then close: what follows is not HTTP/1.1
        else:
            self._refuse(400, "the request could not be read")

    def _linger(self) -> None:
        """Write the refusal, then read and drop what the client still sends for a while before closing.

        Closing at once with unread bytes would make the kernel reset the connection, and the
        client might never read the refusal (nginx's ``lingering_close``).
        """
        self.transport.write(self._last)
        self._last = b""
        self._lingering = 4 * MAX_BODY
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.transport.resume_reading()
        self._arm(2.0, self.transport.close)

    def _refuse(self, status: int, text: str) -> None:
        """Answer ``status`` (after the answers still owed) and close."""
        self._closing = True
        self._disarm()
        self._last = response(status, _page_headers(), f"{status} {_reason(status)}: {text}\n".encode(),
                              close=True)
        if not self._busy:
            self._next()

    # -- httptools' callbacks -----------------------------------------------------------------------------
    def on_url(self, url: bytes) -> None:
        """A piece of the request target."""
        self._target.append(url)
        if sum(map(len, self._target)) > MAX_TARGET:
            raise _Refused(414, f"the request target is longer than {MAX_TARGET} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        """One request header."""
        if len(self._headers) >= MAX_HEADERS:
            raise _Refused(431, f"more than {MAX_HEADERS} request headers")
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        """The head is read: check the body's size and Expect, and start the body's clock."""
        self._in_head = False
        self._size = 0
        length = next((v for k, v in self._headers if k.lower() == "content-length"), "0")
        if length.isdigit() and int(length) > MAX_BODY:
            raise _Refused(413, f"the request body is larger than {MAX_BODY} bytes")
        expect = next((v.lower() for k, v in self._headers if k.lower() == "expect"), None)
        if expect is not None and expect != "100-continue":
            raise _Refused(417, f"Expect: {expect[:40]!r} is not supported")
        if expect == "100-continue" and not self._busy:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if length != "0" or any(k.lower() == "transfer-encoding" for k, _ in self._headers):
            self._arm(self.client_timeout, self._body_too_slow)        # a body follows
        else:
            self._disarm()

    def on_body(self, body: bytes) -> None:
        """A piece of the request body."""
        self._body_size += len(body)
        if self._body_size > MAX_BODY:
            raise _Refused(413, f"the request body is larger than {MAX_BODY} bytes")
        self._body.append(body)

    def on_message_complete(self) -> None:
        """A whole request: queue it, and serve it if no other is being served."""
        self._disarm()
        method, target = self._parser.get_method().decode("latin-1"), b"".join(self._target).decode("latin-1")
        incoming = Incoming(method, target, self._headers, b"".join(self._body),
                            self._parser.should_keep_alive(), self)
        self._reset()
        self._queue.append(incoming)
        if not self._busy:
            self._next()
        elif not self._paused:          # pipelined: read no more until the answers catch up
            self._paused = True
            self.transport.pause_reading()

    # -- answering, in order ---------------------------------------------------------------------------------
    def _next(self) -> None:
        if not self._queue:
            if self._closing:
                if self._last and not self.transport.is_closing():
                    self._linger()
                else:
                    self.transport.close()
            else:
                self._arm(self.keepalive_timeout, self._idle_too_long)
            return
        self._busy = True
        self._loop.create_task(self._serve(self._queue.popleft()))

    async def _serve(self, incoming: Incoming) -> None:
        try:
            data, close = await self.handler(incoming)
        except Exception:               # a bug of the proxy's: a 500 and a log line, never a hang
            log.exception("the proxy failed to serve %s %s", incoming.method, _cut(incoming.target))
            data, close = response(500, _page_headers(), b"500 Internal Server Error\n", close=True), True
        self._busy = False
        if self.transport.is_closing():
            return
        self.transport.write(data)
        if close or not incoming.keep_alive:
            self._closing = True
            self._queue.clear()
        if self._paused and not self._queue:
            self._paused = False
            self.transport.resume_reading()
        self._next()


# -- writing answers -------------------------------------------------------------------------------------
def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


_STATUS_LINES = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode() for s in HTTPStatus}


def response(status: int, headers: list[tuple[str, str]], body: bytes, *, close: bool = False,
             length: int | None = None) -> bytes:
    """The bytes of an answer: status line, ``headers``, Content-Length (``length`` or the body's), body."""
    line = _STATUS_LINES.get(status) or f"HTTP/1.1 {status} Unknown\r\n".encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers)
    head += f"Content-Length: {len(body) if length is None else length}\r\n"
    if close:
        head += "Connection: close\r\n"
    return line + head.encode("latin-1") + b"\r\n" + body


def _page_headers() -> list[tuple[str, str]]:
    return [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff")]


def _cut(text, most: int = 120) -> str:
    text = str(text)
    return text if len(text) <= most else text[:most] + "..."


# -- the backend side -------------------------------------------------------------------------------------
@dataclass(slots=True)
class Reply:
    """A backend's answer: status, headers (Latin-1 decoded), body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


class BackendSide(asyncio.Protocol):
    """One connection to a backend, carrying one request at a time."""

    def __init__(self):
        self.transport: asyncio.Transport | None = None
        self.closed = self.reusable = False
        self.used = 0
        self._parser: httptools.HttpResponseParser | None = None
        self._waiter: asyncio.Future | None = None

    def connection_made(self, transport) -> None:
        """Connected: one parser reads every answer on this connection."""
        self.transport = transport
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpResponseParser(self)
        self._parser.set_dangerous_leniencies(lenient_headers=True)     # control characters: see on_header

    def connection_lost(self, exc) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._got == 0:
            waiter.set_exception(BackendDown("the backend closed the connection without answering"))
        elif self._until_eof and self._reply is not None and self._complete_head:
            self._finish(keep=False)
        else:
            waiter.set_exception(BrokenAnswer("the answer was cut off"))

    def send(self, data: bytes, head: bool = False) -> asyncio.Future:
        """Send a request; a future of its :class:`Reply` (``head``: it answers a HEAD, without a body)."""
        self._waiter = self._loop.create_future()
        self._head, self._got, self._size, self._until_eof = head, 0, 0, False
        self._complete_head = False
        self._reply: Reply | None = None
        self._body: list[bytes] = []
        self.used += 1
        self.transport.write(data)
        return self._waiter

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            self.transport.close()           # an answer nobody asked for: the connection is not reusable
            return
        self._got += len(data)
        try:
            if not self._complete_head and self._got > MAX_HEAD:
                raise BrokenAnswer(f"the answer's head is larger than {MAX_HEAD} bytes")
            self._parser.feed_data(data)
        except (BrokenAnswer, httptools.HttpParserError) as exc:
            if isinstance(exc.__context__, BrokenAnswer):      # raised by one of our callbacks
                exc = exc.__context__
            self.transport.close()
            if not self._waiter.done():
                self._waiter.set_exception(exc if isinstance(exc, BrokenAnswer) else BrokenAnswer(_cut(exc)))

    def on_status(self, status: bytes) -> None:
        self._reply = Reply(self._parser.get_status_code())

    def on_header(self, name: bytes, value: bytes) -> None:
        headers = self._reply.headers
        if len(headers) >= MAX_HEADERS or len(value) > 8190:
            raise BrokenAnswer("an answer header is too large, or there are too many")
        if b"\x00" in value or b"\r" in value or b"\n" in value:
            raise BrokenAnswer("an answer header holds NUL, CR or LF (RFC 9110 section 5.5)")
        headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self._complete_head = True
        names = {k.lower() for k, _ in self._reply.headers}
        self._until_eof = "content-length" not in names and "transfer-encoding" not in names
        status = self._reply.status
        if self._head or status in (204, 304) or 100 <= status < 200:
            self._finish(keep=False)          # no body follows: the parser would wait for one

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > MAX_ANSWER:
            raise BrokenAnswer(f"the answer's body is larger than {MAX_ANSWER} bytes")
        self._body.append(body)

    def on_message_complete(self) -> None:
        if not self._waiter.done():
            self._finish(keep=self._parser.should_keep_alive())

    def _finish(self, keep: bool) -> None:
        self._reply.body = b"".join(self._body)
        self.reusable = keep and not self.closed
        self._waiter.set_result(self._reply)
        if not keep:
            self.transport.close()


class Backends:
    """Keep-alive connections to every backend, by ``host:port``."""

    def __init__(self, connect_timeout: float = 3.0):
        self.connect_timeout = connect_timeout
        self._idle: dict[str, list[BackendSide]] = {}

    async def _connect(self, address: str) -> BackendSide:
        host, _, port = address.rpartition(":")
        loop = asyncio.get_running_loop()
        try:
            _, conn = await asyncio.wait_for(loop.create_connection(BackendSide, host, int(port)),
                                             self.connect_timeout)
        except TimeoutError:
            raise BackendUnreachable(f"no connection within {self.connect_timeout:g} s") from None
        except OSError as exc:
            raise BackendDown(f"connection failed ({type(exc).__name__})") from None
        return conn

    async def exchange(self, address: str, data: bytes, timeout: float, head: bool = False) -> Reply:
        """Send ``data`` (a whole request) to ``address`` and read its answer, within ``timeout`` seconds.

        A reused connection the backend had closed while idle is replaced by a fresh one, once.
        """
        idle = self._idle.setdefault(address, [])
        while idle:
            conn = idle.pop()
            if not conn.closed:
                try:
                    return await self._over(conn, address, data, timeout, head)
                except BackendDown:
                    break                   # closed while idle: try a new connection
        return await self._over(await self._connect(address), address, data, timeout, head)

    async def _over(self, conn: BackendSide, address: str, data: bytes, timeout: float, head: bool) -> Reply:
        waiter = conn.send(data, head)
        timer = asyncio.get_running_loop().call_later(timeout, _expire, waiter, timeout)
        try:
            reply = await waiter
        except BaseException:
            conn.transport.close()
            raise
        finally:
            timer.cancel()
        idle = self._idle[address]
        if conn.reusable and len(idle) < MAX_IDLE:
            idle.append(conn)
        elif not conn.closed:
            conn.transport.close()
        return reply

    def close(self) -> None:
        """Close every idle connection."""
        for idle in self._idle.values():
            for conn in idle:
                conn.transport.close()
        self._idle.clear()


def _expire(waiter: asyncio.Future, timeout: float) -> None:
    if not waiter.done():
        waiter.set_exception(BackendTimeout(f"no answer within {timeout:g} s"))
