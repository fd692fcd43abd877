"""Hostile: create() never returns, so nothing can log in. Time bounds stop each test."""
# expect: test-store-visible did not return within
# expect: test-store-hidden-expiry did not return within
# expect: test-store-hidden-ids did not return within
# expect: test-store-hidden-random did not return within
# expect: test-store-hidden-failover did not return within
# expect: test-sim-visible NotImplementedError
# expect: test-sim-hidden NotImplementedError

# %% session-store
class SessionStore:
    def __init__(self, ttl):
        self.ttl = ttl

    def create(self, user, now):
        while True:
            pass


class AppInstance:
    def __init__(self, name, store):
        self.store = store

    def login(self, user, now):
        return self.store.create(user, now)
