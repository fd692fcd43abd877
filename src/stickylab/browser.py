"""The client: a browser's cookie jar and the headers it sends, one model for every runtime.

The simulator keeps one :class:`Browser` per user; the grading helpers
(:class:`stickylab.grading.Client`) and the steppers of the widgets use the same class,
so a cookie behaves the same everywhere: it is sent until it expires, is deleted by
``Max-Age=0``, and lasts one visit when it has no ``Max-Age``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from .model import NO_COOKIES, Cookie, Cookies, Headers, Pool, Request, Response

__all__ = ["Browser"]

_NO_HEADERS = Headers()


class Browser:
    """A client at one address with a cookie jar, following ``Set-Cookie`` as a real browser does.

    - Each request carries every cookie in the jar, as a read-only :class:`~stickylab.model.Cookies`
      copy: a router reads it and can change nothing the client or another request holds.
    - A cookie with ``Max-Age`` lasts that many seconds (``Max-Age=0`` deletes it at once);
      one without is a session cookie, gone when the browser closes at the end of a visit
      (:meth:`close`).
    - ``keeps_cookies=False`` is a client that stores no cookies at all.
    - A ``Secure`` cookie is stored from an HTTPS answer only and sent over HTTPS only
      (``https=False`` in :meth:`request` and :meth:`store`), as browsers do: it never
      crosses the network in clear text. Simulated requests count as HTTPS.
    - Once signed in to the application (:meth:`sign_in`) it also sends ``X-User-Id`` and
      ``Authorization: Bearer <token>``, as the application's pages would; at the end of a
      visit the token goes and the user id stays.

    Attributes:
        client_ip: the address requests come from (a simulated user's may change per request).
        headers: the headers sent with every request.
        jar: name -> value, the cookies stored. The owner may edit it (a test planting a
            tampered cookie, say); the next request sends what it then holds.
        token: the session token the application gave at sign-in, or None.
        user_id: the user id the application gave at sign-in, or None.
    """

    __slots__ = ("client_ip", "headers", "jar", "keeps_cookies", "token", "user_id", "sent",
                 "expires", "_lasting", "_idle_headers", "_secure")

    def __init__(self, client_ip: str = "198.51.100.7", headers: Mapping[str, str] | None = None,
                 cookies: Mapping[str, str] | None = None, *, keeps_cookies: bool = True):
        if not isinstance(keeps_cookies, bool):
            raise TypeError(f"keeps_cookies must be True or False, got keeps_cookies={keeps_cookies!r}")
        self.client_ip = client_ip
        self.headers = _NO_HEADERS if headers is None else headers
        self.jar: dict[str, str] = dict(cookies or {})
        self.keeps_cookies = keeps_cookies
        self.token: str | None = None
        self.user_id: str | None = None
        #: The read-only copy of the jar sent last (the simulator reuses it while the jar is unchanged).
        self.sent: Cookies = Cookies(self.jar) if self.jar else NO_COOKIES
        #: When the next cookie with a ``Max-Age`` expires (infinity if none will).
        self.expires = math.inf
        self._lasting: dict[str, float] = {}     # name -> expiry time, for cookies with Max-Age
        self._idle_headers: Headers | None = None
        self._secure: set[str] = set()           # names of the cookies stored with Secure

    # -- sending -------------------------------------------------------------------------------
    def request(self, path: str = "/", time: float = 0.0, https: bool = True) -> Request:
        """The next request: the jar's cookies (expired ones dropped first) and the headers.

        Over plain HTTP (``https=False``) the ``Secure`` cookies stay in the jar, unsent.
        """
        if time >= self.expires:
            self.expire(time)
        sent = self.sent
        if sent != self.jar:            # the jar was edited since: send a fresh read-only copy
            sent = self.sent = Cookies(self.jar) if self.jar else NO_COOKIES
        if not https and self._secure and not self._secure.isdisjoint(sent):
            sent = Cookies({k: v for k, v in self.jar.items() if k not in self._secure})
        return Request(self.client_ip, self.headers, sent, path, time)

    def send(self, router, pool: Pool, app=None, *, path: str = "/", time: float = 0.0
             ) -> tuple[str, Response]:
        """One request through ``router`` to the instance it picks and back; ``(instance, response)``.

        ``app`` answers first, so the router sees the application's cookies as a balancer
        would: an :class:`~stickylab.app.App`, or the apps by instance id (an
        :class:`~stickylab.app.Apps`); without one the response is empty. The browser then
        stores what the response sets.
        """
        request = self.request(path, time)
        instance = router.route(request, pool)
        if app is None:
            response = Response()
        else:
            server = app[instance] if isinstance(app, Mapping) else app
            response = server.handle(request)
        router.on_response(request, instance, response)
        self.receive(response, time)
        return instance, response

    # -- receiving -----------------------------------------------------------------------------
    def receive(self, response: Response, time: float = 0.0) -> None:
        """Store the cookies ``response`` sets, as of ``time`` (seconds)."""
        if response.cookies:
            self.store(response.cookies, time)

    def store(self, cookies: Iterable[Cookie], time: float = 0.0, https: bool = True) -> None:
        """Store ``cookies`` (``Set-Cookie`` instructions, in order) as of ``time``.

        ``max_age=0`` deletes; a ``max_age`` keeps the cookie until ``time + max_age``;
        none keeps it until :meth:`close`. A browser that keeps no cookies ignores them all,
        and a ``Secure`` one set over plain HTTP (``https=False``) is ignored.
        """
        if not self.keeps_cookies:
            return
        jar, lasting = self.jar, self._lasting
        for c in cookies:
            if c.secure:
                if not https:
                    continue
                self._secure.add(c.name)
            elif self._secure:
                self._secure.discard(c.name)
            if c.max_age == 0:
                jar.pop(c.name, None)
                lasting.pop(c.name, None)
                continue
            jar[c.name] = c.value
            if c.max_age is None:
                lasting.pop(c.name, None)
            else:
                until = lasting[c.name] = time + c.max_age
                if until < self.expires:
                    self.expires = until
        self.sent = Cookies(jar) if jar else NO_COOKIES

    def expire(self, now: float) -> None:
        """Drop the cookies whose ``Max-Age`` has run out by ``now``."""
        lasting, jar = self._lasting, self.jar
        for name in [name for name, until in lasting.items() if until <= now]:
            del lasting[name]
            jar.pop(name, None)
        self.expires = min(lasting.values(), default=math.inf)
        self.sent = Cookies(jar) if jar else NO_COOKIES

    # -- visits --------------------------------------------------------------------------------
    def sign_in(self, user_id: str, token: str) -> None:
        """Send ``X-User-Id: user_id`` and ``Authorization: Bearer token`` from now on."""
        if user_id != self.user_id:
            self.user_id = user_id
            self._idle_headers = None
        self.token = token
        self.headers = Headers._lowered({"x-user-id": user_id, "authorization": f"Bearer {token}"})

    def close(self) -> None:
        """End the visit: session cookies and the token go; cookies with ``Max-Age`` and the user id stay."""
        self.token = None
        if self.user_id is not None:
            if self._idle_headers is None:
                self._idle_headers = Headers({"x-user-id": self.user_id})
            self.headers = self._idle_headers
        jar, lasting = self.jar, self._lasting
        if jar and not lasting:
            jar.clear()
            self.sent = NO_COOKIES
        elif jar:
            session = [name for name in jar if name not in lasting]
            if session:
                for name in session:
                    del jar[name]
                self.sent = Cookies(jar) if jar else NO_COOKIES

    def __repr__(self) -> str:
        return f"Browser(client_ip={self.client_ip!r}, jar={self.jar!r}, token={self.token!r})"
