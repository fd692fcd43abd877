"""Right answer: each session is a small dataclass Session(user, time), its field `time` the last use.

Differs from the obvious answer only in the record: a dataclass with fields `user` and
`time` (the time of last use, from `now`) instead of a (user, last) tuple. Ids come from
secrets.token_urlsafe(32). Nothing reads the clock.
"""
import stickylab as sl

# %% session-store
import secrets
from dataclasses import dataclass


@dataclass
class Session:
    """One session: whose it is, and when it was last used."""
    user: str
    time: float


class SessionStore:
    """Sessions shared by every instance, with sliding expiry (a stand-in for Redis)."""

    def __init__(self, ttl):
        self.ttl = ttl
        self.sessions = {}          # sid -> Session

    def create(self, user, now):
        sid = secrets.token_urlsafe(32)
        self.sessions[sid] = Session(user, now)
        return sid

    def get(self, sid, now):
        session = self.sessions.get(sid)
        if session is None:
            return None
        if now - session.time > self.ttl:
            del self.sessions[sid]
            return None
        session.time = now
        return session.user

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
