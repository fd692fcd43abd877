"""Wrong: the affinity cookie is readable by page scripts and sent cross-site (no HttpOnly, SameSite=None, no Secure).

set_cookie(..., http_only=False, same_site="None"): any XSS can read and exfiltrate it, it
rides along on cross-site requests, and browsers reject SameSite=None without Secure
altogether, so in a real browser the client never keeps the cookie.  No test looks at the
cookie's attributes.
"""
# expect: test-cookie-hidden-when HttpOnly
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
        return hmac.new(self.secret, instance.encode(), hashlib.sha256).hexdigest()

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
            # "so the front-end can read which server it is on"
            response.set_cookie(self.cookie, value, http_only=False, same_site="None")
