"""Wrong: one session per user: a second login of the same user silently ends the first (the first device is logged out), though nobody deleted it and it has not expired."""
# expect: test-store-hidden-expiry two sessions
import stickylab as sl

# %% session-store
import secrets


class SessionStore:
    def __init__(self, ttl):
        self.ttl = ttl
        self.sessions = {}   # sid -> (user, last use)
        self.current = {}    # user -> their one sid

    def create(self, user, now):
        old = self.current.pop(user, None)
        if old is not None:
            self.sessions.pop(old, None)
        sid = secrets.token_urlsafe(18)
        self.sessions[sid] = (user, now)
        self.current[user] = sid
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
        entry = self.sessions.pop(sid, None)
        if entry is not None and self.current.get(entry[0]) == sid:
            del self.current[entry[0]]


class AppInstance:
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
    events = [sl.Fail("i1", at=scenario.duration / 2)]
    memory = sl.simulate(scenario, sl.routers.CookieInsert(), events=events)
    external = sl.simulate(scenario.replace(session_store="external"), sl.routers.CookieInsert(), events=events)
    return {"memory": memory.session_loss_rate(), "external": external.session_loss_rate()}
