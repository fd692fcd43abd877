"""Wrong answer: LRU eviction through a heap of (last use, key) with lazy deletion, never compacted.

Every get() and put() pushes a new heap item; stale ones are only skipped when an
eviction pops them. The dict is bounded, but the heap grows with every request: a hot
client matched a million times leaves a million heap items. The balancer's memory grows
with traffic, not with clients, until it runs out.
"""
# expect: test-table-hidden-size memory grows with its traffic
import stickylab as sl

# %% stick-table
import heapq
import itertools


class StickTable:
    """Key -> instance with sliding idle expiry and a size limit, oldest out first (HAProxy stick-table)."""

    def __init__(self, size, expire):
        self.size = size
        self.expire = expire
        self.entries = {}          # key -> (instance, last use, stamp)
        self.heap = []             # (last use, stamp, key), stale items skipped lazily
        self.stamps = itertools.count()

    def _touch(self, key, instance, now):
        stamp = next(self.stamps)
        self.entries[key] = (instance, now, stamp)
        heapq.heappush(self.heap, (now, stamp, key))

    def get(self, key, now):
        entry = self.entries.get(key)
        if entry is None:
            return None
        instance, last, _ = entry
        if now - last > self.expire:
            del self.entries[key]
            return None
        self._touch(key, instance, now)
        return instance

    def put(self, key, instance, now):
        self._touch(key, instance, now)
        while len(self.entries) > self.size:
            _, stamp, old = heapq.heappop(self.heap)
            if old in self.entries and self.entries[old][2] == stamp:
                del self.entries[old]

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
