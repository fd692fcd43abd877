"""Plausible wrong answer: Python's built-in hash() (salted per process), and NAT measured badly.

`nat_balance` compares with round robin on the same scenario instead of IP hash without NAT.
Passes the visible tests: within one process hash() is consistent. Nor does route() check
for an empty pool.healthy: with nothing healthy it crashes (ZeroDivisionError) instead of
raising sl.NoHealthyInstance.
"""
# expect: test-ip-hidden-restart PYTHONHASHSEED
# expect: test-ip-hidden-pool raise sl.NoHealthyInstance
# expect: test-nat-hidden max_mean_load
import stickylab as sl

# %% ip-hash
def ip_key(client_ip, prefix24=False):
    return ".".join(client_ip.split(".")[:3]) if prefix24 and ":" not in client_ip else client_ip


def ip_hash(client_ip, prefix24=False):
    return abs(hash(ip_key(client_ip, prefix24)))


class IPHashRouter(sl.Router):
    def __init__(self, prefix24=False):
        self.prefix24 = prefix24

    def route(self, request, pool):
        return pool.healthy[ip_hash(request.client_ip, self.prefix24) % len(pool.healthy)]

# %% nat-balance
def nat_balance(scenario):
    return {
        "with_nat": sl.simulate(scenario, IPHashRouter()).max_mean_load(),
        "without_nat": sl.simulate(scenario, sl.routers.RoundRobin()).max_mean_load(),
    }
