"""Wrong answer: the ids are a counter written as 20 decimal digits (10000000000000000000, ...001, ...).

Long enough and unique, but anyone who has one id (their own) has every other one a few
counts away. The text: not a counter; 16 random bytes from the operating system.
"""
# expect: test-store-hidden-ids they count
# expect: test-store-hidden-random random bits
import stickylab as sl

# %% session-store
import itertools


class SessionStore:
    def __init__(self, ttl):
        self.ttl = ttl
        self.sessions = {}
        self.issued = itertools.count(10**19)

    def create(self, user, now):
        sid = str(next(self.issued))
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
