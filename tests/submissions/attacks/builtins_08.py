"""Shadow Python's built-ins at the top level of a ring that answers one node for every key."""
# assignment: 08_consistent_hashing
import stickylab as sl

# %% hash-ring
#include _builtins


class HashRing:
    def __init__(self, nodes, vnodes=100):
        self.nodes = list(nodes)
        self.vnodes = vnodes
        self.points = []

    def lookup(self, key):
        return self.nodes[0]

# %% keys-moved
def keys_moved(n, keys):
    return {"mod_n": 0.8, "ring": 0.2}

# %% bounded
def bounded_assign(nodes, vnodes, keys, c):
    return {k: nodes[0] for k in keys}
