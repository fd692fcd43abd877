"""Trivial: a constant router: every request goes to "i0", and the key is always the address.

"i0" is a live instance of every pool the visible test uses, and one user from twenty
addresses lands on one instance: the tests must also ask that different users spread.
"""
import stickylab as sl

# %% fallback-router
class FallbackHashRouter(sl.Router):
    def __init__(self, header="X-User-Id", cookie="SESSION"):
        self.header = header
        self.cookie = cookie

    def affinity_key(self, request):
        return "ip:" + request.client_ip

    def route(self, request, pool):
        return "i0"
