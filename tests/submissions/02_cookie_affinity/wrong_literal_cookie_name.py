"""Wrong: the cookie name is the literal "LB", not self.cookie (the constructor's `cookie` is ignored).

Two balancers configured with different cookie names (or an app cookie already called LB) clash.
"""
# expect: test-cookie-hidden-when named self.cookie
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
        value = request.cookies.get("LB")
        if not isinstance(value, str):
            return None
        for iid in pool.ids:
            if hmac.compare_digest(value.encode(), self.value_for(iid).encode()):
                return iid
        return None

    def route(self, request, pool):
        iid = self.instance_in(request, pool)
        return iid if iid is not None else self.balance.route(request, pool)

    def on_response(self, request, instance, response):
        value = self.value_for(instance)
        if request.cookies.get("LB") != value:
            response.set_cookie("LB", value)
