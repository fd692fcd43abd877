"""Routers that remember nothing about clients: the baseline sticky sessions fix."""

from __future__ import annotations

import random
from numbers import Integral

from ..model import Pool, Request
from .base import Router, pick_healthy

__all__ = ["LeastConnections", "Random", "RoundRobin"]


class RoundRobin(Router):
    """Each request to the next healthy instance in turn (HAProxy ``balance roundrobin``, nginx's default)."""

    def __init__(self):
        self._next = 0

    def route(self, request: Request, pool: Pool) -> str:
        """The next healthy instance in turn."""
        healthy = pick_healthy(pool)
        n = self._next
        self._next = n + 1
        return healthy[n % len(healthy)]


class Random(Router):
    """Each request to a healthy instance drawn at random (Envoy ``RANDOM``); seeded, so runs repeat."""

    def __init__(self, seed: int = 0):
        if isinstance(seed, Integral) and not isinstance(seed, int):
            seed = int(seed)            # a numpy integer: random.Random takes Python ints only
        self.seed = seed
        self._rng = random.Random(seed)

    def route(self, request: Request, pool: Pool) -> str:
        """A healthy instance drawn uniformly."""
        healthy = pick_healthy(pool)
        return healthy[self._rng.randrange(len(healthy))]


class LeastConnections(Router):
    """Each request to the healthy instance with the fewest requests in flight (HAProxy ``leastconn``).

    Ties go round robin among the least loaded, as HAProxy does.
    """

    def __init__(self):
        self._next = 0

    def route(self, request: Request, pool: Pool) -> str:
        """The least loaded healthy instance."""
        healthy = pick_healthy(pool)
        loads = [pool.load(i) for i in healthy]
        low = min(loads)
        least = [i for i, load in zip(healthy, loads) if load == low]
        n = self._next
        self._next = n + 1
        return least[n % len(least)]
