"""Trivial: the library's own router behind a thin wrapper: IPHashRouter hands every request to
sl.routers.SourceIPHash, and nat_balance simulates SourceIPHash itself.

ip_key and ip_hash are written (stable_hash of the key), so the hash itself passes; the router
and the measurement are stickylab's, not the learner's.
"""
import stickylab as sl

# %% ip-hash
def ip_key(client_ip, prefix24=False):
    if prefix24 and ":" not in client_ip:
        return client_ip.rsplit(".", 1)[0]
    return client_ip


def ip_hash(client_ip, prefix24=False):
    return sl.hashing.stable_hash(ip_key(client_ip, prefix24))


class IPHashRouter(sl.Router):
    def __init__(self, prefix24=False):
        self.prefix24 = prefix24
        self.inner = sl.routers.SourceIPHash(prefix24=prefix24)

    def route(self, request, pool):
        return self.inner.route(request, pool)

# %% nat-balance
def nat_balance(scenario):
    return {
        "with_nat": sl.simulate(scenario, sl.routers.SourceIPHash()).max_mean_load(),
        "without_nat": sl.simulate(scenario.replace(nat_fraction=0.0), sl.routers.SourceIPHash()).max_mean_load(),
    }
