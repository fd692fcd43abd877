"""Plausible wrong answer: the round-robin counter advances on every request, not per new client.

Returning clients also move the turn on, so which instance a new client gets depends on
how many requests the old ones sent: new clients are no longer spread evenly.
"""
# expect: test-sticky-hidden once per new client
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.Router):
    def __init__(self):
        self.seen = {}
        self.turn = 0

    def route(self, request, pool):
        turn = self.turn
        self.turn += 1
        iid = self.seen.get(request.client_ip)
        if iid is not None and pool.is_up(iid):
            return iid
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        iid = pool.healthy[turn % len(pool.healthy)]
        self.seen[request.client_ip] = iid
        return iid

# %% logout-rates
def logout_rates(scenario):
    return {
        "round_robin": sl.simulate(scenario, sl.routers.RoundRobin()).session_loss_rate(),
        "sticky": sl.simulate(scenario, FirstSticky()).session_loss_rate(),
    }
