"""Plausible wrong answer: with no healthy instance, route() crashes (ZeroDivisionError) instead of a 503.

The text asks for sl.NoHealthyInstance when a client needs a new instance and nothing is healthy.
"""
# expect: test-sticky-hidden-drain raise sl.NoHealthyInstance
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.Router):
    def __init__(self):
        self.seen = {}
        self.turn = 0

    def route(self, request, pool):
        iid = self.seen.get(request.client_ip)
        if iid is not None and pool.is_up(iid):
            return iid
        iid = pool.healthy[self.turn % len(pool.healthy)]
        self.turn += 1
        self.seen[request.client_ip] = iid
        return iid

# %% logout-rates
def logout_rates(scenario):
    return {
        "round_robin": sl.simulate(scenario, sl.routers.RoundRobin()).session_loss_rate(),
        "sticky": sl.simulate(scenario, FirstSticky()).session_loss_rate(),
    }
