"""No work: StickTable is stickylab's own AffinityTable with get and put renamed.

It behaves exactly as asked, but the exercise is to write the table: the library's
methods run under the learner's names, and every test cell sees them.
"""
# expect: test-table-visible AffinityTable
# expect: test-table-hidden-sliding write the table yourself
# expect: test-router-visible of the stickylab library
import stickylab as sl

# %% stick-table
class StickTable(sl.routers.AffinityTable):
    get = sl.routers.AffinityTable.lookup
    put = sl.routers.AffinityTable.store

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
