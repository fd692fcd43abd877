"""Trivial: the library's own router behind a thin wrapper: route() hands the key to
sl.routers.HeaderHash (in a header of its own, so the library hashes the whole key), and
affinity_key reads the header only.
"""
import stickylab as sl

# %% fallback-router
class FallbackHashRouter(sl.Router):
    def __init__(self, header="X-User-Id", cookie="SESSION"):
        self.header = header
        self.cookie = cookie
        self.inner = sl.routers.HeaderHash("X-Key")

    def affinity_key(self, request):
        return "header:" + (request.headers.get(self.header) or "")

    def route(self, request, pool):
        keyed = sl.Request(request.client_ip, headers={"X-Key": self.affinity_key(request)})
        return self.inner.route(keyed, pool)
