"""Right: ids of 32 characters, each secrets.choice over letters and digits (~190 bits from the OS CSPRNG); uuid4 from-import not used; class constants."""
import stickylab as sl

# %% session-store
import secrets
import string


class SessionStore:
    ALPHABET = string.ascii_letters + string.digits
    LENGTH = 32

    def __init__(self, ttl):
        self.ttl = ttl
        self._data = {}

    def _new_id(self):
        return "".join(secrets.choice(self.ALPHABET) for _ in range(self.LENGTH))

    def create(self, user, now):
        sid = self._new_id()
        while sid in self._data:
            sid = self._new_id()
        self._data[sid] = [user, now]
        return sid

    def get(self, sid, now):
        record = self._data.get(sid)
        if not record:
            return None
        if now - record[1] > self.ttl:
            self._data.pop(sid)
            return None
        record[1] = now
        return record[0]

    def delete(self, sid):
        self._data.pop(sid, None)


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
    events = (sl.Fail("i1", at=scenario.duration * 0.5),)
    return {name: sl.simulate(sc, sl.routers.CookieInsert(), events=events).session_loss_rate()
            for name, sc in (("memory", scenario), ("external", scenario.replace(session_store="external")))}
