"""Right: EAFP lookups (request.headers[...] in try/except KeyError), key built with str.format, a route() via a helper."""
import stickylab as sl

# %% fallback-router
from stickylab.hashing import stable_hash


class FallbackHashRouter(sl.Router):
    def __init__(self, header="X-User-Id", cookie="SESSION"):
        self.header = header
        self.cookie = cookie

    def _lookup(self, mapping, name):
        try:
            return mapping[name] or None
        except KeyError:
            return None

    def affinity_key(self, request):
        h = self._lookup(request.headers, self.header)
        if h is not None:
            return "header:{}".format(h)
        c = self._lookup(request.cookies, self.cookie)
        if c is not None:
            return "cookie:{}".format(c)
        return "ip:{}".format(request.client_ip)

    def route(self, request, pool):
        try:
            return pool.healthy[stable_hash(self.affinity_key(request)) % len(pool.healthy)]
        except ZeroDivisionError:
            raise sl.NoHealthyInstance("nothing to pick") from None
