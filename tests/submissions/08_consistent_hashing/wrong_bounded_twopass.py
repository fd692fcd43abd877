"""Plausible wrong answer: bounded loads in two passes: every key to its ring node first, then each
full node passes its excess keys on clockwise.

The cap is right (math.ceil), but the keys that move are the first ones a full node got,
not the ones that came after it filled up: a key leaves a node that held fewer than cap
keys when it came. The text: place the keys in the order given, each to its ring node
unless that node already holds cap keys.
"""
# expect: test-bounded-hidden a node below the cap keeps its key
import stickylab as sl

# %% hash-ring
import bisect


class HashRing:
    """A consistent-hashing ring with virtual nodes (ketama; nginx `hash $key consistent`)."""

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
    """Two passes: every key to its ring node, then each full node passes its excess keys on clockwise."""
    keys = list(keys)
    cap = math.ceil(c * len(keys) / len(ring.nodes))
    out = {key: ring.lookup(key) for key in keys}
    load = {n: 0 for n in ring.nodes}
    for node in out.values():
        load[node] += 1
    for key in keys:                       # keys beyond a node's cap move on
        home = out[key]
        if load[home] <= cap:
            continue
        i = bisect.bisect_left(ring.hashes, sl.hashing.stable_hash(key))
        for step in range(1, len(ring.hashes)):
            node = ring.owners[(i + step) % len(ring.hashes)]
            if load[node] < cap:
                break
        load[home] -= 1
        load[node] += 1
        out[key] = node
    return out
