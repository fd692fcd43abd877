"""The application on one instance: its users' sessions and a local cache of their data.

One model for every runtime: the simulator runs an :class:`App` on each instance, and
the steppers of the widgets answer their requests with one, so a router meets the same
application (and the same session cookie) wherever it runs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterator
from numbers import Integral, Real

from .model import Cookie, Request, Response
from .trace import LOST, NEEDED

__all__ = ["LOGIN_PATH", "LOGOUT_PATH", "SESSION_COOKIE", "App", "Apps"]

#: The application's session cookie (a session cookie: it lasts one visit).
SESSION_COOKIE = "SESSION"
#: The paths that start and end a visit.
LOGIN_PATH, LOGOUT_PATH = "/login", "/logout"
#: The cookie the application sets at logout (one immutable object serves every logout).
LOGOUT_COOKIE = Cookie(SESSION_COOKIE, "", max_age=0)
_NEVER = -math.inf
_TIDY_FLOOR = 1024                # sessions below which tidy() never purges
_TOKENS = itertools.count(1)      # tokens unique in this process, for apps given no ``ids``


class App:
    """One instance's application: sessions in memory (or in a shared store) and an LRU cache.

    - A session is a token -> the time it was last used. One idle for more than
      ``session_timeout`` seconds has expired (a servlet container's
      ``session-timeout``, PHP's ``session.gc_maxlifetime``): a request carrying it finds
      the user logged out. :meth:`purge` forgets expired sessions, as their garbage
      collectors do.
    - ``store``: a dict that several apps share is an external session store (Redis, a
      database): every instance finds every session, and a crash loses none.
    - The cache holds the data of the ``cache_size`` users served most recently (least
      recently used out first); a miss means the data is loaded again.
    - At login the application sets its session cookie, ``SESSION`` (no ``Max-Age``: it
      lasts the visit); at logout it deletes it.

    Args:
        session_timeout: seconds an idle session lives.
        cache_size: users whose data the cache keeps.
        store: a dict of sessions shared with other apps, or None for the instance's own memory.
        ids: an iterator of integers numbering new sessions; apps of one cluster share
            one, so that tokens are unique (default: a counter shared by the whole process).
    """

    __slots__ = ("sessions", "shared", "cache", "cache_size", "timeout", "_ids", "_purged_size")

    def __init__(self, *, session_timeout: float = 1800.0, cache_size: int = 400,
                 store: dict | None = None, ids: Iterator[int] | None = None):
        if isinstance(session_timeout, bool) or not isinstance(session_timeout, Real) or not (
                0 < session_timeout < math.inf):
            raise ValueError(f"session_timeout must be a positive finite number of seconds, "
                             f"got session_timeout={session_timeout!r}")
        if isinstance(cache_size, bool) or not isinstance(cache_size, Integral) or cache_size < 1:
            raise ValueError(f"cache_size must be a positive integer, got cache_size={cache_size!r}")
        if store is not None and not isinstance(store, dict):
            raise TypeError(f"store must be a dict shared by the apps, got store={store!r}")
        self.timeout = float(session_timeout)
        self.cache_size = int(cache_size)
        self.shared = store is not None
        self.sessions: dict[str, float] = {} if store is None else store
        self.cache: dict[Hashable, None] = {}
        self._ids = _TOKENS if ids is None else ids
        self._purged_size = 0       # how many sessions the last purge left

    # -- sessions ----------------------------------------------------------------------------------
    def resume(self, token: str | None, now: float) -> bool:
        """True if ``token`` names a session here that has not expired; it is used, so refreshed."""
        if token is None or now - self.sessions.get(token, _NEVER) > self.timeout:
            return False
        self.sessions[token] = now
        return True

    def login(self, now: float) -> str:
        """Start a session; return its new token."""
        token = f"s{next(self._ids):x}"
        self.sessions[token] = now
        return token

    def logout(self, token: str | None, now: float) -> bool:
        """End the session ``token`` names; False if it was not here (or had expired)."""
        if token is None or now - self.sessions.get(token, _NEVER) > self.timeout:
            return False
        del self.sessions[token]
        return True

    def serve(self, path: str, token: str | None, now: float) -> tuple[int, str | None, list | None]:
        """What the application does with a request for ``path`` carrying session ``token``.

        Returns the outcome flags of :mod:`stickylab.trace` (NEEDED, LOST), the token the
        client holds afterwards, and the cookies to set (None for none):

        - ``/login`` starts a session and sets the session cookie;
        - ``/logout`` ends the session, if it is here, and deletes the cookie;
        - any other path needs the session: if it is not here (another instance has it,
          it expired, or this one crashed) the user is logged out, and logs in again here.
        """
        if path == LOGIN_PATH:
            token = self.login(now)
            return 0, token, [Cookie._session(SESSION_COOKIE, token)]
        if path == LOGOUT_PATH:
            return (NEEDED if self.logout(token, now) else NEEDED | LOST), None, [LOGOUT_COOKIE]
        if self.resume(token, now):
            return NEEDED, token, None
        token = self.login(now)
        return NEEDED | LOST, token, [Cookie._session(SESSION_COOKIE, token)]

    def purge(self, now: float) -> int:
        """Forget the sessions expired by ``now`` (idle longer than the timeout); return how many."""
        sessions, limit = self.sessions, now - self.timeout
        stale = [token for token, seen in sessions.items() if seen < limit]
        for token in stale:
            del sessions[token]
        self._purged_size = len(sessions)
        return len(stale)

    def tidy(self, now: float) -> int:
        """:meth:`purge`, if the sessions have doubled since the last purge (and number over a thousand).

        An expired session is already as good as gone (no request can use it), so
        purging only bounds memory: tidying often costs a constant time per session,
        where a purge at fixed intervals would scan every live session each time.
        """
        if len(self.sessions) <= max(2 * self._purged_size, _TIDY_FLOOR):
            return 0
        return self.purge(now)

    # -- the cache ---------------------------------------------------------------------------------
    def warm(self, user: Hashable) -> bool:
        """True if ``user``'s data is in the cache; either way it is now the most recently used.

        The cache is a dict in order of use (a hit moves its user to the end), so its
        first key is the least recently used one, the one a miss evicts when it is full.
        """
        cache = self.cache
        if cache.pop(user, 0) is None:
            cache[user] = None
            return True
        cache[user] = None
        if len(cache) > self.cache_size:
            del cache[next(iter(cache))]
        return False

    # -- the instance ------------------------------------------------------------------------------
    def crash(self) -> None:
        """The instance went down: its memory is gone (sessions in a shared store survive)."""
        if not self.shared:
            self.sessions.clear()
        self.cache.clear()

    def handle(self, request: Request) -> Response:
        """The application's response to ``request``.

        The session cookie, else the bearer token, names the request's session. The
        response sets or deletes the session cookie as :meth:`serve` says, and its
        ``X-Cache`` header says whether the user's data (keyed by ``X-User-Id``, else the
        session, else the address) was cached: ``HIT`` or ``MISS``.
        """
        token = request.cookies.get(SESSION_COOKIE)
        if token is None:
            bearer = request.headers.get("authorization", "")
            token = bearer[7:] if bearer.startswith("Bearer ") else None
        _, token, cookies = self.serve(request.path, token, request.time)
        hit = self.warm(request.headers.get("x-user-id") or token or request.client_ip)
        return Response(headers={"X-Cache": "HIT" if hit else "MISS"}, cookies=cookies or ())

    def __repr__(self) -> str:
        where = "shared store" if self.shared else "memory"
        return (f"App({len(self.sessions)} sessions in {where}, {len(self.cache)}/{self.cache_size} "
                f"users cached, session_timeout={self.timeout:g})")


class Apps(dict):
    """The application of each instance, by instance id, each made when first asked for.

    ``apps["i3"]`` is instance i3's :class:`App`. Their sessions are numbered by one
    counter, so no two instances ever issue the same token, as in a real cluster.
    ``options`` (``session_timeout``, ``cache_size``, ``store``) go to every app.
    """

    def __init__(self, **options):
        super().__init__()
        self._options = options
        self._ids = itertools.count(1)

    def __missing__(self, iid: str) -> App:
        app = self[iid] = App(ids=self._ids, **self._options)
        return app
