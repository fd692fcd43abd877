"""Plausible wrong answer: the cookie is set only when the request carries none at all.

A tampered, foreign or stale cookie (one naming a dead instance) is re-picked by
route(), but never rewritten: the client keeps sending the bad cookie and is
re-picked on every request.
"""
# expect: test-cookie-hidden-bad replace it with a valid cookie
# expect: test-cookie-hidden-drain it must set the cookie for
import stickylab as sl

# %% signed-cookie
import base64
import hashlib
import hmac


class SignedCookieRouter(sl.Router):
    """An opaque, signed affinity cookie, set only when the client lacks a valid one (HAProxy `insert`)."""

    def __init__(self, secret: bytes = b"change me", cookie: str = "LB"):
        self.secret = secret
        self.cookie = cookie
        self.balance = sl.routers.RoundRobin()

    def value_for(self, instance):
        """The cookie value naming `instance`: opaque, and only this balancer can make it."""
        secret = self.secret if isinstance(self.secret, bytes) else str(self.secret).encode("utf-8")
        mac = hmac.new(secret, ("stickylab-affinity:" + instance).encode("utf-8"), hashlib.sha256)
        token = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")
        return "v1." + token

    @staticmethod
    def _same(a, b):
        """Constant-time comparison of two cookie values (anything not a str never matches)."""
        if not isinstance(a, str) or not isinstance(b, str):
            return False
        return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))

    def _carried(self, request):
        """The request's affinity cookie value, or None."""
        value = request.cookies.get(self.cookie)
        return value if isinstance(value, str) and value else None

    def instance_in(self, request, pool):
        """The live instance the request's cookie validly names, or None."""
        carried = self._carried(request)
        if carried is None:
            return None
        for iid in pool.ids:
            if self._same(carried, self.value_for(iid)):
                return iid
        return None

    def route(self, request, pool):
        named = self.instance_in(request, pool)
        return named if named is not None else self.balance.route(request, pool)

    def on_response(self, request, instance, response):
        wanted = self.value_for(instance)
        if self._carried(request) is None:
            response.set_cookie(self.cookie, wanted)
