"""Plausible wrong answer: the cookie is tried before the header, and an empty header counts.

Passes the visible tests, which never send both, nor an empty value. Nor does route() check
for an empty pool.healthy: with nothing healthy it crashes (ZeroDivisionError) instead of
raising sl.NoHealthyInstance.
"""
# expect: test-header-hidden-order try the header, then the cookie
# expect: test-header-hidden-pool raise sl.NoHealthyInstance
import stickylab as sl

# %% fallback-router
class FallbackHashRouter(sl.Router):
    def __init__(self, header="X-User-Id", cookie="SESSION"):
        self.header = header
        self.cookie = cookie

    def affinity_key(self, request):
        if self.cookie in request.cookies:
            return "cookie:" + request.cookies[self.cookie]
        if request.headers.get(self.header) is not None:
            return "header:" + request.headers.get(self.header)
        return "ip:" + request.client_ip

    def route(self, request, pool):
        return pool.healthy[sl.hashing.stable_hash(self.affinity_key(request)) % len(pool.healthy)]
