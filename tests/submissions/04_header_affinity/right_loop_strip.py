"""Right: the fallback chain as a loop over (kind, lookup) pairs; whitespace-only values count as missing.
"""
import stickylab as sl

# %% fallback-router
class FallbackHashRouter(sl.Router):
    def __init__(self, header="X-User-Id", cookie="SESSION"):
        self.header = header
        self.cookie = cookie

    def affinity_key(self, request):
        chain = (("header", request.headers.get(self.header)),
                 ("cookie", request.cookies.get(self.cookie)))
        for kind, value in chain:
            if isinstance(value, str) and value.strip():
                return f"{kind}:{value}"
        return f"ip:{request.client_ip}"

    def route(self, request, pool):
        n = len(pool.healthy)
        if n == 0:
            raise sl.NoHealthyInstance("nothing healthy")
        return pool.healthy[sl.hashing.stable_hash(self.affinity_key(request)) % n]
