"""Right: a mutable dataclass Entry (slots) per key in an OrderedDict; get mutates the entry in place; router via try/except."""
import stickylab as sl

# %% stick-table
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(slots=True)
class Entry:
    instance: str
    last_use: float

    def alive(self, now, expire):
        return now - self.last_use <= expire


class StickTable:
    def __init__(self, size, expire):
        self.size = size
        self.expire = expire
        self.rows: "OrderedDict[str, Entry]" = OrderedDict()

    def get(self, key, now):
        row = self.rows.get(key)
        if row is None:
            return None
        if not row.alive(now, self.expire):
            self.rows.pop(key)
            return None
        row.last_use = now
        self.rows.move_to_end(key)
        return row.instance

    def put(self, key, instance, now):
        row = self.rows.get(key)
        if row is None:
            self.rows[key] = Entry(instance, now)
        else:
            row.instance, row.last_use = instance, now
            self.rows.move_to_end(key)
        while len(self.rows) > self.size:
            self.rows.popitem(last=False)

    def __len__(self):
        return len(self.rows)

# %% stick-router
class StickTableRouter(sl.Router):
    """HAProxy `stick on src` with a StickTable."""

    def __init__(self, size=100_000, expire=1800.0):
        self.table = StickTable(size, expire)
        self.balance = sl.routers.RoundRobin()

    def _fresh(self, request, pool):
        iid = self.balance.route(request, pool)
        self.table.put(request.client_ip, iid, request.time)
        return iid

    def route(self, request, pool):
        iid = self.table.get(request.client_ip, request.time)
        return iid if iid is not None and iid in pool.ids else self._fresh(request, pool)
