"""Right answer: StickTable IS an OrderedDict (the LRU recipe of Python's collections docs subclasses OrderedDict).

key -> (instance, last use), least recently used first; size and expire are attributes.
len() is the dict's own. Nothing in the text forbids a subclass: "with a dict or an OrderedDict".
"""
import stickylab as sl

# %% stick-table
from collections import OrderedDict


class StickTable(OrderedDict):
    """Key -> (instance, last use), least recently used first."""

    def __init__(self, size, expire):
        super().__init__()
        self.size = size
        self.expire = expire

    def get(self, key, now):
        entry = super().get(key)
        if entry is None:
            return None
        instance, last = entry
        if now - last > self.expire:
            del self[key]
            return None
        self[key] = (instance, now)
        self.move_to_end(key)
        return instance

    def put(self, key, instance, now):
        self[key] = (instance, now)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)

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
