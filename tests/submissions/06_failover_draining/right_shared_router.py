"""Not a mistake after all: failure_cost reuses one FailoverRouter for both runs, but sl.simulate runs a fresh copy of it."""
import stickylab as sl

# %% failover-router
class FailoverRouter(sl.Router):
    """Sticky by address, with redispatch on failure and draining that keeps its users."""

    def __init__(self):
        self.home = {}
        self.turn = 0

    def route(self, request, pool):
        iid = self.home.get(request.client_ip)
        if iid is not None and pool.is_up(iid):
            return iid
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        iid = pool.healthy[self.turn % len(pool.healthy)]
        self.turn += 1
        self.home[request.client_ip] = iid
        return iid

# %% failure-cost
def failure_cost(scenario, instance, at):
    router = FailoverRouter()
    base = int(sl.simulate(scenario, router, events=[]).timeline()["lost"].sum())
    failed = int(sl.simulate(scenario, router, events=[sl.Fail(instance, at=at)]).timeline()["lost"].sum())
    return failed - base
