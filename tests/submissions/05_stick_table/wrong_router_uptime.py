"""Wrong answer: the router times the table with the balancer's own clock (seconds since it started), not request.time.

`time.perf_counter() - START` counts seconds since the cell ran: a balancer started a
moment ago. Entries then expire on the wrong clock: in the simulator (and on a replayed
trace) a client that comes back at request.time=3000, its entry expired, keeps the entry
it was given a few seconds after the start, so looked up at 4700 it is gone. A clock that
reads more than a few seconds (time.monotonic() on a machine up for a while, time.time())
is caught on its first entry instead (see wrong_router_wallclock.py, wrong_router_walltime.py).
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

START = time.perf_counter()   # stands for a balancer started less than 30 min ago


class StickTableRouter(sl.Router):
    def __init__(self, size=100_000, expire=1800.0):
        self.table = StickTable(size, expire)
        self.balance = sl.routers.RoundRobin()

    def route(self, request, pool):
        now = time.perf_counter() - START
        iid = self.table.get(request.client_ip, now)
        if iid is not None and pool.is_up(iid):
            return iid
        iid = self.balance.route(request, pool)
        self.table.put(request.client_ip, iid, now)
        return iid
