"""Plausible wrong answer: delete() backdates the session to t=0 instead of removing it.

A session dated t=0 looks expired once the ttl has passed since the start, so every
logout checked late enough seems to work; within the ttl of t=0, the "deleted" session is
alive, and anyone holding its id is still logged in.
"""
# expect: test-store-hidden-expiry must remove the session from the store
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
        if now - last > self.ttl:
            del self.sessions[sid]
            return None
        self.sessions[sid] = (user, now)
        return user

    def delete(self, sid):
        if sid in self.sessions:        # logged out: dated back to the start, so long expired
            self.sessions[sid] = (self.sessions[sid][0], 0)


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
