"""Wrong: address -> instance answers are memoised per Pool object, so in-place pool changes are missed.

The memo is cleared only when a different Pool object comes in (`pool is not self._pool`).
A balancer keeps one Pool and calls pool.update() when an instance fails, drains or is
added (the simulator does): the memo then keeps sending known addresses to a dead or
draining instance, and never moves any onto a new one.
"""
# expect: test-ip-hidden-pool changed in place
import stickylab as sl

# %% ip-hash
def ip_key(client_ip, prefix24=False):
    return client_ip.rsplit(".", 1)[0] if prefix24 and ":" not in client_ip else client_ip


def ip_hash(client_ip, prefix24=False):
    return sl.hashing.stable_hash(ip_key(client_ip, prefix24))


class IPHashRouter(sl.Router):
    def __init__(self, prefix24=False):
        self.prefix24 = prefix24
        self._pool = None
        self._memo = {}

    def route(self, request, pool):
        if pool is not self._pool:
            self._pool, self._memo = pool, {}
        iid = self._memo.get(request.client_ip)
        if iid is None:
            if not pool.healthy:
                raise sl.NoHealthyInstance("no healthy instance")
            iid = pool.healthy[ip_hash(request.client_ip, self.prefix24) % len(pool.healthy)]
            self._memo[request.client_ip] = iid
        return iid

# %% nat-balance
def nat_balance(scenario):
    return {
        "with_nat": sl.simulate(scenario, IPHashRouter()).max_mean_load(),
        "without_nat": sl.simulate(scenario.replace(nat_fraction=0.0), IPHashRouter()).max_mean_load(),
    }
