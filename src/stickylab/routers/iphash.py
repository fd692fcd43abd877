"""Affinity by source address: no cookies, no table, and blind to NAT."""

from __future__ import annotations

import ipaddress
from itertools import islice

from ..model import NoHealthyInstance, Pool, Request
from .base import MEMO_LIMIT, Router, hash_into, pick_healthy
from .stateless import RoundRobin

__all__ = ["SourceIPHash", "nginx_ip_hash"]


_PSEUDO = bytes(3)     # nginx hashes a peer that has no IP address (a unix socket) as 0.0.0


def _ip_hash_bytes(client_ip: str) -> bytes:
    """The bytes nginx ``ip_hash`` feeds to its hash for a client address.

    IPv4: the first three octets. IPv6: all 16 bytes, an IPv4-mapped ``::ffff:a.b.c.d``
    included (nginx's ``ip_hash`` reads the IPv6 socket address as it is; unlike its
    access and geo modules, it does not unmap it). A ``:port`` suffix (``a.b.c.d:port``,
    ``[v6]:port``) is dropped; ``unix:`` (a unix-socket client) hashes as three zero bytes.
    """
    if not isinstance(client_ip, str):
        raise TypeError(f"ip_hash needs an address string, got client_ip={client_ip!r}")
    text = client_ip
    if text.startswith("unix:"):
        return _PSEUDO
    if text.startswith("["):                            # [v6] or [v6]:port
        text, sep, port = text[1:].partition("]")
        if not sep or (port and not (port[0] == ":" and port[1:].isdigit())):
            text = client_ip                            # not that form: reported below
    elif text.count(":") == 1:                          # a.b.c.d:port
        host, _, port = text.partition(":")
        if port.isdigit():
            text = host
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"ip_hash needs an IPv4 or IPv6 address, got client_ip={client_ip!r}") from None
    return address.packed[:3] if address.version == 4 else address.packed


def _ip_hash_rounds(octets: bytes):
    """nginx's successive ``ip_hash`` states: each retry feeds the bytes in again."""
    h = 89
    while True:
        for octet in octets:
            h = (h * 113 + octet) % 6271
        yield h


def nginx_ip_hash(client_ip: str, servers: int, tries: int = 0) -> tuple[int, int]:
    """nginx ``ip_hash`` arithmetic: the server index for a client address, and the hash state.

    For IPv4 only the first three octets count, so a whole /24 shares one server; for
    IPv6 the whole 16-byte address does. The hash starts at 89 and takes
    ``h = (h * 113 + byte) % 6271`` per byte; the server is ``h % servers`` (nginx takes
    ``h % total_weight``; here every server has weight 1). Each retry
    past a dead server (``tries`` > 0) feeds the bytes in again, continuing from the
    previous hash, as nginx does. A ``:port`` suffix on the address is ignored.
    """
    h = next(islice(_ip_hash_rounds(_ip_hash_bytes(client_ip)), tries, None))
    return h % servers, h


class SourceIPHash(Router):
    """Pick the instance from a hash of the client's address.

    ``prefix24=False`` hashes the whole address over the healthy instances, as HAProxy's
    ``balance source`` does with its default map-based hash: when the instance count
    changes, most clients move.

    ``prefix24=True`` copies nginx's ``ip_hash`` exactly: only the /24 of an IPv4 address
    counts (the whole address for IPv6), the hash is taken over every configured server
    (``pool.members``), and a client whose server is down or draining is rehashed, up to
    20 tries, then sent round robin. That spares users only on a failure: adding a server
    changes the modulus, so most clients move, as with ``balance source``
    [nginx ngx_http_upstream_module, ``ip_hash``; ngx_http_upstream_ip_hash_module.c].
    """

    MAX_TRIES = 20

    def __init__(self, prefix24: bool = False):
        self.prefix24 = bool(prefix24)
        self._memo: dict[str, int] = {}
        self._octets: dict[str, bytes] = {}
        self._fallback = RoundRobin()

    def route(self, request: Request, pool: Pool) -> str:
        """The instance the client's address hashes to."""
        if self.prefix24:
            return self._nginx(request, pool)
        healthy = pick_healthy(pool)
        ip = request.client_ip
        h = self._memo.get(ip)
        if h is None:
            h = hash_into(self._memo, ip)
        return healthy[h % len(healthy)]

    def _nginx(self, request: Request, pool: Pool) -> str:
        members = pool.members
        if not pool.healthy:
            raise NoHealthyInstance("no healthy instance in the pool")
        if len(members) < 2:
            return self._fallback.route(request, pool)
        ip = request.client_ip
        octets = self._octets.get(ip)
        if octets is None:
            if len(self._octets) >= MEMO_LIMIT:
                self._octets.clear()
            octets = self._octets[ip] = _ip_hash_bytes(ip)
        healthy = set(pool.healthy)
        for h in islice(_ip_hash_rounds(octets), self.MAX_TRIES + 1):
            server = members[h % len(members)]
            if server in healthy:
                return server
        return self._fallback.route(request, pool)
