"""Wrong: StickTableRouter keys its table by client_ip + path, not by request.client_ip (a user changing page is placed again)."""
# expect: test-router-hidden whatever page it asks for
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

    def route(self, request, pool):
        key = request.client_ip if request.path == "/" else request.client_ip + request.path
        iid = self.table.get(key, request.time)
        if iid is not None and pool.is_up(iid):
            return iid
        iid = self.balance.route(request, pool)
        self.table.put(key, iid, request.time)
        return iid
