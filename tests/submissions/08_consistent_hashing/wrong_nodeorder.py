"""Plausible wrong answer: a key whose node is full goes to the next node in ring.nodes, not on the ring.

The cap is respected, and keys stay home while they can, but the overflow ignores the
ring: every node's overflow lands on one neighbour in the list instead of spreading over
the nodes that follow on the circle.
"""
# expect: test-bounded-hidden clockwise
import stickylab as sl

# %% hash-ring
import bisect


class HashRing:
    def __init__(self, nodes, vnodes=100):
        self.nodes = list(nodes)
        self.vnodes = vnodes
        points = sorted((sl.hashing.stable_hash(f"{n}-{i}"), n) for n in self.nodes for i in range(vnodes))
        self.hashes = [h for h, _ in points]
        self.owners = [n for _, n in points]

    def lookup(self, key):
        i = bisect.bisect_left(self.hashes, sl.hashing.stable_hash(key))
        return self.owners[i % len(self.hashes)]

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
import math  # noqa: E402


def bounded_assign(ring, keys, c=1.25):
    keys = list(keys)
    cap = math.ceil(c * len(keys) / len(ring.nodes))
    load = {n: 0 for n in ring.nodes}
    out = {}
    for key in keys:
        start = ring.nodes.index(ring.lookup(key))
        for step in range(len(ring.nodes)):
            node = ring.nodes[(start + step) % len(ring.nodes)]
            if load[node] < cap:
                break
        load[node] += 1
        out[key] = node
    return out
