"""Wrong: the cookie is a JWT (HS256) carrying the instance id: signed, but anyone can read it.

header.payload.signature, each part base64url: the payload {"iid": "..."} decodes with any
JWT debugger, so the cookie reveals the instance (Envoy's base64 address flaw, with a
signature added).  The opaque test looks for base64(iid) only at offset 0 of a base64 run;
inside the JSON payload the id starts mid-group, so its base64 text is different.
"""
# expect: test-cookie-hidden-opaque reveals the instance
import stickylab as sl

# %% signed-cookie
import base64
import hashlib
import hmac
import json


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SignedCookieRouter(sl.Router):
    """A JWT affinity cookie."""

    def __init__(self, secret: bytes = b"change me", cookie: str = "LB"):
        self.secret = secret
        self.cookie = cookie
        self.balance = sl.routers.RoundRobin()

    def value_for(self, instance):
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        payload = _b64(json.dumps({"iid": instance}, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}".encode()
        sig = _b64(hmac.new(self.secret, signing_input, hashlib.sha256).digest())
        return f"{header}.{payload}.{sig}"

    def instance_in(self, request, pool):
        value = request.cookies.get(self.cookie)
        if not isinstance(value, str) or value.count(".") != 2:
            return None
        header, payload, sig = value.split(".")
        want = _b64(hmac.new(self.secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(sig.encode("utf-8", "replace"), want.encode()):
            return None
        try:
            iid = json.loads(_unb64(payload))["iid"]
        except Exception:
            return None
        return iid if isinstance(iid, str) and pool.is_up(iid) else None

    def route(self, request, pool):
        iid = self.instance_in(request, pool)
        return iid if iid is not None else self.balance.route(request, pool)

    def on_response(self, request, instance, response):
        value = self.value_for(instance)
        if request.cookies.get(self.cookie) != value:
            response.set_cookie(self.cookie, value)
