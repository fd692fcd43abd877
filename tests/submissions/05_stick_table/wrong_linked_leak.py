"""Wrong answer: a queue of uses as linked nodes, lazy deletion: every use appends a node, stale ones stay until evicted.

The linked-list twin of wrong_heap_leak.py: the nodes hold no list, tuple, set or dict,
and have no len(), so the memory check must count each object it reaches; with 10
clients nothing is ever evicted, and the chain grows by one node per get() and put().
When graded, each node is a handle in the learner's kernel: the walk must stop soon
after the growth shows, or it runs out of time and blames the wrong thing.
"""
# expect: test-table-hidden-size memory grows with its traffic
import stickylab as sl

# %% stick-table
class _Use:
    def __init__(self, key, stamp):
        self.key, self.stamp, self.after = key, stamp, None


class StickTable:
    def __init__(self, size, expire):
        self.size = size
        self.expire = expire
        self.entries = {}          # key -> [instance, last use, stamp]
        self.first = self.last = None
        self.stamp = 0

    def _touch(self, key, instance, now):
        self.stamp += 1
        self.entries[key] = [instance, now, self.stamp]
        use = _Use(key, self.stamp)
        if self.last is None:
            self.first = self.last = use
        else:
            self.last.after = use
            self.last = use

    def get(self, key, now):
        entry = self.entries.get(key)
        if entry is None:
            return None
        if now - entry[1] > self.expire:
            del self.entries[key]
            return None
        self._touch(key, entry[0], now)
        return entry[0]

    def put(self, key, instance, now):
        self._touch(key, instance, now)
        while len(self.entries) > self.size:
            use = self.first
            self.first = use.after
            if self.first is None:
                self.last = None
            entry = self.entries.get(use.key)
            if entry is not None and entry[2] == use.stamp:
                del self.entries[use.key]

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
