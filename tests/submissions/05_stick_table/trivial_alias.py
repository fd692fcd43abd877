"""No work: StickTable wraps stickylab's own AffinityTable, reached through an alias of its module.

`import stickylab.routers.table as _tbl` never says sl.routers, but the library's table
runs all the same, and every test cell sees it run.
"""
# expect: test-table-visible AffinityTable
# expect: test-router-visible of the stickylab library
import stickylab as sl

# %% stick-table
import stickylab.routers.table as _tbl


class StickTable:
    def __init__(self, size, expire):
        self.size = size
        self.expire = expire
        self._t = _tbl.AffinityTable(size, expire)

    def get(self, key, now):
        return self._t.lookup(key, now)

    def put(self, key, instance, now):
        self._t.store(key, instance, now)

    def __len__(self):
        return len(self._t)

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
