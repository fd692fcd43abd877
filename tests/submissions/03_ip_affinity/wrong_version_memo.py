"""Wrong: the route memo is keyed on (address, pool.version), and two Pool objects can both be at version 1.

pool.version counts the changes of one Pool object only (Pool's docstring says so). It
follows in-place changes of one pool, but a router given another pool at the same version
(a new Pool per change, or a router shared between balancers) keeps sending known addresses
to where the old pool put them, a draining or failed instance among them. Key a cache on
the membership (pool.ids, pool.healthy, pool.members) instead.
"""
# expect: test-ip-hidden-pool not on pool.version or the Pool object
import stickylab as sl

# %% ip-hash
def ip_key(client_ip, prefix24=False):
    return client_ip.rsplit(".", 1)[0] if prefix24 and ":" not in client_ip else client_ip


def ip_hash(client_ip, prefix24=False):
    return sl.hashing.stable_hash(ip_key(client_ip, prefix24))


class IPHashRouter(sl.Router):
    def __init__(self, prefix24=False):
        self.prefix24 = prefix24
        self._memo = {}

    def route(self, request, pool):
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        key = (request.client_ip, pool.version)
        if key not in self._memo:
            self._memo[key] = pool.healthy[ip_hash(request.client_ip, self.prefix24) % len(pool.healthy)]
        return self._memo[key]

# %% nat-balance
def nat_balance(scenario):
    """Max/mean instance load under IPHashRouter with the scenario's NAT, and without NAT."""
    return {
        "with_nat": sl.simulate(scenario, IPHashRouter()).max_mean_load(),
        "without_nat": sl.simulate(scenario.replace(nat_fraction=0.0), IPHashRouter()).max_mean_load(),
    }
