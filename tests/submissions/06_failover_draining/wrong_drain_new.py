"""Plausible wrong answer: new clients take turns over pool.ids, so a draining instance gets new clients.

Stickiness is right (pool.is_up), and with nothing draining pool.ids is pool.healthy.
"""
# expect: test-failover-hidden-drain is draining
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
        if not pool.ids:
            raise sl.NoHealthyInstance("no healthy instance")
        iid = pool.ids[self.turn % len(pool.ids)]
        self.turn += 1
        self.home[request.client_ip] = iid
        return iid

# %% failure-cost
def failure_cost(scenario, instance, at):
    def lost(events):
        result = sl.simulate(scenario, FailoverRouter(), events=events)
        return int(result.timeline()["lost"].sum())

    return lost([sl.Fail(instance, at=at)]) - lost([])
