"""Plausible wrong answer: the modulo uses len(pool.ids) while indexing pool.healthy.

With an instance draining, some keys index past the end (IndexError) or skew onto the first instances.
"""
# expect: test-header-hidden-pool it belongs on
import stickylab as sl

# %% fallback-router
class FallbackHashRouter(sl.Router):
    """A fallback chain of hash keys: a header, then a cookie, then the source address.

    Envoy expresses it as a header and a cookie hash policy, both ``terminal: true``,
    followed by a source-IP policy (without ``terminal`` Envoy combines every policy).
    """

    def __init__(self, header="X-User-Id", cookie="SESSION"):
        self.header = header
        self.cookie = cookie

    def _policies(self):
        """The hash policies in order: (key prefix, function of the request giving a value or None)."""
        return (
            ("header", lambda r: r.headers.get(self.header)),
            ("cookie", lambda r: r.cookies.get(self.cookie)),
            ("ip", lambda r: r.client_ip),
        )

    def affinity_key(self, request):
        """The first key the request yields: header, cookie, or address."""
        for prefix, extract in self._policies():
            value = extract(request)
            if value:                         # None and "" both mean "absent": try the next policy
                return f"{prefix}:{value}"
        return f"ip:{request.client_ip}"      # only reached for an empty address

    def route(self, request, pool):
        live = pool.healthy
        if not live:
            raise sl.NoHealthyInstance("no healthy instance")
        h = sl.hashing.stable_hash(self.affinity_key(request))
        return live[h % len(pool.ids) % len(live)]
