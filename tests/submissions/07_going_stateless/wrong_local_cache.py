"""Plausible wrong answer: each AppInstance caches sid -> user in its own memory and answers from it first.

The instance keeps state of its own: a session logged out (or expired) in the store is
still recognised by the instance that cached it. The text: an application instance that
keeps **nothing** of its own.
"""
# expect: test-store-hidden-failover keep nothing of your own
import stickylab as sl

# %% session-store
import secrets


class SessionStore:
    """Sessions shared by every instance, with sliding expiry (a stand-in for Redis)."""

    def __init__(self, ttl):
        self.ttl = ttl
        self.sessions = {}          # sid -> [user, last_use]

    def create(self, user, now):
        sid = secrets.token_urlsafe(32)
        self.sessions[sid] = [user, now]
        return sid

    def get(self, sid, now):
        entry = self.sessions.get(sid)
        if entry is None:
            return None
        if now - entry[1] > self.ttl:
            del self.sessions[sid]
            return None
        entry[1] = now
        return entry[0]

    def delete(self, sid):
        self.sessions.pop(sid, None)


class AppInstance:
    """An application instance that keeps its sessions in the shared store, not in memory."""

    def __init__(self, name, store):
        self.name = name
        self.store = store
        self.cache = {}

    def login(self, user, now):
        sid = self.store.create(user, now)
        self.cache[sid] = user
        return sid

    def whoami(self, sid, now):
        if sid in self.cache:
            return self.cache[sid]
        user = self.store.get(sid, now)
        if user is not None:
            self.cache[sid] = user
        return user

    def crash(self):
        self.cache.clear()

# %% losses
def losses_on_failure(scenario):
    """Session loss rate when i1 fails half-way, with in-memory and with external sessions."""
    rates = {}
    for label, sc in {"memory": scenario, "external": scenario.replace(session_store="external")}.items():
        result = sl.simulate(sc, sl.routers.CookieInsert(), events=[sl.Fail("i1", at=sc.duration / 2)])
        rates[label] = result.session_loss_rate()
    return rates
