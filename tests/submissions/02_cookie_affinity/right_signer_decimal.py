"""Right (class-heavy): a Signer helper class; value is decimal of the first 8 HMAC-SHA512 bytes, zero-padded to 20 digits; blake2b fallback none."""
import stickylab as sl

# %% signed-cookie
import hashlib
import hmac


class Signer:
    def __init__(self, key):
        self.key = key if isinstance(key, bytes) else str(key).encode()

    def sign(self, text):
        digest = hmac.new(self.key, b"affinity|" + text.encode(), hashlib.sha512).digest()
        return "%020d" % int.from_bytes(digest[:8], "big")

    def verify(self, token, text):
        return isinstance(token, str) and hmac.compare_digest(
            token.encode("utf-8", "replace"), self.sign(text).encode())


class SignedCookieRouter(sl.Router):
    def __init__(self, secret: bytes = b"change me", cookie: str = "LB"):
        self.secret = secret
        self.cookie = cookie
        self.balance = sl.routers.RoundRobin()

    def value_for(self, instance):
        return Signer(self.secret).sign(instance)

    def instance_in(self, request, pool):
        token = request.cookies.get(self.cookie)
        signer = Signer(self.secret)
        matches = [iid for iid in pool.ids if signer.verify(token, iid)]
        return matches[0] if matches else None

    def route(self, request, pool):
        return self.instance_in(request, pool) or self.balance.route(request, pool)

    def on_response(self, request, instance, response):
        wanted = self.value_for(instance)
        if request.cookies.get(self.cookie) == wanted:
            return
        response.set_cookie(self.cookie, wanted)
