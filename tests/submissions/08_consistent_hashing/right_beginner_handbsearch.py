"""Right (beginner): list of (hash, node) tuples, a hand-written binary search (first point >= h), plain loops and counters."""
import stickylab as sl

# %% hash-ring
class HashRing:
    def __init__(self, nodes, vnodes=100):
        self.nodes = list(nodes)
        self.vnodes = vnodes
        self.points = []
        for n in self.nodes:
            for i in range(vnodes):
                self.points.append((sl.hashing.stable_hash(f"{n}-{i}"), n))
        self.points.sort()

    def find(self, h):
        """Index of the first point whose hash is >= h (len(points) if none)."""
        low = 0
        high = len(self.points)
        while low < high:
            middle = (low + high) // 2
            if self.points[middle][0] < h:
                low = middle + 1
            else:
                high = middle
        return low

    def lookup(self, key):
        index = self.find(sl.hashing.stable_hash(key))
        if index == len(self.points):
            index = 0
        return self.points[index][1]

# %% keys-moved
def keys_moved(n, keys):
    old_nodes = []
    for k in range(n):
        old_nodes.append("i" + str(k))
    new_nodes = old_nodes + ["i" + str(n)]
    old_ring = HashRing(old_nodes)
    new_ring = HashRing(new_nodes)
    ring_count = 0
    mod_count = 0
    for key in keys:
        if old_ring.lookup(key) != new_ring.lookup(key):
            ring_count += 1
        h = sl.hashing.stable_hash(key)
        if old_nodes[h % len(old_nodes)] != new_nodes[h % len(new_nodes)]:
            mod_count += 1
    return {"ring": ring_count / len(keys), "mod_n": mod_count / len(keys)}

# %% bounded
import math


def bounded_assign(ring, keys, c=1.25):
    cap = math.ceil(c * len(keys) / len(ring.nodes))
    load = {}
    for node in ring.nodes:
        load[node] = 0
    result = {}
    for key in keys:
        index = ring.find(sl.hashing.stable_hash(key))
        tries = 0
        while tries < len(ring.points):
            node = ring.points[(index + tries) % len(ring.points)][1]
            if load[node] < cap:
                break
            tries += 1
        load[node] += 1
        result[key] = node
    return result
