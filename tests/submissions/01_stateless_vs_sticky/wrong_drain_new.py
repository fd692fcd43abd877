"""Plausible wrong answer: new clients take turns over pool.ids, so a draining instance gets new clients.

Stickiness is right (a remembered instance is kept while pool.is_up), and with no
instance draining pool.ids is pool.healthy, so the visible tests pass.
"""
# expect: test-sticky-hidden-drain is draining
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
        if not pool.ids:
            raise sl.NoHealthyInstance("no instance")
        iid = pool.ids[self.turn % len(pool.ids)]
        self.turn += 1
        self.seen[request.client_ip] = iid
        return iid

# %% logout-rates
def logout_rates(scenario):
    return {
        "round_robin": sl.simulate(scenario, sl.routers.RoundRobin()).session_loss_rate(),
        "sticky": sl.simulate(scenario, FirstSticky()).session_loss_rate(),
    }
