"""The one interface every router implements, in the simulator, the exercises and the live lab."""

from __future__ import annotations

from numbers import Real

from ..hashing import stable_hash
from ..model import NoHealthyInstance, Pool, Request, Response

__all__ = ["MEMO_LIMIT", "Router", "check_router", "check_seconds", "hash_into", "key_getter",
           "pick_healthy"]

#: Most keys a router remembers the hash of before it starts again (bounds memory in a long run).
MEMO_LIMIT = 1_000_000


class Router:
    """Decides which instance serves a request.

    Subclasses implement :meth:`route`; :meth:`on_response` is a no-op unless the router
    needs to see the response (to set an affinity cookie, or learn the application's one).
    A router sees only what a real balancer sees: the request and the pool.
    """

    #: Short human name, shown in plots and error messages (defaults to the class name).
    name: str | None = None

    def route(self, request: Request, pool: Pool) -> str:
        """Return the id of the instance that serves ``request``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement route()")

    def on_response(self, request: Request, instance: str, response: Response) -> None:
        """Look at (and possibly add cookies to) the response ``instance`` gave to ``request``."""

    def label(self) -> str:
        """The router's display name."""
        return self.name or type(self).__name__

    def __repr__(self) -> str:
        params = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        inner = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"{type(self).__name__}({inner})"


def pick_healthy(pool: Pool) -> tuple[str, ...]:
    """The instances that may take a new session, or :class:`NoHealthyInstance` if there are none."""
    healthy = pool.healthy
    if not healthy:
        raise NoHealthyInstance("no healthy instance in the pool")
    return healthy


def key_getter(spec: str, role: str = "key"):
    """A function of the request for a key spec: ``src``, ``cookie:NAME`` or ``header:NAME``.

    The keys real balancers stick or hash on: HAProxy ``stick on src`` / ``req.cook(NAME)`` /
    ``req.hdr(NAME)``, nginx ``hash $remote_addr`` / ``$cookie_NAME`` / ``$http_NAME``.
    """
    if spec == "src":
        return lambda request: request.client_ip
    kind, _, name = spec.partition(":") if isinstance(spec, str) else ("", "", "")
    if kind == "cookie" and name:
        return lambda request: request.cookies.get(name)
    if kind == "header" and name:
        return lambda request: request.headers.get(name)
    raise ValueError(f"unknown {role} {spec!r}: use 'src', 'cookie:NAME' or 'header:NAME'")


def check_router(name: str, value) -> Router:
    """``value`` if it is a Router (a balancing or fallback router), else a TypeError naming it."""
    if not isinstance(value, Router):
        raise TypeError(f"{name} must be a Router, got {name}={value!r}")
    return value


def check_seconds(name: str, value, allow_none: bool = True, minimum: float = 0.0) -> None:
    """Refuse anything but a number of seconds above ``minimum`` (or None, where allowed)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, Real) or not (
            value > 0 and value >= minimum and value < float("inf")):
        floor = f" and at least {minimum:g}" if minimum else ""
        raise ValueError(f"{name} must be a positive number of seconds{floor}, got {name}={value!r}")


def hash_into(memo: dict, key) -> int:
    """``stable_hash(key)``, remembered in ``memo`` (cleared when it reaches MEMO_LIMIT keys)."""
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    h = memo[key] = stable_hash(key)
    return h
