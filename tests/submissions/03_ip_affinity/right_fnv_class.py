"""Right: hand-written 32-bit FNV-1a, IPv4 detection with ipaddress.IPv4Address, router with a lookup helper and super().__init__."""
import stickylab as sl

# %% ip-hash
from ipaddress import IPv4Address, AddressValueError


def _fnv1a(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def ip_key(client_ip, prefix24=False):
    if prefix24:
        try:
            IPv4Address(client_ip)
        except (AddressValueError, ValueError):
            return client_ip
        return client_ip.rpartition(".")[0]
    return client_ip


def ip_hash(client_ip, prefix24=False):
    return _fnv1a(ip_key(client_ip, prefix24).encode("ascii", "backslashreplace"))


class IPHashRouter(sl.Router):
    def __init__(self, prefix24=False):
        super().__init__()
        self.prefix24 = prefix24

    def _slot(self, ip, count):
        return ip_hash(ip, self.prefix24) % count

    def route(self, request, pool):
        candidates = list(pool.healthy)
        if not candidates:
            raise sl.NoHealthyInstance()
        return candidates[self._slot(request.client_ip, len(candidates))]

# %% nat-balance
def nat_balance(scenario):
    out = {}
    for key, sc in (("with_nat", scenario), ("without_nat", scenario.replace(nat_fraction=0.0))):
        out[key] = sl.simulate(sc, IPHashRouter()).max_mean_load()
    return out
