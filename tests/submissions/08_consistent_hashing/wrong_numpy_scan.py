"""Plausible wrong answer: lookup() scans the whole ring with numpy, np.argmax(points >= h).

O(n) per lookup (np.argmax gives 0 when no point is >= the hash, so it even wraps). Each
comparison is fast C, so on a small ring it looks as quick as a binary search, and when
graded a lookup that crosses to the learner's kernel on its own costs more than the scan.
The text: find it with a binary search (bisect.bisect_left); a ring may hold hundreds of
thousands of points.
"""
# expect: test-ring-hidden-fast scans the ring
import stickylab as sl

# %% hash-ring
import bisect

import numpy as np


class HashRing:
    """A consistent-hashing ring with virtual nodes (ketama; nginx `hash $key consistent`)."""

    def __init__(self, nodes, vnodes=100):
        self.nodes = list(nodes)
        self.vnodes = vnodes
        points = sorted((sl.hashing.stable_hash(f"{n}-{i}"), n) for n in self.nodes for i in range(vnodes))
        self.hashes = [h for h, _ in points]
        self.owners = [n for _, n in points]
        self.points = np.array(self.hashes, dtype=np.uint64)

    def lookup(self, key):
        i = int(np.argmax(self.points >= np.uint64(sl.hashing.stable_hash(key))))
        return self.owners[i]

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

