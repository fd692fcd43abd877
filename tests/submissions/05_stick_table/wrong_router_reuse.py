"""Plausible wrong answer: the router hands every request to stickylab's StickTable router.

It routes as asked, but its own table (self.table) stays empty: the exercise is to route
with the StickTable of Part 1.
"""
# expect: test-router-hidden uses sl.routers.StickTable
import stickylab as sl

# %% stick-table
from collections import OrderedDict


class StickTable:
    def __init__(self, size, expire):
        self.size = size
        self.expire = expire
        self.entries = OrderedDict()

    def get(self, key, now):
        entry = self.entries.get(key)
        if entry is None:
            return None
        instance, last = entry
        if now - last > self.expire:
            del self.entries[key]
            return None
        self.entries[key] = (instance, now)
        self.entries.move_to_end(key)
        return instance

    def put(self, key, instance, now):
        self.entries[key] = (instance, now)
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)

    def __len__(self):
        return len(self.entries)

# %% stick-router
class StickTableRouter(sl.Router):
    def __init__(self, size=100_000, expire=1800.0):
        self.table = StickTable(size, expire)
        self.balance = sl.routers.RoundRobin()
        self.inner = sl.routers.StickTable(size=size, expire=expire)

    def route(self, request, pool):
        return self.inner.route(request, pool)
