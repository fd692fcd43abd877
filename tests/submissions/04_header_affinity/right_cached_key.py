"""Right: the header is read with `in` and [] on request.headers, and route() caches its answers
keyed on (key, healthy ids), so a changed pool, or another pool, is never answered from the cache.

Differs from the solution: a cache (bounded, keyed on the membership), a membership test before
the lookup, and a module-level helper for the hash.
"""
import stickylab as sl

# %% fallback-router
def _home(key, healthy):
    return healthy[sl.hashing.stable_hash(key) % len(healthy)]


class FallbackHashRouter(sl.Router):
    def __init__(self, header="X-User-Id", cookie="SESSION"):
        self.header = header
        self.cookie = cookie
        self._cache = {}

    def affinity_key(self, request):
        if self.header in request.headers and request.headers[self.header] != "":
            return "header:" + request.headers[self.header]
        if request.cookies.get(self.cookie, "") != "":
            return "cookie:" + request.cookies[self.cookie]
        return "ip:" + request.client_ip

    def route(self, request, pool):
        healthy = tuple(pool.healthy)
        if not healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        entry = (self.affinity_key(request), healthy)
        if entry not in self._cache:
            if len(self._cache) >= 50_000:
                self._cache.clear()
            self._cache[entry] = _home(entry[0], healthy)
        return self._cache[entry]
