"""No work: the ring answers the first node for every key, and keys_moved is a constant.

Lookups are fast and the same in every process, and removing any node but the first
moves no key, but no ring is built; keys_moved answers the textbook shares whatever it
is given.
"""
# expect: test-ring-visible each gets about 100
# expect: test-ring-hidden-fast different nodes
# expect: test-moved-visible mod_n
import stickylab as sl

# %% hash-ring
class HashRing:
    def __init__(self, nodes, vnodes=100):
        self.nodes = list(nodes)
        self.vnodes = vnodes

    def lookup(self, key):
        return self.nodes[0]

# %% keys-moved
def keys_moved(n, keys):
    return {"ring": 0.2, "mod_n": 0.8}
