"""Right answer: an OrderedDict in order of use that also drops the dead entries at its old end on every put().

Like HAProxy's expiry task, dead entries do not wait for a get() or for the size limit:
each put() first removes the entries, oldest first, whose idle time already exceeds
`expire` (it stops at the first live one, so it is O(1) amortised). len() is then the
number of entries held. Nothing in the text asks a table to keep dead entries.
"""
import stickylab as sl

# %% stick-table
from collections import OrderedDict


class StickTable:
    """Key -> instance with sliding idle expiry and a size limit, oldest out first (HAProxy stick-table)."""

    def __init__(self, size, expire):
        self.size = size
        self.expire = expire
        self.entries = OrderedDict()   # key -> (instance, last use), least recently used first

    def _purge(self, now):
        """Drop dead entries from the least recently used end (stops at the first live one)."""
        while self.entries:
            key, (instance, last) = next(iter(self.entries.items()))
            if now - last <= self.expire:
                break
            del self.entries[key]

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
        self._purge(now)
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
