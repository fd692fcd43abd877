"""Wrong: with no healthy instance, route() crashes with ZeroDivisionError instead of raising sl.NoHealthyInstance.

The text asks for sl.NoHealthyInstance (a 503); the visible tests never route with an empty pool.healthy.
"""
# expect: test-header-hidden-pool raise sl.NoHealthyInstance
import stickylab as sl

# %% fallback-router
class FallbackHashRouter(sl.Router):
    def __init__(self, header="X-User-Id", cookie="SESSION"):
        self.header = header
        self.cookie = cookie

    def affinity_key(self, request):
        value = request.headers.get(self.header)
        if value:
            return "header:" + value
        value = request.cookies.get(self.cookie)
        if value:
            return "cookie:" + value
        return "ip:" + request.client_ip

    def route(self, request, pool):
        return pool.healthy[sl.hashing.stable_hash(self.affinity_key(request)) % len(pool.healthy)]
