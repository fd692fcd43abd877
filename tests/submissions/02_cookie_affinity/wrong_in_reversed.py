"""Wrong: the cookie check is `value in self.value_for(iid)` (containment the wrong way round).

Any substring of a valid value is accepted: a one-character cookie ("a", or even an empty
one) pins the client to some instance, so cookies are trivially forged.  The bad-cookie test
only checks that the response rewrites the cookie, and the route it took is a legal one.
"""
# expect: test-cookie-hidden-bad never issued
import stickylab as sl

# %% signed-cookie
import hashlib
import hmac


class SignedCookieRouter(sl.Router):
    def __init__(self, secret: bytes = b"change me", cookie: str = "LB"):
        self.secret = secret
        self.cookie = cookie
        self.balance = sl.routers.RoundRobin()

    def value_for(self, instance):
        return hmac.new(self.secret, instance.encode(), hashlib.sha256).hexdigest()

    def instance_in(self, request, pool):
        value = request.cookies.get(self.cookie)
        if value is None:
            return None
        for iid in pool.ids:
            if value in self.value_for(iid):
                return iid
        return None

    def route(self, request, pool):
        iid = self.instance_in(request, pool)
        return iid if iid is not None else self.balance.route(request, pool)

    def on_response(self, request, instance, response):
        value = self.value_for(instance)
        if request.cookies.get(self.cookie) != value:
            response.set_cookie(self.cookie, value)
