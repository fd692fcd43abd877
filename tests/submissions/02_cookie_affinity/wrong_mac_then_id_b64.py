"""Wrong: the cookie is base64url(HMAC || instance id): signed, but the id is one decode away.

"Encode it so nobody can read it": base64 is an encoding, not encryption.  The 32-byte MAC in
front shifts the id off the 3-byte grid, so base64(id) is not a substring and the opaque test
misses it.
"""
# expect: test-cookie-hidden-opaque reveals the instance
import stickylab as sl

# %% signed-cookie
import base64
import hashlib
import hmac


class SignedCookieRouter(sl.Router):
    def __init__(self, secret: bytes = b"change me", cookie: str = "LB"):
        self.secret = secret
        self.cookie = cookie
        self.balance = sl.routers.RoundRobin()

    def value_for(self, instance):
        mac = hmac.new(self.secret, instance.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac + instance.encode()).decode("ascii")

    def instance_in(self, request, pool):
        value = request.cookies.get(self.cookie)
        if not isinstance(value, str):
            return None
        for iid in pool.ids:
            if hmac.compare_digest(value.encode("utf-8", "replace"), self.value_for(iid).encode()):
                return iid
        return None

    def route(self, request, pool):
        iid = self.instance_in(request, pool)
        return iid if iid is not None else self.balance.route(request, pool)

    def on_response(self, request, instance, response):
        value = self.value_for(instance)
        if request.cookies.get(self.cookie) != value:
            response.set_cookie(self.cookie, value)
