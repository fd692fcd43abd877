"""Wrong: the cookie name is matched ignoring case, as if cookies were headers.

Header names ignore case, but RFC 6265 cookie names are case-sensitive: a cookie "session"
(another application's, or a client's own) is taken for the SESSION cookie.
"""
# expect: test-header-hidden-order cookie names are case-sensitive
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
        cookies = {k.lower(): v for k, v in request.cookies.items()}
        value = cookies.get(self.cookie.lower())
        if value:
            return "cookie:" + value
        return "ip:" + request.client_ip

    def route(self, request, pool):
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        return pool.healthy[sl.hashing.stable_hash(self.affinity_key(request)) % len(pool.healthy)]
