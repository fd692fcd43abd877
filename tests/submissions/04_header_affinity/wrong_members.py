"""Plausible wrong answer: the hash picks among pool.members, so a failed instance still gets requests.

pool.members lists every configured instance, failed ones included; with nothing failed
it is pool.healthy and every visible test passes.
"""
# expect: test-header-hidden-pool healthy instances only
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
        if not pool.members:
            raise sl.NoHealthyInstance("no instance")
        return pool.members[sl.hashing.stable_hash(self.affinity_key(request)) % len(pool.members)]
