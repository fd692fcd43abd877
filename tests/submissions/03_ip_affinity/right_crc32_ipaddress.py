"""Right: zlib.crc32 (allowed) and the /24 cut done with the ipaddress module (IPv6 kept whole).
"""
import stickylab as sl

# %% ip-hash
import ipaddress
import zlib


def ip_key(client_ip, prefix24=False):
    if not prefix24:
        return client_ip
    try:
        addr = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip
    if addr.version != 4:
        return client_ip
    return ".".join(str(o) for o in addr.packed[:3])


def ip_hash(client_ip, prefix24=False):
    return zlib.crc32(ip_key(client_ip, prefix24).encode())


class IPHashRouter(sl.Router):
    def __init__(self, prefix24=False):
        self.prefix24 = prefix24

    def route(self, request, pool):
        healthy = pool.healthy
        if not healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        return healthy[ip_hash(request.client_ip, self.prefix24) % len(healthy)]

# %% nat-balance
def nat_balance(scenario):
    a = sl.simulate(scenario, IPHashRouter())
    b = sl.simulate(scenario.replace(nat_fraction=0.0), IPHashRouter())
    return {"with_nat": a.max_mean_load(), "without_nat": b.max_mean_load()}
