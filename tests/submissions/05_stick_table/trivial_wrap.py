"""No work: StickTable keeps its entries in stickylab's own AffinityTable and passes calls on.

It behaves exactly as asked, and is no subclass of stickylab's table, but the exercise is
to write the table: every test cell sees the library's table run (the router's too, as it
routes with this table).
"""
# expect: test-table-visible runs stickylab.routers.table.AffinityTable.__init__()
# expect: test-table-hidden-sliding write the table yourself
# expect: test-router-visible of the stickylab library
# expect: test-router-hidden stickylab
import stickylab as sl

# %% stick-table
class StickTable:
    def __init__(self, size, expire):
        self.size = size
        self.expire = expire
        self.inner = sl.routers.AffinityTable(size, expire)

    def get(self, key, now):
        return self.inner.lookup(key, now)

    def put(self, key, instance, now):
        self.inner.store(key, instance, now)

    def __len__(self):
        return len(self.inner)

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
