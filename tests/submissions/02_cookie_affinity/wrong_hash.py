"""Plausible wrong answer: the cookie value is Python's hash() of the secret and the instance.

It is opaque, depends on the secret and is the same all day in one process, but hash()
is salted per process: after a restart of the balancer (or on a second balancer with
the same secret) no cookie it issued is recognised, and every user is re-picked.
"""
# expect: test-cookie-hidden-restart different python processes
import stickylab as sl

# %% signed-cookie
class SignedCookieRouter(sl.Router):
    """An affinity cookie made with the built-in hash()."""

    def __init__(self, secret: bytes = b"change me", cookie: str = "LB"):
        self.secret = secret
        self.cookie = cookie
        self.balance = sl.routers.RoundRobin()

    def value_for(self, instance):
        return "v" + str(hash((self.secret, instance))).replace("-", "n")

    def instance_in(self, request, pool):
        value = request.cookies.get(self.cookie)
        for iid in pool.ids:
            if value == self.value_for(iid):
                return iid
        return None

    def route(self, request, pool):
        iid = self.instance_in(request, pool)
        return iid if iid is not None else self.balance.route(request, pool)

    def on_response(self, request, instance, response):
        value = self.value_for(instance)
        if request.cookies.get(self.cookie) != value:
            response.set_cookie(self.cookie, value)
