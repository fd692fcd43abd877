"""Plausible wrong answer: session ids are user name + counter, expiry counts from login,
and the failure happens at a fixed time instead of half-way.

Passes the visible tests.
"""
# expect: test-store-hidden-expiry sliding
# expect: test-store-hidden-ids contains the user name
# expect: test-store-hidden-random random bits
# expect: test-sim-hidden half-way
import stickylab as sl

# %% session-store
class SessionStore:
    def __init__(self, ttl):
        self.ttl = ttl
        self.sessions = {}
        self.count = 0

    def create(self, user, now):
        self.count += 1
        sid = f"{user}-{self.count}"
        self.sessions[sid] = (user, now)
        return sid

    def get(self, sid, now):
        entry = self.sessions.get(sid)
        if entry is None or now - entry[1] > self.ttl:
            return None
        return entry[0]

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
    events = [sl.Fail("i1", at=150.0)]
    memory = sl.simulate(scenario, sl.routers.CookieInsert(), events=events)
    external = sl.simulate(scenario.replace(session_store="external"), sl.routers.CookieInsert(),
                           events=events)
    return {"memory": memory.session_loss_rate(), "external": external.session_loss_rate()}
