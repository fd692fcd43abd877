"""Blind right answer: SHA-256 (hashlib) instead of sl.hashing.stable_hash, and split/join for the /24.

Differs from the obvious answer: ``ip_hash`` is the first 8 bytes of SHA-256 of the key, read
big-endian (allowed: "so may hashlib"); ``ip_key`` keeps the first three dot-separated
fields with split/join (an address with a colon, IPv6 or IPv4-mapped IPv6, or without three
dots is kept whole); the
router checks the healthy list through a local helper. ``nat_balance`` loops over a dict of
scenarios.
"""
import stickylab as sl

# %% ip-hash
import hashlib


def ip_key(client_ip, prefix24=False):
    """The part of the address that picks the instance."""
    if not prefix24:
        return str(client_ip)
    fields = str(client_ip).split(".")
    if ":" in str(client_ip) or len(fields) != 4:      # IPv6, "::ffff:203.0.113.7" included
        return str(client_ip)
    return ".".join(fields[:3])


def ip_hash(client_ip, prefix24=False):
    """A hash of the client's address that is the same in every process."""
    digest = hashlib.sha256(ip_key(client_ip, prefix24).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


class IPHashRouter(sl.Router):
    """Source-address affinity (HAProxy `balance source`; nginx `ip_hash` with prefix24=True)."""

    def __init__(self, prefix24=False):
        self.prefix24 = prefix24

    def route(self, request, pool):
        targets = pool.healthy
        if len(targets) == 0:
            raise sl.NoHealthyInstance("nothing healthy to hash onto")
        return targets[ip_hash(request.client_ip, self.prefix24) % len(targets)]

# %% nat-balance
def nat_balance(scenario):
    """Max/mean instance load under IPHashRouter with the scenario's NAT, and without NAT."""
    variants = {"with_nat": scenario, "without_nat": scenario.replace(nat_fraction=0.0)}
    out = {}
    for label, sc in variants.items():
        out[label] = float(sl.simulate(sc, IPHashRouter()).max_mean_load())
    return out
