"""Plausible wrong answer: expiry counted from when an entry was stored, and no size limit.

Passes the visible tests.
"""
# expect: test-table-hidden-sliding the expiry must slide
# expect: test-table-hidden-size it must be bounded
import stickylab as sl

# %% stick-table
class StickTable:
    def __init__(self, size, expire):
        self.size = size
        self.expire = expire
        self.entries = {}

    def get(self, key, now):
        entry = self.entries.get(key)
        if entry is None or now - entry[1] > self.expire:
            self.entries.pop(key, None)
            return None
        return entry[0]

    def put(self, key, instance, now):
        self.entries[key] = (instance, now)

    def __len__(self):
        return len(self.entries)

# %% stick-router
class StickTableRouter(sl.Router):
    def __init__(self, size=100_000, expire=1800.0):
        self.table = StickTable(size, expire)
        self.balance = sl.routers.RoundRobin()

    def route(self, request, pool):
        iid = self.table.get(request.client_ip, request.time)
        if iid is not None and pool.is_up(iid):
            return iid
        iid = self.balance.route(request, pool)
        self.table.put(request.client_ip, iid, request.time)
        return iid
