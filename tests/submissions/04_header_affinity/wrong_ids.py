"""Plausible wrong answer: the hash picks among pool.ids, so a draining instance still gets new clients.

With nothing draining, pool.ids is pool.healthy and every visible test passes.
"""
# expect: test-header-hidden-pool is draining
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
        if not pool.ids:
            raise sl.NoHealthyInstance("no instance")
        return pool.ids[sl.hashing.stable_hash(self.affinity_key(request)) % len(pool.ids)]
