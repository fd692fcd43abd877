"""Wrong answer: get() slides the expiry before it checks it, so an expired session comes back.

A request with an expired session is answered None, but it has already refreshed the
session's last use: the next request, a moment later, finds the session alive again. Idle
expiry never ends a session that someone keeps knocking on (a stolen id retried twice
works), and the visible and hidden tests never ask twice after an expiry.
"""
# expect: test-store-hidden-expiry expired
import stickylab as sl

# %% session-store
import secrets


class SessionStore:
    """Sessions shared by every instance, with sliding expiry (a stand-in for Redis)."""

    def __init__(self, ttl):
        self.ttl = ttl
        self.sessions = {}   # sid -> (user, last use)

    def create(self, user, now):
        sid = secrets.token_urlsafe(18)
        self.sessions[sid] = (user, now)
        return sid

    def get(self, sid, now):
        entry = self.sessions.get(sid)
        if entry is None:
            return None
        user, last = entry
        self.sessions[sid] = (user, now)      # every use slides the expiry
        if now - last > self.ttl:
            return None
        return user

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
        pass   # nothing of value lives here

# %% losses
def losses_on_failure(scenario):
    """Session loss rate when i1 fails half-way, with in-memory and with external sessions."""
    events = [sl.Fail("i1", at=scenario.duration / 2)]
    memory = sl.simulate(scenario, sl.routers.CookieInsert(), events=events)
    external = sl.simulate(scenario.replace(session_store="external"), sl.routers.CookieInsert(),
                           events=events)
    return {"memory": memory.session_loss_rate(), "external": external.session_loss_rate()}
