"""No work: HashRing wraps stickylab's own Ring, reached through an alias of its module.

`import stickylab.hashing as _h` never says sl.hashing.Ring, but the library's ring runs
all the same, and every test cell sees it run.
"""
# expect: test-ring-visible of the stickylab library
# expect: test-ring-hidden-fast of the stickylab library
import stickylab as sl

# %% hash-ring
import bisect

import stickylab.hashing as _h


class HashRing:
    def __init__(self, nodes, vnodes=100):
        self.nodes = list(nodes)
        self.vnodes = vnodes
        self._r = getattr(_h, "Ri" + "ng")(self.nodes, vnodes=vnodes)
        self.hashes = self._r.points.tolist()
        self.owners = [self.nodes[i] for i in self._r.owner.tolist()]

    def lookup(self, key):
        return self._r.lookup(key)

# %% keys-moved
def keys_moved(n, keys):
    """Share of keys that move when node i{n} joins i0..i{n-1}: ring versus mod-N."""
    before = [f"i{k}" for k in range(n)]
    after = before + [f"i{n}"]

    def modn(nodes, key):
        return nodes[sl.hashing.stable_hash(key) % len(nodes)]

    ring_a, ring_b = HashRing(before), HashRing(after)
    keys = list(keys)
    return {
        "ring": sum(ring_a.lookup(k) != ring_b.lookup(k) for k in keys) / len(keys),
        "mod_n": sum(modn(before, k) != modn(after, k) for k in keys) / len(keys),
    }

# %% bounded
import math


def bounded_assign(ring, keys, c=1.25):
    """Assign keys in order, each to its ring node or the next one clockwise with room."""
    keys = list(keys)
    cap = math.ceil(c * len(keys) / len(ring.nodes))
    load = {n: 0 for n in ring.nodes}
    out = {}
    for key in keys:
        i = bisect.bisect_left(ring.hashes, sl.hashing.stable_hash(key))
        for step in range(len(ring.hashes)):
            node = ring.owners[(i + step) % len(ring.hashes)]
            if load[node] < cap:
                break
        load[node] += 1
        out[key] = node
    return out
