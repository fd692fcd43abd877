"""Wrong answer: the heap leak of wrong_heap_leak.py, with Java-style private (name-mangled) attributes.

self.__heap is stored as _StickTable__heap: a memory check that reads only the names the
cell writes (__heap) finds nothing, so the heap that grows with every request must be
looked up under its mangled name.
"""
# expect: test-table-hidden-size memory grows with its traffic
import stickylab as sl

# %% stick-table
import heapq
import itertools


class StickTable:
    def __init__(self, size, expire):
        self.size = size
        self.expire = expire
        self.__entries = {}          # key -> (instance, last use, stamp)
        self.__heap = []             # (last use, stamp, key), stale items skipped lazily
        self.__stamps = itertools.count()

    def __touch(self, key, instance, now):
        stamp = next(self.__stamps)
        self.__entries[key] = (instance, now, stamp)
        heapq.heappush(self.__heap, (now, stamp, key))

    def get(self, key, now):
        entry = self.__entries.get(key)
        if entry is None:
            return None
        if now - entry[1] > self.expire:
            del self.__entries[key]
            return None
        self.__touch(key, entry[0], now)
        return entry[0]

    def put(self, key, instance, now):
        self.__touch(key, instance, now)
        while len(self.__entries) > self.size:
            used, stamp, old = heapq.heappop(self.__heap)
            if old in self.__entries and self.__entries[old][2] == stamp:
                del self.__entries[old]

    def __len__(self):
        return len(self.__entries)

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
