"""Wrong: the value -> instance table is cached per pool object, so in-place pool changes are missed.

Computing an HMAC per live instance on every request looks wasteful, so the table is built
once per pool (`if pool is not self._pool`).  The simulator (and any balancer) keeps ONE
Pool and calls pool.update() on a failure, a drain or a scale-out: the table then still
honours cookies for a dead instance, and never recognises a new one.  Every test builds a
fresh Pool object for each membership, so the stale cache is never seen.
"""
# expect: test-cookie-hidden-bad changed in place
import stickylab as sl

# %% signed-cookie
import hashlib
import hmac


class SignedCookieRouter(sl.Router):
    def __init__(self, secret: bytes = b"change me", cookie: str = "LB"):
        self.secret = secret
        self.cookie = cookie
        self.balance = sl.routers.RoundRobin()
        self._pool = None
        self._table = {}

    def value_for(self, instance):
        return hmac.new(self.secret, instance.encode(), hashlib.sha256).hexdigest()

    def instance_in(self, request, pool):
        if pool is not self._pool:
            self._pool = pool
            self._table = {self.value_for(iid): iid for iid in pool.ids}
        value = request.cookies.get(self.cookie)
        if not isinstance(value, str):
            return None
        return self._table.get(value)

    def route(self, request, pool):
        iid = self.instance_in(request, pool)
        return iid if iid is not None else self.balance.route(request, pool)

    def on_response(self, request, instance, response):
        value = self.value_for(instance)
        if request.cookies.get(self.cookie) != value:
            response.set_cookie(self.cookie, value)
