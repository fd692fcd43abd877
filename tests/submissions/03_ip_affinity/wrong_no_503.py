"""Wrong: with no healthy instance, route() crashes with ZeroDivisionError instead of raising sl.NoHealthyInstance.

The text asks for sl.NoHealthyInstance (the balancer answers 503); a crash in the router is
a 500 (or a dead balancer).  The visible tests never route with an empty pool.healthy.
"""
# expect: test-ip-hidden-pool raise sl.NoHealthyInstance
import stickylab as sl

# %% ip-hash
def ip_key(client_ip, prefix24=False):
    return client_ip.rsplit(".", 1)[0] if prefix24 and ":" not in client_ip else client_ip


def ip_hash(client_ip, prefix24=False):
    return sl.hashing.stable_hash(ip_key(client_ip, prefix24))


class IPHashRouter(sl.Router):
    def __init__(self, prefix24=False):
        self.prefix24 = prefix24

    def route(self, request, pool):
        return pool.healthy[ip_hash(request.client_ip, self.prefix24) % len(pool.healthy)]

# %% nat-balance
def nat_balance(scenario):
    return {
        "with_nat": sl.simulate(scenario, IPHashRouter()).max_mean_load(),
        "without_nat": sl.simulate(scenario.replace(nat_fraction=0.0), IPHashRouter()).max_mean_load(),
    }
