"""No work: HashRing is stickylab's sl.hashing.Ring under another name.

It answers exactly as described (sl.hashing.Ring is the reference), but the exercise is
to build the ring: the library's code runs under the learner's name, and every test
cell sees it.
"""
# expect: test-ring-visible sl.hashing.Ring
# expect: test-ring-hidden-vnodes stickylab.hashing.Ring
import stickylab as sl

# %% hash-ring
class HashRing(sl.hashing.Ring):
    def __init__(self, nodes, vnodes=100):
        super().__init__(nodes, vnodes=vnodes)
        self.hashes = self.points.tolist()
        self.owners = [self.nodes[i] for i in self.owner.tolist()]

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
