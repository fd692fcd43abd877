"""Plausible wrong answer: the round-robin position is len(self.home), the number of clients known, not self.turn.

New clients are spread evenly (each adds a key), but a failed instance's clients are
re-placed without adding a key: every one of them lands on the same survivor, a herd on
one instance while the others sit idle. The text: anyone whose instance has failed gets the
next instance of pool.healthy round robin (self.turn is the counter).
"""
# expect: test-failover-hidden-redispatch round robin
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
        iid = pool.healthy[len(self.home) % len(pool.healthy)]
        self.home[request.client_ip] = iid
        return iid

# %% failure-cost
def failure_cost(scenario, instance, at):
    def lost(events):
        return int(sl.simulate(scenario, FailoverRouter(), events=events).timeline()["lost"].sum())
    return lost([sl.Fail(instance, at=at)]) - lost([])
