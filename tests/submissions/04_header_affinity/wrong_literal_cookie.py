"""Wrong: affinity_key reads the cookie "SESSION" by its literal name, ignoring self.cookie.

The header name is taken from self.header; the cookie name given to the constructor is
ignored, so FallbackHashRouter(cookie="sid") never hashes the sid cookie (and hashes a
SESSION cookie it was not asked about). A custom-name case that always sends the header
does not see it.
"""
# expect: test-header-hidden-order (self.header, self.cookie)
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
        value = request.cookies.get("SESSION")
        if value:
            return "cookie:" + value
        return "ip:" + request.client_ip

    def route(self, request, pool):
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        return pool.healthy[sl.hashing.stable_hash(self.affinity_key(request)) % len(pool.healthy)]
