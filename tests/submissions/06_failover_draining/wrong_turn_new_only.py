"""Plausible wrong answer: self.turn moves on only for a client never seen, so re-placed clients all get the same instance.

When i1 fails, its clients are picked again but the counter stands still: all of them pile
onto one survivor.
"""
# expect: test-failover-hidden-redispatch round robin
import stickylab as sl

# %% failover-router
class FailoverRouter(sl.Router):
    def __init__(self):
        self.home = {}
        self.turn = 0

    def route(self, request, pool):
        ip = request.client_ip
        iid = self.home.get(ip)
        if iid is not None and pool.is_up(iid):
            return iid
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        iid = pool.healthy[self.turn % len(pool.healthy)]
        if ip not in self.home:
            self.turn += 1
        self.home[ip] = iid
        return iid

# %% failure-cost
def failure_cost(scenario, instance, at):
    def lost(events):
        return int(sl.simulate(scenario, FailoverRouter(), events=events).timeline()["lost"].sum())
    return lost([sl.Fail(instance, at=at)]) - lost([])
