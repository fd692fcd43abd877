"""Wrong: the instance id is "encrypted" by XOR with a keystream derived from the secret (no MAC).

Opaque (no decoding shows the id), keyed, 128 bits long, stable across processes; but XOR is
malleable: a client holding the cookie for i1 flips the bits of "1" into "2" and gets a cookie
for i2 that instance_in accepts. Only this balancer should be able to produce a valid value.
"""
# expect: test-cookie-hidden-bad malleable
import stickylab as sl

# %% signed-cookie
import hashlib
import hmac


class SignedCookieRouter(sl.Router):
    def __init__(self, secret: bytes = b"change me", cookie: str = "LB"):
        self.secret = secret
        self.cookie = cookie
        self.balance = sl.routers.RoundRobin()

    def _pad(self, n):
        return hmac.new(self.secret, b"pad", hashlib.sha256).digest()[:n]

    def value_for(self, instance):
        plain = instance.encode().ljust(16, b"\0")[:32]
        if len(plain) > 16:
            plain = plain.ljust(32, b"\0")
        return bytes(a ^ b for a, b in zip(plain, self._pad(len(plain)))).hex()

    def instance_in(self, request, pool):
        value = request.cookies.get(self.cookie)
        if not isinstance(value, str) or len(value) not in (32, 64):
            return None
        try:
            data = bytes.fromhex(value)
        except ValueError:
            return None
        plain = bytes(a ^ b for a, b in zip(data, self._pad(len(data)))).rstrip(b"\0")
        try:
            iid = plain.decode()
        except UnicodeDecodeError:
            return None
        return iid if pool.is_up(iid) and self.value_for(iid) == value else None

    def route(self, request, pool):
        iid = self.instance_in(request, pool)
        return iid if iid is not None else self.balance.route(request, pool)

    def on_response(self, request, instance, response):
        value = self.value_for(instance)
        if request.cookies.get(self.cookie) != value:
            response.set_cookie(self.cookie, value)


