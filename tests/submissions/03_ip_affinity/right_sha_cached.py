"""Right: a 256-bit ip_hash (the whole SHA-256 digest as an int), the /24 cut with str.count and
str.rpartition, and a router that caches its answers keyed on (address, healthy ids).

Differs from the solution: a huge hash value, a cache (keyed on the membership, so pool changes
in place and several pools are followed), and the 503 raised from a helper.
"""
import stickylab as sl

# %% ip-hash
import hashlib


def ip_key(client_ip, prefix24=False):
    if prefix24 and client_ip.count(".") == 3 and ":" not in client_ip:
        head, _, _ = client_ip.rpartition(".")
        return head
    return client_ip


def ip_hash(client_ip, prefix24=False):
    return int.from_bytes(hashlib.sha256(ip_key(client_ip, prefix24).encode()).digest(), "big")


def _targets(pool):
    if not pool.healthy:
        raise sl.NoHealthyInstance("nothing healthy")
    return tuple(pool.healthy)


class IPHashRouter(sl.Router):
    def __init__(self, prefix24=False):
        self.prefix24 = prefix24
        self._cache = {}

    def route(self, request, pool):
        targets = _targets(pool)
        key = (request.client_ip, targets)
        if key not in self._cache:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = targets[ip_hash(request.client_ip, self.prefix24) % len(targets)]
        return self._cache[key]

# %% nat-balance
def nat_balance(scenario):
    results = {}
    for name, sc in [("with_nat", scenario), ("without_nat", scenario.replace(nat_fraction=0.0))]:
        results[name] = float(sl.simulate(sc, IPHashRouter()).max_mean_load())
    return results
