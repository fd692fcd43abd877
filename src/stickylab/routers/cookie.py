"""Cookie affinity: the balancer's own cookie, or the application's session cookie learned."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from ..model import Cookie, Pool, Request, Response
from .base import Router, check_router, check_seconds
from .stateless import RoundRobin
from .table import AffinityTable

__all__ = ["MIN_SECRET", "AppCookieLearn", "CookieInsert"]

#: Fewest bytes a cookie-signing secret may have (the default is a random 32-byte key).
MIN_SECRET = 16


def _check_max_age(max_age) -> None:
    """``max_age`` is None (a session cookie) or at least one second.

    ``Max-Age`` is whole seconds, and ``Max-Age=0`` tells the browser to delete the
    cookie: a lifetime under a second cannot be sent.
    """
    check_seconds("max_age", max_age)
    if max_age is not None and max_age < 1:
        raise ValueError(f"max_age must be at least 1 second (Max-Age is whole seconds, and "
                         f"Max-Age=0 deletes the cookie), got max_age={max_age!r}; "
                         "use None for a session cookie")


class CookieInsert(Router):
    """The balancer inserts its own affinity cookie (HAProxy ``cookie NAME insert``, AWS ALB ``AWSALB``).

    - The cookie is set only when the client has no valid one; a valid cookie naming a
      live instance (healthy or draining) is honoured, so draining keeps its users.
    - The value is opaque and signed: an HMAC of the instance id under a secret key,
      never the instance's address (Envoy's stateful-session cookie is the address in
      base64, and an early Traefik put the backend URL in clear).
    - A tampered or unknown cookie, or one naming a dead instance, is re-picked by
      ``balance`` and rewritten (redispatch), as HAProxy does by default for a cookie
      naming a server marked DOWN and as AWS ALB does for an unhealthy target.
      ``persist=True`` copies HAProxy's ``option persist`` without ``option redispatch``
      (which would retry a failed connection on another server): the request goes to
      the dead instance anyway, and fails [HAProxy configuration.txt].
    - ``max_idle`` is a sliding expiry (HAProxy ``maxidle``); ``max_life`` an absolute
      one counted from the first visit (HAProxy ``maxlife``). Both are carried, signed, in
      the cookie itself: the balancer keeps no table. ``max_age`` is the browser-side
      lifetime; ``None`` makes a session cookie, gone when the browser closes.
    - ``secret`` is the signing key; by default each router draws a random one, so cookie
      values differ from run to run (where clients go does not).
    """

    def __init__(self, name: str = "SERVERID", *, balance: Router | None = None,
                 max_idle: float | None = None, max_life: float | None = None,
                 max_age: float | None = None, persist: bool = False, secret: bytes | None = None,
                 http_only: bool = True, secure: bool = False, same_site: str = "Lax"):
        # Cookie dates are whole seconds, as HAProxy's are: expiries start at 1 s (ALB's minimum).
        check_seconds("max_idle", max_idle, minimum=1)
        check_seconds("max_life", max_life, minimum=1)
        _check_max_age(max_age)
        Cookie(name, "", max_age, http_only, secure, same_site)    # checks the cookie's attributes
        balance = check_router("balance", RoundRobin() if balance is None else balance)
        if secret is not None:
            if not isinstance(secret, bytes | bytearray):
                raise TypeError(f"secret must be bytes, got {type(secret).__name__}")
            if len(secret) < MIN_SECRET:
                raise ValueError(f"secret must be at least {MIN_SECRET} bytes (HMAC-SHA256 keys this "
                                 f"short can be guessed), got {len(secret)} bytes")
        self.cookie = name
        self.balance = balance
        self._balance_sees = type(balance).on_response is not Router.on_response
        self.max_idle, self.max_life, self.max_age = max_idle, max_life, max_age
        self.persist = bool(persist)
        self.http_only, self.secure, self.same_site = http_only, secure, same_site
        self._key = bytes(secret) if secret is not None else secrets.token_bytes(32)
        self._dated = max_idle is not None or max_life is not None
        self._tags: dict[str, str] = {}      # instance id -> tag
        self._by_tag: dict[str, str] = {}    # tag -> instance id
        self._members: tuple | None = None    # the pool.members whose tags are learned
        self._issued: dict[str, Cookie] = {}  # instance id -> its (undated) cookie

    @classmethod
    def alb(cls, duration: float = 86400.0, **kwargs) -> CookieInsert:
        """AWS ALB duration-based stickiness: cookie ``AWSALB``, kept for ``duration`` (1 s to 7 days).

        The guide gives the stickiness duration the balancer enforces (1 day by default),
        not whether it restarts with each request; this model makes it a sliding expiry
        (``max_idle``) [AWS ELB user guide, "Sticky sessions for your Application Load
        Balancer"].
        """
        if not 1 <= duration <= 7 * 86400:
            raise ValueError(f"ALB stickiness duration must be 1 s to 7 days, got duration={duration!r}")
        return cls("AWSALB", max_idle=duration, max_age=duration, **kwargs)

    # -- the cookie value ---------------------------------------------------------------
    def _mac(self, text: str, length: int) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:length]

    def _learn_pool(self, pool: Pool) -> None:
        for iid in pool.members:
            if iid not in self._tags:
                tag = self._mac("instance:" + iid, 16)
                self._tags[iid] = tag
                self._by_tag[tag] = iid
        self._members = pool.members

    def encode(self, instance: str, first: float = 0.0, last: float = 0.0) -> str:
        """The cookie value for ``instance`` (with its first/last-seen dates when expiry is on)."""
        tag = self._tags.get(instance)
        if tag is None:
            tag = self._tags[instance] = self._mac("instance:" + instance, 16)
            self._by_tag[tag] = instance
        if not self._dated:
            return tag
        body = f"{tag}.{int(first):x}.{int(last):x}"
        return f"{body}.{self._mac(body, 16)}"

    def decode(self, value: str, now: float) -> tuple[str, float] | None:
        """(instance, first-seen) if ``value`` is a genuine, unexpired cookie of this router, else None.

        Anything else a client may send (another router's cookie, a tampered one, bytes
        that are not ASCII) is None too, never an error.
        """
        if type(value) is not str or not value.isascii():
            return None
        if not self._dated:
            iid = self._by_tag.get(value)
            return None if iid is None else (iid, 0.0)
        parts = value.split(".")
        if len(parts) != 4:
            return None
        tag, first, last, sig = parts
        body = f"{tag}.{first}.{last}"
        if not hmac.compare_digest(sig, self._mac(body, 16)):
            return None
        iid = self._by_tag.get(tag)
        try:
            first_t, last_t = int(first, 16), int(last, 16)
        except ValueError:
            return None
        if iid is None:
            return None
        if self.max_idle is not None and now - last_t > self.max_idle:
            return None
        if self.max_life is not None and now - first_t > self.max_life:
            return None
        return iid, float(first_t)

    # -- the Router interface ---------------------------------------------------------------
    def route(self, request: Request, pool: Pool) -> str:
        """The instance the client's valid cookie names, else a fresh pick (redispatch)."""
        if pool.members is not self._members:    # learning is idempotent: a new tuple suffices
            self._learn_pool(pool)
        value = request.cookies.get(self.cookie)
        if value is not None:
            if self._dated:
                found = self.decode(value, request.time)
                iid = None if found is None else found[0]
            else:
                iid = self._by_tag.get(value)
            if iid is not None and (pool.is_up(iid) or self.persist):
                return iid
        return self.balance.route(request, pool)

    def on_response(self, request: Request, instance: str, response: Response) -> None:
        """Set (or refresh) the cookie unless the client already holds a valid one for ``instance``."""
        if self._balance_sees:
            self.balance.on_response(request, instance, response)
        value = request.cookies.get(self.cookie)
        if not self._dated:
            if value is not None and value == self._tags.get(instance):
                return
            cookie = self._issued.get(instance)     # undated, an instance's cookie never changes
            if cookie is None:
                cookie = self._issued[instance] = Cookie(
                    self.cookie, self.encode(instance), self.max_age, self.http_only, self.secure,
                    self.same_site)
            response.cookies.append(cookie)
            return
        now = request.time
        found = self.decode(value, now) if value is not None else None
        if found is not None and found[0] == instance:
            if self.max_idle is None:
                return
            first = found[1]
        else:
            first = now
        response.set_cookie(self.cookie, self.encode(instance, first, request.time),
                            max_age=self.max_age, http_only=self.http_only, secure=self.secure,
                            same_site=self.same_site)


class AppCookieLearn(Router):
    """Learn the application's own session cookie (nginx ``sticky learn``).

    When an instance's response sets the application's session cookie, the balancer
    stores value -> instance; later requests carrying that cookie go back there. Entries
    expire after ``timeout`` idle seconds (nginx's default is 10 minutes) and the oldest
    go first when ``size`` is reached. Clients without the cookie, or with one the table
    has forgotten, are picked by ``balance``; a learned instance that is dead is re-picked.
    """

    def __init__(self, cookie: str = "SESSION", *, timeout: float = 600.0, size: int = 100_000,
                 balance: Router | None = None):
        if not isinstance(cookie, str) or not cookie:
            raise ValueError(f"invalid cookie name {cookie!r}")
        check_seconds("timeout", timeout, allow_none=False)
        balance = check_router("balance", RoundRobin() if balance is None else balance)
        self.cookie = cookie
        self.timeout = timeout
        self.balance = balance
        self.table = AffinityTable(size, timeout)

    def route(self, request: Request, pool: Pool) -> str:
        """The instance that issued the client's session cookie, if remembered and up."""
        value = request.cookies.get(self.cookie)
        if value is not None:
            iid = self.table.lookup(value, request.time)
            if iid is not None and pool.is_up(iid):
                return iid
        return self.balance.route(request, pool)

    def on_response(self, request: Request, instance: str, response: Response) -> None:
        """Remember which instance set the application's session cookie."""
        self.balance.on_response(request, instance, response)
        for c in response.cookies:
            if c.name == self.cookie:
                if c.max_age == 0:     # the application ended the session the request carried
                    self.table.forget(request.cookies.get(self.cookie))
                else:
                    self.table.store(c.value, instance, request.time)
