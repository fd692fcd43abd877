"""Right: SessionStore is a dict (sid -> (user, last use)) with create/get/delete methods."""
import stickylab as sl

# %% session-store
import secrets


class SessionStore(dict):
    """Sessions shared by every instance, with sliding expiry (a stand-in for Redis)."""

    def __init__(self, ttl):
        super().__init__()
        self.ttl = ttl
        self.sessions = self   # sid -> (user, last use): the store is the dict

    def create(self, user, now):
        sid = secrets.token_urlsafe(18)
        self.sessions[sid] = (user, now)
        return sid

    def get(self, sid, now):
        entry = dict.get(self, sid)
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
