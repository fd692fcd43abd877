"""Plausible wrong answer: the table counts idle time in whole seconds, int(now) - int(last).

An entry idle 60.5 s with expire=60 counts as idle 60 s and stays alive; the router that
uses the table is right, and its test must blame the table, not the router's clock.
"""
# expect: test-table-hidden-sliding idle 60.5 s
# expect: test-router-hidden the table is
import stickylab as sl

# %% stick-table
from collections import OrderedDict


class StickTable:
    """Key -> instance with sliding idle expiry and a size limit, oldest out first."""

    def __init__(self, size, expire):
        self.size = size
        self.expire = expire
        self.entries = OrderedDict()   # key -> (instance, last use), least recently used first

    def get(self, key, now):
        entry = self.entries.get(key)
        if entry is None:
            return None
        instance, last = entry
        if int(now) - int(last) > self.expire:
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
    """HAProxy `stick on src` with a StickTable."""

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
