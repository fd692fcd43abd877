"""Where a backend keeps its sessions: its own memory, SQLite, Redis, or nowhere (signed tokens).

Each store gives the backend an :class:`~stickylab.App` (the one application model)
whose ``sessions`` dict lives where the store says, and keeps each session's cart:

- ``memory``: the process's own dict, the article's problem: a crash loses them all.
- ``sqlite``: one database file shared by every backend on the machine (WAL mode), the
  default external store: it needs nothing installed.
- ``redis``: a real redis-server (``redis://127.0.0.1:6379/0``); keys expire with the session.
  A Redis that saves nothing to disk (``--save ""`` and ``--appendonly no``, as the lab's own)
  loses every session when it restarts: every user is logged out at once, as if every
  backend had crashed. Keeping sessions across a restart of Redis needs its snapshots (RDB)
  or its append-only file (AOF).
- ``jwt``: stateless signed tokens (HS256, PyJWT): the session *is* the cookie, so any
  backend that knows the secret accepts it, and nothing is stored at all.

A store that goes over the network or to a file (``blocking``: SQLite, Redis) may stall:
the backend calls it on a thread of its own, never on its event loop, and gives up after
:data:`STORE_TIMEOUT` seconds. Each store's :meth:`ping` says whether it answers now, for
the backend's ``/health``.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterator

from ..app import App

__all__ = ["BUSY_TIMEOUT", "PING_TIMEOUT", "STORES", "STORE_TIMEOUT", "JwtStore", "MemoryStore", "RedisStore",
           "SqliteStore", "StoreDown", "TokenApp", "make_store", "redis_available", "session_ids"]

#: The store kinds, by name.
STORES = ("memory", "sqlite", "redis", "jwt")
#: Most items a cart holds, and longest item name (a request asking for more is refused).
MAX_CART, MAX_ITEM = 50, 64
#: Seconds the backend waits for the store to serve one request before it answers 503.
STORE_TIMEOUT = 2.0
#: Seconds one SQLite statement waits for another connection's lock (``sqlite3.connect(timeout=)``),
#: and one Redis command for its answer: less than :data:`STORE_TIMEOUT`, so a locked store fails
#: a request with its own error instead of holding the backend's store thread.
BUSY_TIMEOUT = 1.0
#: Seconds a backend starting may wait for the SQLite file's lock (others start beside it).
SETUP_TIMEOUT = 20.0
#: Seconds :meth:`ping` waits for the store (``/health`` must answer promptly whatever the store does).
PING_TIMEOUT = 0.25


class StoreDown(RuntimeError):
    """The session store cannot be reached (the backend answers 503, not 500)."""


def session_ids() -> Iterator[int]:
    """Random 64-bit session numbers: unguessable, and unique across the backends sharing a store."""
    while True:
        yield secrets.randbits(64)


def redis_available() -> bool:
    """True if ``redis-server`` is installed here (the lab can then start its own)."""
    return shutil.which("redis-server") is not None


class _SharedDict(dict):
    """A dict whose items live in a shared table: the part of ``dict`` that :class:`App` uses.

    ``App`` keeps token -> last-seen time; subclasses read and write one row per call.
    The dict itself stays empty.
    """

    def _read(self, token: str) -> float | None:
        raise NotImplementedError

    def _write(self, token: str, seen: float) -> None:
        raise NotImplementedError

    def _delete(self, token: str) -> bool:
        raise NotImplementedError

    def _all(self) -> list[tuple[str, float]]:
        raise NotImplementedError

    def get(self, token, default=None):
        """Last-seen time of session ``token``, or ``default``."""
        seen = self._read(token)
        return default if seen is None else seen

    def __getitem__(self, token):
        seen = self._read(token)
        if seen is None:
            raise KeyError(token)
        return seen

    def __setitem__(self, token, seen):
        self._write(token, seen)

    def __delitem__(self, token):
        if not self._delete(token):
            raise KeyError(token)

    def __contains__(self, token):
        return self._read(token) is not None

    def items(self):
        """Every (token, last seen) in the store."""
        return self._all()

    def __iter__(self):
        return iter([token for token, _ in self._all()])

    def __len__(self):
        return len(self._all())

    def clear(self):
        """A shared store is never cleared by one instance's crash."""


class MemoryStore:
    """Sessions and carts in this process's memory (the default): gone when the process dies."""

    kind, shared, blocking = "memory", False, False

    def __init__(self):
        self.carts: dict[str, list[str]] = {}

    def ping(self) -> None:
        """The process's own memory always answers."""

    def app(self, session_timeout: float) -> App:
        """An App keeping its sessions in this process."""
        return App(session_timeout=session_timeout, ids=session_ids())

    def cart(self, app: App, token: str) -> list[str]:
        """The items in session ``token``'s cart."""
        return list(self.carts.get(token, ()))

    def add(self, app: App, token: str, item: str) -> str | None:
        """Add ``item`` to the cart; a new token if the session had to be re-issued (never here)."""
        self.carts.setdefault(token, []).append(item)
        return None

    def forget(self, token: str) -> None:
        """Drop what the store keeps for ``token`` besides the session (its cart)."""
        self.carts.pop(token, None)


class _SqliteSessions(_SharedDict):
    """App sessions in the ``sessions`` table of a SQLite database."""

    def __init__(self, db: sqlite3.Connection):
        super().__init__()
        self.db = db

    def _read(self, token):
        row = self.db.execute("SELECT seen FROM sessions WHERE token = ?", (token,)).fetchone()
        return None if row is None else row[0]

    def _write(self, token, seen):
        with self.db:
            self.db.execute("INSERT INTO sessions (token, seen, cart) VALUES (?, ?, '[]') "
                            "ON CONFLICT(token) DO UPDATE SET seen = excluded.seen", (token, seen))

    def _delete(self, token):
        with self.db:
            return self.db.execute("DELETE FROM sessions WHERE token = ?", (token,)).rowcount > 0

    def _all(self):
        return self.db.execute("SELECT token, seen FROM sessions").fetchall()


class SqliteStore:
    """Sessions in one SQLite file every backend opens (WAL: readers never wait for the writer)."""

    kind, shared, blocking = "sqlite", True, True

    def __init__(self, path: str, busy_timeout: float = BUSY_TIMEOUT):
        self.path = path
        self.db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        self._set_up()
        self.db.isolation_level = ""        # `with self.db:` makes each write a transaction
        self._probe: sqlite3.Connection | None = None

    def _set_up(self, within: float = SETUP_TIMEOUT) -> None:
        """WAL mode and the table, tried again while another backend starting beside it holds the lock.

        Switching a new file to WAL takes an exclusive lock, so backends started together
        find it locked; their start may wait longer than a request would.
        """
        deadline = time.monotonic() + within
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.execute("CREATE TABLE IF NOT EXISTS sessions "
                                "(token TEXT PRIMARY KEY, seen REAL NOT NULL, cart TEXT NOT NULL)")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def ping(self) -> None:
        """Raise ``sqlite3.OperationalError`` unless a write could start now.

        Another connection holding the write lock (a long transaction) makes every request
        wait, as every request writes its session's last-seen time. It uses a connection of its
        own, so it may run on another thread than the requests.
        """
        if self._probe is None:
            self._probe = sqlite3.connect(self.path, timeout=PING_TIMEOUT, isolation_level=None,
                                          check_same_thread=False)
        self._probe.execute("BEGIN IMMEDIATE")
        self._probe.execute("ROLLBACK")

    def app(self, session_timeout: float) -> App:
        """An App whose sessions are rows of the shared database."""
        return App(session_timeout=session_timeout, store=_SqliteSessions(self.db), ids=session_ids())

    def cart(self, app: App, token: str) -> list[str]:
        """The items in session ``token``'s cart."""
        row = self.db.execute("SELECT cart FROM sessions WHERE token = ?", (token,)).fetchone()
        return [] if row is None else json.loads(row[0])

    def add(self, app: App, token: str, item: str) -> str | None:
        """Add ``item`` to the cart, in one transaction."""
        with self.db:
            cart = self.cart(app, token) + [item]
            self.db.execute("UPDATE sessions SET cart = ? WHERE token = ?", (json.dumps(cart), token))
        return None

    def forget(self, token: str) -> None:
        """Nothing to do: the cart is a column of the session's row, deleted with it."""


class _RedisSessions(_SharedDict):
    """App sessions as Redis keys ``<prefix>s:<token>`` that expire with the session."""

    def __init__(self, client, prefix: str, ttl: float):
        super().__init__()
        self.r, self.prefix, self.ttl = client, prefix, max(1, int(ttl) + 1)

    def _read(self, token):
        seen = self.r.get(self.prefix + "s:" + token)
        return None if seen is None else float(seen)

    def _write(self, token, seen):
        self.r.set(self.prefix + "s:" + token, repr(seen), ex=self.ttl)

    def _delete(self, token):
        return self.r.delete(self.prefix + "s:" + token, self.prefix + "c:" + token) > 0

    def _all(self):
        keys = list(self.r.scan_iter(self.prefix + "s:*", count=1000))
        values = self.r.mget(keys) if keys else []
        start = len(self.prefix) + 2
        return [(k.decode()[start:], float(v)) for k, v in zip(keys, values) if v is not None]


class RedisStore:
    """Sessions in a redis-server; carts are Redis lists, expiring with their session."""

    kind, shared, blocking = "redis", True, True

    def __init__(self, url: str, prefix: str = "stickylab:", session_timeout: float = 1800.0):
        import redis

        self.url, self.prefix, self.timeout = url, prefix, session_timeout
        self.r = redis.Redis.from_url(url, socket_timeout=BUSY_TIMEOUT, socket_connect_timeout=BUSY_TIMEOUT)
        self._probe = redis.Redis.from_url(url, socket_timeout=PING_TIMEOUT,
                                           socket_connect_timeout=PING_TIMEOUT)

    def ping(self) -> None:
        """Raise ``redis.RedisError`` unless Redis answers ``PING`` (a connection of its own)."""
        self._probe.ping()

    def app(self, session_timeout: float) -> App:
        """An App whose sessions are keys in Redis."""
        self.timeout = session_timeout
        sessions = _RedisSessions(self.r, self.prefix, session_timeout)
        return App(session_timeout=session_timeout, store=sessions, ids=session_ids())

    def cart(self, app: App, token: str) -> list[str]:
        """The items in session ``token``'s cart."""
        return [item.decode() for item in self.r.lrange(self.prefix + "c:" + token, 0, -1)]

    def add(self, app: App, token: str, item: str) -> str | None:
        """Append ``item`` to the cart list (one atomic RPUSH)."""
        key = self.prefix + "c:" + token
        with self.r.pipeline() as pipe:
            pipe.rpush(key, item).expire(key, int(self.timeout) + 1).execute()
        return None

    def forget(self, token: str) -> None:
        """Nothing to do: the cart key goes with the session key."""


class TokenApp(App):
    """The application with stateless sessions: the token is a signed JWT (HS256) holding the session.

    ``login`` issues a token that expires ``session_timeout`` seconds later; ``resume``
    accepts any genuine, unexpired token, whichever backend issued it; ``logout`` cannot
    revoke a token (the classic cost of stateless sessions), so the client just drops it.
    The ``now`` the backend passes is wall-clock time (seconds since the epoch).
    """

    def __init__(self, secret: bytes, **options):
        super().__init__(**options)
        self.secret = secret

    def issue(self, now: float, cart: list[str] | None = None) -> str:
        """A token for a new session holding ``cart``."""
        claims = {"sid": f"{next(self._ids):x}", "iat": int(now), "exp": int(now + self.timeout),
                  "cart": cart or []}
        return jwt_encode(claims, self.secret)

    def claims(self, token: str | None, now: float) -> dict | None:
        """The token's claims if it is genuine and unexpired at ``now``, else None."""
        if not token:
            return None
        import jwt

        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options={"verify_exp": False})
        except jwt.PyJWTError:
            return None
        return claims if isinstance(claims.get("exp"), int) and now <= claims["exp"] else None

    def login(self, now: float) -> str:
        """A fresh signed token with an empty cart."""
        return self.issue(now)

    def resume(self, token: str | None, now: float) -> bool:
        """True if ``token`` is genuine and unexpired (no store is asked)."""
        return self.claims(token, now) is not None

    def logout(self, token: str | None, now: float) -> bool:
        """True if ``token`` was valid; it stays valid until it expires (it cannot be revoked)."""
        return self.resume(token, now)


def jwt_encode(claims: dict, secret: bytes) -> str:
    """``claims`` signed with HS256."""
    import jwt

    return jwt.encode(claims, secret, algorithm="HS256")


class JwtStore:
    """No store at all: sessions are signed tokens every backend sharing ``secret`` accepts."""

    kind, shared, blocking = "jwt", True, False

    def __init__(self, secret: bytes):
        if len(secret) < 32:
            raise ValueError(f"the JWT secret must be at least 32 bytes for HS256, got {len(secret)}")
        self.secret = secret

    def ping(self) -> None:
        """Nothing is stored, so nothing can be unreachable."""

    def app(self, session_timeout: float) -> TokenApp:
        """A TokenApp signing with the shared secret."""
        return TokenApp(self.secret, session_timeout=session_timeout, ids=session_ids())

    def cart(self, app: TokenApp, token: str) -> list[str]:
        """The cart the token carries."""
        claims = app.claims(token, time.time())
        return list(claims.get("cart", [])) if claims else []

    def add(self, app: TokenApp, token: str, item: str) -> str | None:
        """A new token carrying the longer cart (a JWT cannot change: it is re-issued)."""
        return app.issue(time.time(), self.cart(app, token) + [item])

    def forget(self, token: str) -> None:
        """Nothing is stored."""


def make_store(spec: str, *, secret: bytes | None = None, prefix: str = "stickylab:"):
    """The store a backend's ``--store`` names: ``memory``, ``sqlite:PATH``, ``redis://...`` or ``jwt``."""
    if spec == "memory":
        return MemoryStore()
    if spec.startswith("sqlite:"):
        return SqliteStore(spec[len("sqlite:"):])
    if spec.startswith("redis://"):
        return RedisStore(spec, prefix)
    if spec == "jwt":
        if secret is None:
            raise ValueError("the jwt store needs a secret (STICKYLAB_JWT_SECRET, hex)")
        return JwtStore(secret)
    raise ValueError(f"unknown session store {spec!r}: use 'memory', 'sqlite:PATH', "
                     "'redis://HOST:PORT/DB' or 'jwt'")
