"""Shadow Python's built-ins at the top level of an IP-affinity answer that does nothing."""
# assignment: 03_ip_affinity
import stickylab as sl

# %% ip-hash
#include _builtins


def ip_key(client_ip, prefix24=False):
    return "k"


def ip_hash(client_ip, prefix24=False):
    return 0


class IPHashRouter(sl.Router):
    def __init__(self, prefix24=False):
        self.prefix24 = prefix24

    def route(self, request, pool):
        return "nowhere"

# %% nat-balance
def nat_balance(scenario):
    return {"without_nat": 0.0, "with_nat": 0.0}
