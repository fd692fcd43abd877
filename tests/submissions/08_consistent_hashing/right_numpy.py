"""Right answer: the ring's points and owners in numpy arrays, binary-searched with np.searchsorted.

lookup() returns an element of a numpy array of str: a numpy.str_, a subclass of str.
"""
import stickylab as sl

# %% hash-ring
import bisect

import numpy as np


class HashRing:
    """A consistent-hashing ring with virtual nodes, its points in numpy arrays."""

    def __init__(self, nodes, vnodes=100):
        self.nodes = list(nodes)
        self.vnodes = vnodes
        pairs = sorted((sl.hashing.stable_hash(f"{n}-{i}"), n) for n in self.nodes for i in range(vnodes))
        self.points = np.array([h for h, _ in pairs], dtype=np.uint64)   # sorted hash values
        self.owners = np.array([n for _, n in pairs])                    # owner of each point

    def slot(self, key):
        """The index of the key's point: the first point >= its hash, wrapping to 0."""
        return int(np.searchsorted(self.points, np.uint64(sl.hashing.stable_hash(key)), side="left")) % len(self.points)

    def lookup(self, key):
        return self.owners[self.slot(key)]

# %% keys-moved
def keys_moved(n, keys):
    """Share of keys that move when node i{n} joins i0..i{n-1}: ring versus mod-N."""
    before_nodes = [f"i{k}" for k in range(n)]
    after_nodes = before_nodes + [f"i{n}"]
    keys = list(keys)
    total = len(keys)

    def mod_n(nodes):
        return [nodes[sl.hashing.stable_hash(k) % len(nodes)] for k in keys]

    small, big = HashRing(before_nodes), HashRing(after_nodes)
    ring_moves = sum(a != b for a, b in zip((small.lookup(k) for k in keys), (big.lookup(k) for k in keys)))
    mod_moves = sum(a != b for a, b in zip(mod_n(before_nodes), mod_n(after_nodes)))
    if total == 0:
        return {"ring": 0.0, "mod_n": 0.0}
    return {"ring": ring_moves / total, "mod_n": mod_moves / total}

# %% bounded
import math
from collections import Counter


def bounded_assign(ring, keys, c=1.25):
    """Assign keys in order, each to its ring node or the next one clockwise with room."""
    keys = list(keys)
    cap = math.ceil(c * len(keys) / len(ring.nodes))
    held = Counter()
    placed = {}
    npoints = len(ring.points)
    for key in keys:
        start = ring.slot(key)
        for step in range(npoints):
            node = ring.owners[(start + step) % npoints]
            if held[node] < cap:
                break
        held[node] += 1
        placed[key] = node
    return placed
