"""Plausible wrong answer: new clients go to any live instance (draining included), and a
draining instance's clients are moved away; the failure cost multiplies the loss rate by all requests
(its denominator is only the served requests that needed a session).

Passes the visible tests, which never drain.
"""
# expect: test-failover-hidden-drain i1 drains
# expect: test-cost-hidden count lost requests
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
        iid = pool.ids[self.turn % len(pool.ids)]
        self.turn += 1
        self.home[request.client_ip] = iid
        return iid

# %% failure-cost
def failure_cost(scenario, instance, at):
    def lost(events):
        result = sl.simulate(scenario, FailoverRouter(), events=events)
        return round(result.session_loss_rate() * result.summary()["requests"])

    return lost([sl.Fail(instance, at=at)]) - lost([])
