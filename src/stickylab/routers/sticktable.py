"""HAProxy-style stick tables: the balancer remembers key -> instance itself."""

from __future__ import annotations

from ..model import Pool, Request
from .base import Router, check_router, key_getter
from .stateless import Random, RoundRobin
from .table import AffinityTable

__all__ = ["StickTable"]


class StickTable(Router):
    """A key -> instance table in the balancer (HAProxy ``stick-table ... size N expire T``, ``stick on``).

    The first request with a key is placed by ``balance`` and stored; later ones follow
    the entry while its instance is live (draining included). Entries expire ``expire``
    seconds after their last match, and when ``size`` entries are held the oldest is
    evicted. An entry naming a dead instance is re-picked and overwritten, as HAProxy
    does by default for a server marked DOWN (unless ``option persist``). A request
    without the key is balanced and not stored.
    """

    def __init__(self, key: str = "src", *, size: int = 100_000, expire: float | None = 1800.0,
                 balance: Router | None = None):
        self._key = key_getter(key, "stick key")
        balance = check_router("balance", RoundRobin() if balance is None else balance)
        self.key = key
        self.balance = balance
        self.table = AffinityTable(size, expire)

    @classmethod
    def kubernetes(cls, timeout: float = 10800.0, **kwargs) -> StickTable:
        """A Kubernetes Service with ``sessionAffinity: ClientIP`` (``timeoutSeconds``, default 3 hours).

        kube-proxy remembers each client address's endpoint; a new address gets one at
        random, as kube-proxy's default iptables (and nftables) mode picks it (IPVS mode
        defaults to round robin: pass ``balance=RoundRobin()``) [Kubernetes docs, "Virtual IPs
        and Service Proxies"].
        """
        kwargs.setdefault("balance", Random())
        return cls("src", expire=timeout, **kwargs)

    def route(self, request: Request, pool: Pool) -> str:
        """The stored instance for the request's key, else a new pick that is stored."""
        key = self._key(request)
        if key is None:
            return self.balance.route(request, pool)
        now = request.time
        iid = self.table.lookup(key, now)
        if iid is not None and pool.is_up(iid):
            return iid
        iid = self.balance.route(request, pool)
        self.table.store(key, iid, now)
        return iid

    def on_response(self, request, instance, response) -> None:
        """Pass the response to the balancing router."""
        self.balance.on_response(request, instance, response)
