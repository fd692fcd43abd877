"""Plausible wrong answer: "no healthy instance" is checked first, so a draining instance's clients get 503.

When every live instance drains, its sticky clients are refused instead of served.
"""
# expect: test-failover-hidden-drain NoHealthyInstance
import stickylab as sl

# %% failover-router
class FailoverRouter(sl.Router):
    """Sticky by address, with redispatch on failure and draining that keeps its users."""

    def __init__(self):
        self.home = {}
        self.turn = 0

    def route(self, request, pool):
        ip = request.client_ip
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        known = self.home.get(ip)
        if known is not None and pool.is_up(known):
            return known
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        pick = pool.healthy[self.turn % len(pool.healthy)]
        self.turn += 1
        self.home[ip] = pick
        return pick

# %% failure-cost
def failure_cost(scenario, instance, at):
    """Extra logouts caused by `instance` failing at `at`, under FailoverRouter."""

    def logouts(events):
        result = sl.simulate(scenario, FailoverRouter(), events=events)
        return int(result.timeline()["lost"].sum())

    return logouts([sl.Fail(instance, at=at)]) - logouts([])
