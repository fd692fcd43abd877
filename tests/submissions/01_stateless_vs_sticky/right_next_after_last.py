"""Right: round robin continues after the last instance handed out (by id, like HAProxy's RR pointer), not by a modulo counter.

The memory is a dict; the "counter" is the id last given to a new client; the next new client
gets the first healthy instance after it in pool.members order (wrapping).
"""
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.Router):
    def __init__(self):
        self.seen = {}
        self.last = None

    def _next(self, pool):
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        order = list(pool.members)
        start = order.index(self.last) + 1 if self.last in order else 0
        for k in range(len(order)):
            iid = order[(start + k) % len(order)]
            if iid in pool.healthy:
                self.last = iid
                return iid
        raise sl.NoHealthyInstance("no healthy instance")

    def route(self, request, pool):
        iid = self.seen.get(request.client_ip)
        if iid is not None and pool.is_up(iid):
            return iid
        iid = self.seen[request.client_ip] = self._next(pool)
        return iid

# %% logout-rates
def logout_rates(scenario):
    out = {}
    for name, router in (("round_robin", sl.routers.RoundRobin()), ("sticky", FirstSticky())):
        out[name] = float(sl.simulate(scenario, router).session_loss_rate())
    return out
