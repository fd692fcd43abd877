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
    "RoundRobin", "Router", "SourceIPHash", "StickTable", "make", "names", "nginx_ip_hash",
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
