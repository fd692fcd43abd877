"""Trivial: a constant everywhere: every address hashes to 0, every request goes to "i0", and
nat_balance returns fixed numbers (the kind a learner copies from a classmate's output).

A constant is "the same in every Python process" and "follows ip_hash" (0 % n picks the first
instance), so the tests must also ask that different addresses land on different instances.
"""
import stickylab as sl

# %% ip-hash
def ip_key(client_ip, prefix24=False):
    return client_ip


def ip_hash(client_ip, prefix24=False):
    return 0


class IPHashRouter(sl.Router):
    def __init__(self, prefix24=False):
        self.prefix24 = prefix24

    def route(self, request, pool):
        return "i0"

# %% nat-balance
def nat_balance(scenario):
    return {"with_nat": 1.6129266521423384, "without_nat": 1.091503267973856}
