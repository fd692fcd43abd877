"""Blind right answer: ids from os.urandom via base64url, sessions as small lists, no-op crash.

Differs from the obvious answer (``secrets.token_urlsafe()`` and a dict of tuples): the id is
``base64.urlsafe_b64encode(os.urandom(24))`` (24 bytes from the operating system's secure
generator, 32 characters, no padding), drawn again in the (astronomically unlikely) case
of a clash; each session is a mutable ``[user, last_use]`` list updated in place; ``delete``
uses ``dict.pop`` with a default; ``AppInstance.crash`` clears an (always empty) local
cache to show it holds nothing. ``losses_on_failure`` iterates over the two scenarios.
"""
import stickylab as sl

# %% session-store
import base64
import os


class SessionStore:
    """Sessions shared by every instance, with sliding expiry (a stand-in for Redis)."""

    def __init__(self, ttl):
        self.ttl = ttl
        self._sessions = {}          # sid -> [user, last_use]

    @staticmethod
    def _new_id():
        return base64.urlsafe_b64encode(os.urandom(24)).decode("ascii")

    def create(self, user, now):
        sid = self._new_id()
        while sid in self._sessions:
            sid = self._new_id()
        self._sessions[sid] = [user, now]
        return sid

    def get(self, sid, now):
        entry = self._sessions.get(sid)
        if entry is None:
            return None
        if now - entry[1] > self.ttl:
            del self._sessions[sid]
            return None
        entry[1] = now
        return entry[0]

    def delete(self, sid):
        self._sessions.pop(sid, None)


class AppInstance:
    """An application instance that keeps its sessions in the shared store, not in memory."""

    def __init__(self, name, store):
        self.name = name
        self.store = store
        self._memory = {}            # nothing session-related ever goes here

    def login(self, user, now):
        return self.store.create(user, now)

    def whoami(self, sid, now):
        return self.store.get(sid, now)

    def crash(self):
        self._memory.clear()         # the store lives elsewhere: no session is lost

# %% losses
def losses_on_failure(scenario):
    """Session loss rate when i1 fails half-way, with in-memory and with external sessions."""
    runs = {"memory": scenario, "external": scenario.replace(session_store="external")}
    rates = {}
    for label, sc in runs.items():
        result = sl.simulate(sc, sl.routers.CookieInsert(), events=[sl.Fail("i1", at=sc.duration / 2)])
        rates[label] = float(result.session_loss_rate())
    return rates
