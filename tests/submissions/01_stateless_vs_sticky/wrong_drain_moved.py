"""Plausible wrong answer: a client stays only while its instance is healthy, so draining moves its clients.

`iid in pool.healthy` instead of `pool.is_up(iid)`: the clients of a draining instance
are sent elsewhere and lose their sessions, which draining exists to avoid.
"""
# expect: test-sticky-hidden-drain keeps its clients
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.Router):
    def __init__(self):
        self.seen = {}
        self.turn = 0

    def route(self, request, pool):
        iid = self.seen.get(request.client_ip)
        if iid in pool.healthy:
            return iid
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
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
