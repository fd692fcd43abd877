"""Plausible wrong answer: the sessions live in a class attribute, shared by every SessionStore.

Two stores (two applications) see each other's sessions.
"""
# expect: test-store-hidden-ids class attribute
import stickylab as sl

# %% session-store
import secrets


class SessionStore:
    """Sessions shared by every instance, with sliding expiry (a stand-in for Redis)."""

    sessions = {}

    def __init__(self, ttl):
        self.ttl = ttl

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

    def login(self, user, now):
        return self.store.create(user, now)

    def whoami(self, sid, now):
        return self.store.get(sid, now)

    def crash(self):
        pass

# %% losses
def losses_on_failure(scenario):
    """Session loss rate when i1 fails half-way, with in-memory and with external sessions."""
    rates = {}
    for label, sc in {"memory": scenario, "external": scenario.replace(session_store="external")}.items():
        result = sl.simulate(sc, sl.routers.CookieInsert(), events=[sl.Fail("i1", at=sc.duration / 2)])
        rates[label] = result.session_loss_rate()
    return rates
