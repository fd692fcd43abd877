"""Right answer: ids are str(int.from_bytes(os.urandom(16), "big")): 128 bits from the OS's secure generator, written in decimal.

Differs from the obvious answer only in how the 16 random bytes are spelled: as a
decimal number (about 39 digits) instead of base64 or hex. Unguessable, unique, a str.
"""
import stickylab as sl

# %% session-store
import os


class SessionStore:
    def __init__(self, ttl):
        self.ttl = ttl
        self.sessions = {}

    def create(self, user, now):
        sid = str(int.from_bytes(os.urandom(16), "big"))
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
        pass

# %% losses
def losses_on_failure(scenario):
    events = [sl.Fail("i1", at=scenario.duration / 2)]
    memory = sl.simulate(scenario, sl.routers.CookieInsert(), events=events)
    external = sl.simulate(scenario.replace(session_store="external"), sl.routers.CookieInsert(),
                           events=events)
    return {"memory": memory.session_loss_rate(), "external": external.session_loss_rate()}
