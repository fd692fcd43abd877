"""Wrong answer: the id is a SHA-256 of the process id and a process-wide counter.

It looks random (64 hex digits) and differs between processes and between stores, but
the pid has at most 22 bits and the counter counts: anyone who sees one id (their own)
can compute everyone else's by trying the next counter values. The text: ids come from the
secrets module, os.urandom() or uuid.uuid4() in the SessionStore cell; not a counter,
or anything computed from inputs that can be tried. (In a grading sandbox every fresh process
often gets the same pid: there the check that runs the cell in two fresh processes fails
first; its message names the secure sources too.)
"""
# expect: test-store-hidden-random secure sources
import stickylab as sl

# %% session-store
import hashlib
import itertools
import os

_issued = itertools.count()


class SessionStore:
    def __init__(self, ttl):
        self.ttl = ttl
        self.sessions = {}

    def create(self, user, now):
        sid = hashlib.sha256(f"{os.getpid()}:{next(_issued)}".encode()).hexdigest()
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
