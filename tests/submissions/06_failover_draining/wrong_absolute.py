"""Plausible wrong answer: the cost of the failure is every logout of the run with the failure.

It forgets the baseline: users logged out even without the failure (mobile clients
change address) are counted as the failure's doing. The visible scenario has no mobile
users, so the baseline there is 0 and the visible test passes.
"""
# expect: test-cost-hidden not the failure's doing
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
    result = sl.simulate(scenario, FailoverRouter(), events=[sl.Fail(instance, at=at)])
    return int(result.timeline()["lost"].sum())
