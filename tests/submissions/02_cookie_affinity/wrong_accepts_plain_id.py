"""Wrong: instance_in also honours a cookie that is a bare instance id ("LB=i1"), e.g. "for clients that still hold the old plain cookie".

Any client can pick its instance by sending `LB=i1` (the forged cookie is honoured, then
rewritten to the signed value).  test-cookie-hidden-bad sends exactly "i1", but only checks
that the response rewrites the cookie for wherever the request went; it never checks that
the forged cookie was not obeyed.
"""
# expect: test-cookie-hidden-bad never issued
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
        if pool.is_up(value):                      # legacy plain cookie: migrate it
            return value
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
