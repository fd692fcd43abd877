"""No work: HashRing keeps stickylab's own Ring inside and passes lookups on.

It answers exactly as described (sl.hashing.Ring is the reference), and is no subclass of
it, but the exercise is to build the ring: every test cell sees the library's ring run
(keys_moved and bounded_assign use this ring).
"""
# expect: test-ring-visible of the stickylab library
# expect: test-moved-visible stickylab.hashing.Ring
# expect: test-bounded-hidden build the ring yourself first
import stickylab as sl

# %% hash-ring
class HashRing:
    def __init__(self, nodes, vnodes=100):
        self.nodes = list(nodes)
        self.vnodes = vnodes
        self.ring = sl.hashing.Ring(self.nodes, vnodes=vnodes)
        self.hashes = self.ring.points.tolist()
        self.owners = [self.nodes[i] for i in self.ring.owner.tolist()]

    def lookup(self, key):
        return self.ring.lookup(key)

# %% keys-moved
def keys_moved(n, keys):
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
import bisect  # noqa: E402 - each section is a notebook cell
import math  # noqa: E402


def bounded_assign(ring, keys, c=1.25):
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
