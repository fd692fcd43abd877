"""Affinity by a request header the application sends (a user id, a token)."""

from __future__ import annotations

from ..model import Pool, Request
from .base import Router, check_router, hash_into, pick_healthy
from .stateless import Random

__all__ = ["HeaderHash"]


class HeaderHash(Router):
    """Hash a header's value to pick the instance (HAProxy ``balance hdr(NAME)``, map-based).

    The hash is taken modulo the healthy instances, as HAProxy's default ``hash-type
    map-based`` does over the running servers, so changing their number moves most keys.
    Envoy's header ``hash_policy`` differs: it feeds only its ring hash and Maglev load
    balancers, where a failed host moves only its own keys; that is
    ``ConsistentHash(key="header:NAME")``.

    It needs the application's cooperation: clients must send the header (here, after
    login, ``X-User-Id`` and a bearer token). A request without it goes to ``fallback``:
    random by default, as Envoy picks when no hash policy yields a value; HAProxy's
    ``hdr`` falls back to round robin (``fallback=RoundRobin()``) [HAProxy
    configuration.txt, "balance" and "hash-type"; Envoy route_components.proto].
    """

    def __init__(self, header: str = "X-User-Id", fallback: Router | None = None):
        if not isinstance(header, str) or not header.strip():
            raise ValueError(f"header must be a non-empty header name, got header={header!r}")
        fallback = check_router("fallback", Random() if fallback is None else fallback)
        self.header = header
        self.fallback = fallback
        self._memo: dict[str, int] = {}

    def route(self, request: Request, pool: Pool) -> str:
        """The instance the header hashes to, or the fallback's pick when it is missing."""
        value = request.headers.get(self.header)
        if not value:
            return self.fallback.route(request, pool)
        healthy = pick_healthy(pool)
        h = self._memo.get(value)
        if h is None:
            h = hash_into(self._memo, value)
        return healthy[h % len(healthy)]

    def on_response(self, request, instance, response) -> None:
        """Let the fallback see responses to the requests it routed."""
        if not request.headers.get(self.header):
            self.fallback.on_response(request, instance, response)
