"""Wrong answer: crash() clears the shared store.

An instance's crash must lose only what the instance held in its own memory; here the
crash of one instance logs out every user of every instance, which is what moving the
sessions out to a shared store was meant to prevent.
"""
# expect: test-store-hidden-failover so a crash loses none
import stickylab as sl

# %% session-store
import secrets


class SessionStore:
    def __init__(self, ttl):
        self.ttl = ttl
        self.sessions = {}

    def create(self, user, now):
        sid = secrets.token_urlsafe(32)
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
        self.sessions.pop(sid, None)


class AppInstance:
    def __init__(self, name, store):
        self.name = name
        self.store = store

    def login(self, user, now):
        return self.store.create(user, now)

    def whoami(self, sid, now):
        return self.store.get(sid, now)

    def crash(self):
        self.store.sessions.clear()

# %% losses
def losses_on_failure(scenario):
    events = [sl.Fail("i1", at=scenario.duration / 2)]
    memory = sl.simulate(scenario, sl.routers.CookieInsert(), events=events)
    external = sl.simulate(scenario.replace(session_store="external"), sl.routers.CookieInsert(),
                           events=events)
    return {"memory": memory.session_loss_rate(), "external": external.session_loss_rate()}
