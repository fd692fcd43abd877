"""Plausible wrong answer: nat_balance measures IPHashRouter(prefix24=True) (nginx ip_hash), not IPHashRouter().

The text says to simulate with IPHashRouter() as given.
"""
# expect: test-nat-hidden max_mean_load
import stickylab as sl

# %% ip-hash
import hashlib


def ip_key(client_ip, prefix24=False):
    """The part of the address that picks the instance."""
    if not prefix24:
        return str(client_ip)
    fields = str(client_ip).split(".")
    return ".".join(fields[:3]) if len(fields) == 4 and ":" not in str(client_ip) else str(client_ip)


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
        out[label] = float(sl.simulate(sc, IPHashRouter(prefix24=True)).max_mean_load())
    return out
