"""Plausible wrong answer: a cookie is honoured for any configured instance, failed ones included.

The cookie is checked against pool.members (every configured instance) instead of
pool.ids (the live ones): a user whose instance has failed keeps being sent to it.
"""
# expect: test-cookie-hidden-bad or None for a stale cookie
# expect: test-cookie-hidden-drain is not up
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
        return hmac.new(self.secret, instance.encode(), hashlib.sha256).hexdigest()[:24]

    def instance_in(self, request, pool):
        value = request.cookies.get(self.cookie)
        if not isinstance(value, str):
            return None
        for iid in pool.members:
            if hmac.compare_digest(value.encode(), self.value_for(iid).encode()):
                return iid
        return None

    def route(self, request, pool):
        iid = self.instance_in(request, pool)
        return iid if iid is not None else self.balance.route(request, pool)

    def on_response(self, request, instance, response):
        value = self.value_for(instance)
        if request.cookies.get(self.cookie) != value:
            response.set_cookie(self.cookie, value)
