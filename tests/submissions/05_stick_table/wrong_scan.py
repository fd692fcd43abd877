"""Plausible wrong answer: when the table is full, the entry to evict is found by scanning them all.

Right in every answer, and fast on the small tables of the visible tests, but each put()
on a full table costs a pass over every entry: at the router's default size (100,000) a
balancer would spend milliseconds per new client.
"""
# expect: test-table-hidden-size scans the table
import stickylab as sl

# %% stick-table
class StickTable:
    def __init__(self, size, expire):
        self.size = size
        self.expire = expire
        self.entries = {}       # key -> (instance, last use)

    def get(self, key, now):
        entry = self.entries.get(key)
        if entry is None:
            return None
        if now - entry[1] > self.expire:
            del self.entries[key]
            return None
        self.entries[key] = (entry[0], now)
        return entry[0]

    def put(self, key, instance, now):
        self.entries[key] = (instance, now)
        while len(self.entries) > self.size:
            oldest = min(self.entries, key=lambda k: self.entries[k][1])
            del self.entries[oldest]

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
