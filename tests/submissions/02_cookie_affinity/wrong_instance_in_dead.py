"""Wrong per the text: instance_in returns the instance a valid MAC names even when it has failed.

route() then checks pool.is_up itself, so routing is right; but instance_in is specified to answer
the **live** instance or None for a stale cookie.
"""
# expect: test-cookie-hidden-bad stale cookie
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
        return hmac.new(self.secret, instance.encode(), hashlib.sha256).hexdigest()[:32]

    def instance_in(self, request, pool):
        value = request.cookies.get(self.cookie)
        if not isinstance(value, str):
            return None
        for iid in pool.members:
            if hmac.compare_digest(value.encode("utf-8", "replace"), self.value_for(iid).encode()):
                return iid
        return None

    def route(self, request, pool):
        iid = self.instance_in(request, pool)
        return iid if iid is not None and pool.is_up(iid) else self.balance.route(request, pool)

    def on_response(self, request, instance, response):
        value = self.value_for(instance)
        if request.cookies.get(self.cookie) != value:
            response.set_cookie(self.cookie, value)
