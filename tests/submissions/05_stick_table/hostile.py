"""Hostile: get() never returns. Each test's time bound stops it in seconds, not the cell timeout."""
# expect: test-table-visible did not return within
# expect: test-table-hidden-sliding did not return within
# expect: test-table-hidden-size did not return within
# expect: test-router-visible did not return within
# expect: test-router-hidden did not return within
import stickylab as sl

# %% stick-table
class StickTable:
    def __init__(self, size, expire):
        self.entries = {}

    def get(self, key, now):
        while True:
            pass

    def put(self, key, instance, now):
        self.entries[key] = instance

    def __len__(self):
        return len(self.entries)

# %% stick-router
class StickTableRouter(sl.Router):
    def __init__(self, size=100_000, expire=1800.0):
        self.table = StickTable(size, expire)
        self.balance = sl.routers.RoundRobin()

    def route(self, request, pool):
        return self.table.get(request.client_ip, request.time)
