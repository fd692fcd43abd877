"""Wrong: "a sticky router never loses a session", so "sticky" is a hard-coded 0.0, not simulated.

A sticky router does lose sessions: a mobile user whose address changes is a new client to it.
"""
# expect: test-logouts-hidden do not assume 0
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.Router):
    """Client address -> instance, remembered the first time the client is seen."""

    def __init__(self):
        self.seen = {}
        self.turn = 0

    def route(self, request, pool):
        iid = self.seen.get(request.client_ip)
        if iid is not None and pool.is_up(iid):
            return iid
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        iid = pool.healthy[self.turn % len(pool.healthy)]
        self.turn += 1
        self.seen[request.client_ip] = iid
        return iid

# %% logout-rates
def logout_rates(scenario):
    return {"round_robin": sl.simulate(scenario, sl.routers.RoundRobin()).session_loss_rate(), "sticky": 0.0}
