"""Trivial: a constant router: every request goes to "i0", every cookie value is one fixed token,
and instance_in never recognises anything.

The client comes back to "i0" every time and the cookie is set only when it differs, so the
tests must also ask that new clients spread and that each instance has a value of its own.
"""
import stickylab as sl

# %% signed-cookie
class SignedCookieRouter(sl.Router):
    def __init__(self, secret: bytes = b"change me", cookie: str = "LB"):
        self.secret = secret
        self.cookie = cookie
        self.balance = sl.routers.RoundRobin()

    def value_for(self, instance):
        return "0f1e2d3c4b5a69788796a5b4"

    def instance_in(self, request, pool):
        return None

    def route(self, request, pool):
        return "i0"

    def on_response(self, request, instance, response):
        if request.cookies.get(self.cookie) != self.value_for(instance):
            response.set_cookie(self.cookie, self.value_for(instance))
