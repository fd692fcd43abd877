"""Right: self.balance is asked on every request (its pick is used only without a valid cookie),
the value is the HMAC-SHA256 digest in urlsafe base64 cut to 16 characters (96 bits), and
on_response decides with instance_in.

Differs from the solution: the round-robin turn also moves for clients that keep their
instance, so new clients do not take consecutive turns; base64 instead of hex; the membership
check goes through instance_in and a pool built from the instance alone.
"""
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
        digest = hmac.new(self.secret, instance.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii")[:16]

    def instance_in(self, request, pool):
        value = request.cookies.get(self.cookie)
        if type(value) is not str or len(value) != 16:
            return None
        matches = [iid for iid in pool.ids if hmac.compare_digest(value, self.value_for(iid))]
        return matches[0] if matches else None

    def route(self, request, pool):
        held = self.instance_in(request, pool)
        try:
            pick = self.balance.route(request, pool)
        except sl.NoHealthyInstance:
            if held is None:
                raise
            pick = None
        return held if held is not None else pick

    def on_response(self, request, instance, response):
        if self.instance_in(request, sl.Pool(healthy=[instance])) != instance:
            response.set_cookie(self.cookie, self.value_for(instance), same_site="Strict")
