"""Trivial: every request goes to the first healthy instance (a 503 when there is none), ip_hash
is 0 for every address, and nat_balance returns fixed numbers.

ip_key is written (it is one line), so only the spread of whole addresses over the instances,
and the measured figures, tell this router from a hash.
"""
import stickylab as sl

# %% ip-hash
def ip_key(client_ip, prefix24=False):
    if prefix24 and ":" not in client_ip:
        return client_ip.rsplit(".", 1)[0]
    return client_ip


def ip_hash(client_ip, prefix24=False):
    return 0


class IPHashRouter(sl.Router):
    def __init__(self, prefix24=False):
        self.prefix24 = prefix24

    def route(self, request, pool):
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        return pool.healthy[0]

# %% nat-balance
def nat_balance(scenario):
    return {"with_nat": 2.0, "without_nat": 1.0}
