"""Shadow Python's built-ins at the top level of a session store that keeps nothing."""
# assignment: 07_going_stateless
import stickylab as sl

# %% session-store
#include _builtins


class SessionStore:
    def __init__(self, ttl=1800.0):
        self.ttl = ttl

    def create(self, user, now):
        return "s"

    def get(self, sid, now):
        return None

    def delete(self, sid):
        pass


class AppInstance:
    def __init__(self, store):
        self.store = store

    def login(self, user, now):
        return "s"

    def whoami(self, sid, now):
        return None

# %% losses
def losses_on_failure(scenario):
    return {"memory": 0.5, "external": 0.0}
