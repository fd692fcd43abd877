"""Plausible wrong answer: a client stays only while its instance is healthy, so draining moves its clients.

`iid in pool.healthy` instead of `pool.is_up(iid)`: the clients of a draining instance
are sent elsewhere and lose their sessions, which draining exists to avoid.
"""
# expect: test-failover-hidden-drain i1 drains
import stickylab as sl

# %% failover-router
class FailoverRouter(sl.Router):
    def __init__(self):
        self.home = {}
        self.turn = 0

    def route(self, request, pool):
        iid = self.home.get(request.client_ip)
        if iid in pool.healthy:
            return iid
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        iid = pool.healthy[self.turn % len(pool.healthy)]
        self.turn += 1
        self.home[request.client_ip] = iid
        return iid

# %% failure-cost
def failure_cost(scenario, instance, at):
    def lost(events):
        result = sl.simulate(scenario, FailoverRouter(), events=events)
        return int(result.timeline()["lost"].sum())

    return lost([sl.Fail(instance, at=at)]) - lost([])
