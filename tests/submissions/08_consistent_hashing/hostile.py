"""Hostile: answers with an object that claims to equal everything (the "always equal" cheat).

Tests that compare answers with == would pass it; the tests check the answer's exact type.
"""
# expect: test-ring-visible plain str
# expect: test-ring-hidden-vnodes plain str
# expect: test-ring-hidden-fast plain str
# expect: test-moved-visible plain float
# expect: test-moved-hidden plain float
# expect: test-bounded-hidden plain str

# %% hash-ring
class AlwaysEqual(str):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __lt__(self, other):
        return True

    def __gt__(self, other):
        return True

    def __hash__(self):
        return 0


class AlwaysClose(float):
    def __sub__(self, other):
        return 0.0

    def __lt__(self, other):
        return True

    def __gt__(self, other):
        return True


class HashRing:
    def __init__(self, nodes, vnodes=100):
        self.nodes = list(nodes)

    def lookup(self, key):
        return AlwaysEqual("i0")

# %% keys-moved
def keys_moved(n, keys):
    return {"ring": AlwaysClose(0.2), "mod_n": AlwaysClose(0.8)}

# %% bounded
def bounded_assign(ring, keys, c=1.25):
    return {k: AlwaysEqual("i0") for k in keys}
