"""Plausible wrong answer: the baseline run uses another router (cookie affinity) than the failing run.

Cookies survive an address change, so the baseline loses nobody and the "cost" counts
logouts that FailoverRouter causes with or without the failure.
"""
# expect: test-cost-hidden the same run without it
import stickylab as sl

# %% failover-router
class FailoverRouter(sl.Router):
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
    failing = sl.simulate(scenario, FailoverRouter(), events=[sl.Fail(instance, at=at)])
    baseline = sl.simulate(scenario, sl.routers.CookieInsert())
    return int(failing.timeline()["lost"].sum()) - int(baseline.timeline()["lost"].sum())
