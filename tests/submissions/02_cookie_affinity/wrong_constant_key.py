"""Plausible wrong answer: the HMAC key is a constant, not self.secret.

Opaque, stable across restarts, but anyone with the code can make a valid cookie, and
another secret gives the same values.
"""
# expect: test-cookie-hidden-bad never issued
# expect: test-cookie-hidden-opaque does not depend on the secret
# expect: test-cookie-hidden-restart under two different secrets
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
        mac = hmac.new(b"stickylab-cookie-key", instance.encode("utf-8"), hashlib.sha256)
        return mac.hexdigest()

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
        if not self._same(self._carried(request), wanted):
            response.set_cookie(self.cookie, wanted)
