"""Plausible wrong answer: new clients are spread by address over pool.ids, draining instances included.

Instead of `self.balance`, a client without a valid cookie is placed by a hash of its
address over every live instance, so a draining instance keeps getting new users.
"""
# expect: test-cookie-hidden-drain is draining
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
        for iid in pool.ids:
            if hmac.compare_digest(value.encode(), self.value_for(iid).encode()):
                return iid
        return None

    def route(self, request, pool):
        iid = self.instance_in(request, pool)
        if iid is not None:
            return iid
        return pool.ids[sl.hashing.stable_hash(request.client_ip) % len(pool.ids)]

    def on_response(self, request, instance, response):
        value = self.value_for(instance)
        if request.cookies.get(self.cookie) != value:
            response.set_cookie(self.cookie, value)
