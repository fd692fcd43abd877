"""Trivial: every request goes to the first healthy instance (a 503 when there is none), and the
key is the header's value alone, whatever the request carries.

Sticky to a fault: a user always lands on one instance, because everybody does.
"""
import stickylab as sl

# %% fallback-router
class FallbackHashRouter(sl.Router):
    def __init__(self, header="X-User-Id", cookie="SESSION"):
        self.header = header
        self.cookie = cookie

    def affinity_key(self, request):
        return "header:" + (request.headers.get(self.header) or "")

    def route(self, request, pool):
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        return pool.healthy[0]
