"""Trivial: IPHashRouter is stickylab's own SourceIPHash under another name (a subclass with
nothing of its own), and nat_balance simulates it; ip_key and ip_hash are written.

Every cell must see that the routing is the library's: what runs (SourceIPHash's methods) and
what the router holds (the library's RoundRobin fallback).
"""
import stickylab as sl

# %% ip-hash
def ip_key(client_ip, prefix24=False):
    if prefix24 and ":" not in client_ip:
        return client_ip.rsplit(".", 1)[0]
    return client_ip


def ip_hash(client_ip, prefix24=False):
    return sl.hashing.stable_hash(ip_key(client_ip, prefix24))


class IPHashRouter(sl.routers.SourceIPHash):
    pass

# %% nat-balance
def nat_balance(scenario):
    return {
        "with_nat": sl.simulate(scenario, IPHashRouter()).max_mean_load(),
        "without_nat": sl.simulate(scenario.replace(nat_fraction=0.0), IPHashRouter()).max_mean_load(),
    }
