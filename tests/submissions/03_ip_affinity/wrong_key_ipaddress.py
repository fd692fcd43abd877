"""Wrong: ip_key returns an ipaddress object for a whole address (a str only when it cuts a /24).

ip_hash hashes str() of whatever ip_key gave, so the router works, and the visible test only
asks for the key of a cut address. The text asks for a str in every case: the key is the text
that is hashed, and a key that is sometimes an IPv4Address cannot be compared, logged or
stored with the others. The hidden test must show what ip_key returned, and its type.
"""
# expect: test-ip-hidden-spread of type IPv4Address
import stickylab as sl

# %% ip-hash
import ipaddress


def ip_key(client_ip, prefix24=False):
    address = ipaddress.ip_address(client_ip)
    if prefix24 and address.version == 4:
        return client_ip.rsplit(".", 1)[0]
    return address


def ip_hash(client_ip, prefix24=False):
    return sl.hashing.stable_hash(str(ip_key(client_ip, prefix24)))


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
