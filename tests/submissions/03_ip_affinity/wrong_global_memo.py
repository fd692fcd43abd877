"""Wrong: ip_hash memoises in a module-level dict keyed on the address only, ignoring prefix24.

Whichever of prefix24=False / True is asked first for an address wins for ever, in every
router of the process.
"""
# expect: test-ip-hidden-spread depends on prefix24 too
import stickylab as sl

# %% ip-hash
_MEMO = {}


def ip_key(client_ip, prefix24=False):
    return client_ip.rsplit(".", 1)[0] if prefix24 and ":" not in client_ip else client_ip


def ip_hash(client_ip, prefix24=False):
    h = _MEMO.get(client_ip)
    if h is None:
        h = _MEMO[client_ip] = sl.hashing.stable_hash(ip_key(client_ip, prefix24))
    return h


class IPHashRouter(sl.Router):
    def __init__(self, prefix24=False):
        self.prefix24 = prefix24

    def route(self, request, pool):
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        return pool.healthy[ip_hash(request.client_ip, self.prefix24) % len(pool.healthy)]

# %% nat-balance
def nat_balance(scenario):
    return {
        "with_nat": sl.simulate(scenario, IPHashRouter()).max_mean_load(),
        "without_nat": sl.simulate(scenario.replace(nat_fraction=0.0), IPHashRouter()).max_mean_load(),
    }
