"""Hostile: answers with objects that claim to equal everything (the "always equal" cheat).

Tests that compare answers with == would pass them. Graded, the answers reach the tests
as the plain values they hold (a str, a float: the grader decodes what crosses from the
learner's kernel into built-in types), and those values are wrong, so every test fails.
"""
# expect: test-ring-visible lookup returned
# expect: test-ring-hidden-vnodes described ring
# expect: test-ring-hidden-fast not one of the ring's nodes
# expect: test-moved-visible mod_n: got
# expect: test-moved-hidden exact count
# expect: test-bounded-hidden fix the ring first

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
        return AlwaysEqual("nowhere")

# %% keys-moved
def keys_moved(n, keys):
    return {"ring": AlwaysClose(0.9), "mod_n": AlwaysClose(0.1)}

# %% bounded
def bounded_assign(ring, keys, c=1.25):
    return {k: AlwaysEqual("nowhere") for k in keys}
