"""Wrong answer: the router reads the wall clock (time.time()) instead of request.time.

The table's expiry then runs on the seconds since 1970, not on the requests' times: a
client routed at request.time=0 is still stored at 1800.5 (expire=1800), and in the
simulator (or a replayed trace) entries never expire.
"""
# expect: test-router-hidden pass request.time
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
import time


class StickTableRouter(sl.Router):
    def __init__(self, size=100_000, expire=1800.0):
        self.table = StickTable(size, expire)
        self.balance = sl.routers.RoundRobin()

    def route(self, request, pool):
        now = time.time()
        iid = self.table.get(request.client_ip, now)
        if iid is not None and pool.is_up(iid):
            return iid
        iid = self.balance.route(request, pool)
        self.table.put(request.client_ip, iid, now)
        return iid
