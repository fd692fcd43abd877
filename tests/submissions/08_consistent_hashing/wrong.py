"""Plausible wrong answer: one point per node whatever vnodes says, and a linear scan.

Passes the visible tests: removing a node still moves only its keys.
"""
# expect: test-ring-hidden-vnodes put vnodes points per node
# expect: test-ring-hidden-fast scans the ring
# expect: test-bounded-hidden fix the ring first
import stickylab as sl

# %% hash-ring
class HashRing:
    def __init__(self, nodes, vnodes=100):
        self.nodes = list(nodes)
        self.vnodes = vnodes
        self.points = sorted((sl.hashing.stable_hash(f"{n}-0"), n) for n in self.nodes)
        self.hashes = [h for h, _ in self.points]
        self.owners = [n for _, n in self.points]

    def lookup(self, key):
        h = sl.hashing.stable_hash(key)
        for point, node in self.points:
            if point >= h:
                return node
        return self.points[0][1]

# %% keys-moved
def keys_moved(n, keys):
    before = [f"i{k}" for k in range(n)]
    after = before + [f"i{n}"]
    keys = list(keys)
    ring_a, ring_b = HashRing(before), HashRing(after)
    return {
        "ring": sum(ring_a.lookup(k) != ring_b.lookup(k) for k in keys) / len(keys),
        "mod_n": sum(before[sl.hashing.stable_hash(k) % n] != after[sl.hashing.stable_hash(k) % (n + 1)]
                     for k in keys) / len(keys),
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
