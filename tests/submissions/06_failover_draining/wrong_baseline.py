"""Plausible wrong answer: the baseline run is the scenario without the failing instance at all.

"The same run without the failure" read as "without the instance": the baseline has one
instance fewer, so it is not the same run, and the difference is not the failure's cost.
"""
# expect: test-cost-hidden only the failure different
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
    def lost(sc, events):
        return int(sl.simulate(sc, FailoverRouter(), events=events).timeline()["lost"].sum())

    fewer = scenario.replace(instances=scenario.instances - 1)
    return lost(scenario, [sl.Fail(instance, at=at)]) - lost(fewer, [])
