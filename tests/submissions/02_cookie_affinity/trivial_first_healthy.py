"""Trivial: every request goes to the first healthy instance, the cookie value is the instance id
itself, and the cookie is set on every response.

Deterministic, so "the same in every Python process" holds: the restart test must also ask that
the value depends on the secret.
"""
import stickylab as sl

# %% signed-cookie
class SignedCookieRouter(sl.Router):
    def __init__(self, secret: bytes = b"change me", cookie: str = "LB"):
        self.secret = secret
        self.cookie = cookie
        self.balance = sl.routers.RoundRobin()

    def value_for(self, instance):
        return instance

    def instance_in(self, request, pool):
        value = request.cookies.get(self.cookie)
        return value if value in pool.ids else None

    def route(self, request, pool):
        return pool.healthy[0]

    def on_response(self, request, instance, response):
        response.set_cookie(self.cookie, self.value_for(instance))
