"""Routers, each modelled on a real load balancer; build one by class or by name with :func:`make`."""

from __future__ import annotations

from .base import Router
from .consistent import ConsistentHash
from .cookie import AppCookieLearn, CookieInsert
from .header import HeaderHash
from .iphash import SourceIPHash, nginx_ip_hash
from .stateless import LeastConnections, Random, RoundRobin
from .sticktable import StickTable
from .table import AffinityTable

__all__ = [
    "AffinityTable", "AppCookieLearn", "CookieInsert", "HeaderHash", "LeastConnections", "Random",
    "RoundRobin", "Router", "SourceIPHash", "StickTable", "as_router", "make", "names", "nginx_ip_hash",
]

_BY_NAME: dict[str, type[Router]] = {
    cls.__name__: cls
    for cls in (RoundRobin, Random, LeastConnections, SourceIPHash, CookieInsert, AppCookieLearn,
                HeaderHash, StickTable)
}


def _norm(name: str) -> str:
    return name.replace("_", "").replace("-", "").replace(" ", "").lower()


def register(cls: type[Router]) -> type[Router]:
    """Make a router class buildable by name with :func:`make` (used by the hashing routers)."""
    _BY_NAME[cls.__name__] = cls
    return cls


register(ConsistentHash)
__all__ += ["ConsistentHash"]


def names() -> list[str]:
    """The router names :func:`make` knows."""
    return sorted(_BY_NAME)


def make(name: str, **options) -> Router:
    """Build a router from its name, e.g. ``make("CookieInsert")`` or ``make("round_robin")``."""
    if isinstance(name, str):
        for known, cls in _BY_NAME.items():
            if _norm(known) == _norm(name):
                return cls(**options)
    raise ValueError(f"unknown router name {name!r}; known routers: {', '.join(names())}")


def as_router(value) -> Router:
    """The router ``value`` stands for: a :class:`Router` object as it is, or a name built by :func:`make`.

    The one check of a router handed to a runtime (the simulator, the live lab), so that
    each refuses the same things in the same words, naming the value: a router class
    instead of an object, a function or any other object that is not a Router, and a
    Router subclass that does not implement ``route``.
    """
    if isinstance(value, str):
        return make(value)
    if isinstance(value, Router):
        if type(value).route is Router.route:
            label, cls = value.label(), type(value).__name__
            named = repr(label) if label == cls else f"{label!r} (a {cls})"
            raise TypeError(f"router {named} does not implement route(request, pool)")
        return value
    if isinstance(value, type) and issubclass(value, Router):
        raise TypeError(f"pass a router object, not the class: {value.__name__}()")
    if isinstance(value, type):
        what = f"the class {value.__name__}, which is not a subclass of sl.Router"
    elif callable(value) and hasattr(value, "__name__"):
        what = f"the function {value.__name__}"
    else:
        what = repr(value)
    raise TypeError(f"router must be a stickylab Router or a router name, got {what}: a router is an "
                    "object of a subclass of sl.Router with a route(request, pool) method")
