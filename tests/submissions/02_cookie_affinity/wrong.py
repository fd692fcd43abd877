"""Plausible wrong answer: the instance id in base64 as the cookie, set on every response.

It also trusts any cookie that decodes (a crash on garbage, a dead instance kept).
Passes the visible tests.
"""
# expect: test-cookie-hidden-when set the cookie only when
# expect: test-cookie-hidden-bad Incorrect padding
# expect: test-cookie-hidden-drain route() raised
# expect: test-cookie-hidden-opaque reveals the instance
# expect: test-cookie-hidden-restart under two different secrets
import stickylab as sl

# %% signed-cookie
import base64


class SignedCookieRouter(sl.Router):
    def __init__(self, secret: bytes = b"change me", cookie: str = "LB"):
        self.secret = secret
        self.cookie = cookie
        self.balance = sl.routers.RoundRobin()

    def value_for(self, instance):
        return base64.b64encode(instance.encode()).decode()

    def instance_in(self, request, pool):
        value = request.cookies.get(self.cookie)
        if value is None:
            return None
        return base64.b64decode(value.encode(), validate=True).decode()

    def route(self, request, pool):
        iid = self.instance_in(request, pool)
        return iid if iid is not None else self.balance.route(request, pool)

    def on_response(self, request, instance, response):
        response.set_cookie(self.cookie, self.value_for(instance))
