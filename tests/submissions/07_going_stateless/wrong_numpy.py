"""Plausible wrong answer: ids from numpy's default generator, one per store.

PCG64 is a fine generator for simulations, but not a secure one: its state can be
recovered from its outputs, and with it every id it will ever make.
"""
# expect: test-store-hidden-random numpy's generators
import stickylab as sl

# %% session-store
import numpy as np


class SessionStore:
    def __init__(self, ttl):
        self.ttl = ttl
        self.sessions = {}
        self.rng = np.random.default_rng()

    def create(self, user, now):
        sid = self.rng.bytes(16).hex()
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
