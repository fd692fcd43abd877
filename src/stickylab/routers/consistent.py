"""Consistent-hashing routers: a request key hashed onto a ring, a Maglev table or a jump hash.

Where sticky sessions lead: no cookie to set and no table of clients to keep, yet the
same key reaches the same instance, and a change of the pool moves only the keys it must.
"""

from __future__ import annotations

from .. import hashing
from ..hashing import mix64, stable_hash
from ..model import NoHealthyInstance, Pool, Request
from .base import MEMO_LIMIT, Router, check_router, key_getter, pick_healthy
from .stateless import Random, RoundRobin

__all__ = ["ConsistentHash"]



class ConsistentHash(Router):
    """Route by a hash of the source address, a header or a cookie, with a consistent-hashing scheme.

    Args:
        scheme: ``"ring"`` (ketama; nginx ``hash $key consistent``, HAProxy ``hash-type
            consistent``, Envoy ``RING_HASH``), ``"maglev"`` (Envoy ``MAGLEV``),
            ``"rendezvous"``, ``"jump"``, ``"bounded"`` (a ring with HAProxy's
            ``hash-balance-factor``) or ``"modn"`` (HAProxy's default map-based hash).
        key: ``"src"`` (the client address), ``"header:NAME"`` or ``"cookie:NAME"``, as in
            Envoy's hash policies and HAProxy's ``balance source|hdr(NAME)``.
        vnodes: ring points per instance (ring and bounded; default 160, nginx's figure).
        min_ring_size: ring only: at least this many points in all, as Envoy's
            ``minimum_ring_size`` (1024 by default there).
        table_size: Maglev's prime table size (default 65537, Envoy's).
        factor: bounded only: no instance takes a request when its requests in flight
            reach ``ceil(factor * (in flight + 1) / healthy)``; the key walks on around the
            ring (HAProxy ``hash-balance-factor 125`` is 1.25; HAProxy rounds up the total,
            ``ceil(factor * (in flight + 1))`` slots, and splits it by weight, so some
            servers get one slot fewer than here).
        fallback: the router for requests without the key (default round robin, as
            nginx does for an empty key; Envoy picks at random).

    The table is built over the healthy instances and rebuilt whenever the pool's
    membership changes (its ``healthy`` and ``members``, whichever :class:`~stickylab.Pool`
    object carries them; not ``pool.version``, which counts one object's changes): a
    failed, drained or removed instance's keys move to the others and the rest stay put
    (Maglev moves a few more). Draining instances leave the table, as HAProxy's
    ``drain`` (weight 0) takes a server out of its hash tree. ``"jump"`` is the
    exception, since its buckets are numbered: it hashes over every configured instance
    (``pool.members``) and rehashes a key whose instance is down, up to 20 times
    (nginx's limit), so only that instance's keys move; an instance removed from the
    middle of the list renumbers those after it. ``"modn"`` moves most keys on any change.
    """

    MAX_TRIES = 20

    def __init__(self, scheme: str = "ring", key: str = "src", *, vnodes: int | None = None,
                 min_ring_size: int | None = None, table_size: int | None = None,
                 factor: float | None = None, fallback: Router | None = None):
        options = {k: v for k, v in (("vnodes", vnodes), ("table_size", table_size),
                                     ("factor", factor)) if v is not None}
        hashing.check_options(scheme, **options)
        if min_ring_size is not None:
            if scheme != "ring":
                raise TypeError(f"min_ring_size applies to scheme 'ring' only, got scheme={scheme!r}")
            hashing.check_options("ring", vnodes=min_ring_size)   # a positive integer
        self._key = key_getter(key, "hash key")
        fallback = check_router("fallback", RoundRobin() if fallback is None else fallback)
        self.scheme, self.key, self.options = scheme, key, options
        self.min_ring_size = min_ring_size
        self.fallback = fallback
        self.table: hashing.HashScheme | None = None
        self._healthy: tuple | None = None     # the membership the table was built for
        self._members: tuple | None = None
        self._hashes: dict[str, int] = {}
        self._memo: dict[str, str] = {}

    # -- presets copying real balancers ------------------------------------------------------------
    @classmethod
    def nginx(cls, key: str = "src") -> ConsistentHash:
        """nginx ``hash $key consistent``: ketama, 160 points per server; an empty key goes round robin."""
        return cls("ring", key, vnodes=160)

    @classmethod
    def haproxy(cls, key: str = "src", factor: float | None = None) -> ConsistentHash:
        """HAProxy ``hash-type consistent``: 16 points per unit of weight, and ``hash-balance-factor``.

        HAProxy takes the nearest point on either side of the key, not the next one as
        here: each point then owns half of the gap on each side, so its load spreads about
        like twice as many points under the next-point rule (a spread about 1/sqrt(2) of
        this router's). Which keys move when a server comes or goes is alike.
        """
        if factor is None:
            return cls("ring", key, vnodes=16)
        return cls("bounded", key, vnodes=16, factor=factor)

    @classmethod
    def envoy_ring_hash(cls, key: str = "src", minimum_ring_size: int = 1024) -> ConsistentHash:
        """Envoy ``RING_HASH``: at least ``minimum_ring_size`` points; no hash value picks at random."""
        return cls("ring", key, vnodes=1, min_ring_size=minimum_ring_size, fallback=Random())

    @classmethod
    def envoy_maglev(cls, key: str = "src", table_size: int = 65537) -> ConsistentHash:
        """Envoy ``MAGLEV``: a 65537-entry table; no hash value picks at random."""
        return cls("maglev", key, table_size=table_size, fallback=Random())

    def label(self) -> str:
        """The display name, with the scheme: ``ConsistentHash[maglev]``."""
        return self.name or f"ConsistentHash[{self.scheme}]"

    # -- the table ---------------------------------------------------------------------------------
    def _rebuild(self, pool: Pool) -> None:
        nodes = pool.members if self.scheme == "jump" else pick_healthy(pool)
        options = dict(self.options)
        if self.min_ring_size is not None:
            per_node = -(-self.min_ring_size // len(nodes))
            options["vnodes"] = max(options.get("vnodes", 1), per_node)
        self.table = hashing.build(self.scheme, nodes, **options)
        self._memo.clear()

    def _sync(self, pool: Pool) -> None:
        """Rebuild the table if ``pool``'s membership differs from the one it was built for.

        The table and the lookups remembered depend on ``pool.healthy`` and ``pool.members``
        only (draining instances are in neither table). Equal tuples in a new pool keep it.
        """
        if pool.healthy != self._healthy or pool.members != self._members:
            self._rebuild(pool)
        self._healthy, self._members = pool.healthy, pool.members

    def _hash(self, value: str) -> int:
        h = self._hashes.get(value)
        if h is None:
            if len(self._hashes) > MEMO_LIMIT:
                self._hashes.clear()
            if not isinstance(value, str):
                raise TypeError(f"hash key {self.key!r} gave {value!r}, not a string")
            h = self._hashes[value] = stable_hash(value)
        return h

    def _jump(self, h: int, pool: Pool) -> str:
        members = self.table.nodes
        for _ in range(self.MAX_TRIES + 1):
            iid = members[hashing.jump_bucket(h, len(members))]
            if iid in pool.healthy:
                return iid
            h = mix64(h)
        healthy = pick_healthy(pool)
        return healthy[hashing.jump_bucket(h, len(healthy))]

    # -- the Router interface ----------------------------------------------------------------------
    def route(self, request: Request, pool: Pool) -> str:
        """The instance the request's key hashes to, or the fallback's pick when the key is missing."""
        value = self._key(request)
        if not value:
            return self.fallback.route(request, pool)
        if not pool.healthy:
            raise NoHealthyInstance("no healthy instance in the pool")
        if pool.healthy is not self._healthy or pool.members is not self._members:
            self._sync(pool)    # new tuples: compare their values (the same tuples cost no call)
        if self.scheme == "bounded":
            return self.table.lookup_hash(self._hash(value), loads=pool.load)
        iid = self._memo.get(value)
        if iid is None:
            h = self._hash(value)
            iid = self._jump(h, pool) if self.scheme == "jump" else self.table.lookup_hash(h)
            if len(self._memo) > MEMO_LIMIT:
                self._memo.clear()
            self._memo[value] = iid
        return iid

    def on_response(self, request, instance, response) -> None:
        """Let the fallback see responses to the requests it routed."""
        if not self._key(request):
            self.fallback.on_response(request, instance, response)
