"""No work: the table and the router are stickylab's own, reached with getattr(sl, "rou" + "ters").

The table subclasses the library's AffinityTable, and route() hands every request to the
library's StickTable router (its own table stays empty): no name in the cell says
sl.routers, but every test cell sees the library's code run.
"""
# expect: test-table-visible AffinityTable
# expect: test-router-visible StickTable
import stickylab as sl

# %% stick-table
_lib = getattr(sl, "rou" + "ters")


class StickTable(getattr(_lib, "Affinity" + "Table")):
    def get(self, key, now):
        return self.lookup(key, now)

    def put(self, key, instance, now):
        self.store(key, instance, now)

# %% stick-router
class StickTableRouter(sl.Router):
    def __init__(self, size=100_000, expire=1800.0):
        self.table = StickTable(size, expire)
        self.balance = sl.routers.RoundRobin()
        self._inner = getattr(getattr(sl, "rou" + "ters"), "Stick" + "Table")(size=size, expire=expire)

    def route(self, request, pool):
        return self._inner.route(request, pool)
