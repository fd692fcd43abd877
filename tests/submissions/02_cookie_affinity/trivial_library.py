"""Trivial: the library's own router behind a thin wrapper: every method hands over to
sl.routers.CookieInsert (its secret padded to the 16 bytes it asks for).

CookieInsert does all that the exercise asks, so only the check of what ran tells it apart.
"""
import stickylab as sl

# %% signed-cookie
class SignedCookieRouter(sl.Router):
    def __init__(self, secret: bytes = b"change me", cookie: str = "LB"):
        self.secret = secret
        self.cookie = cookie
        self.balance = sl.routers.RoundRobin()
        self.inner = sl.routers.CookieInsert(cookie, secret=secret.ljust(16, b"-"), balance=self.balance)

    def value_for(self, instance):
        return self.inner.encode(instance)

    def instance_in(self, request, pool):
        value = request.cookies.get(self.cookie)
        found = self.inner.decode(value, request.time) if value is not None else None
        return found[0] if found is not None and found[0] in pool.ids else None

    def route(self, request, pool):
        return self.inner.route(request, pool)

    def on_response(self, request, instance, response):
        self.inner.on_response(request, instance, response)
