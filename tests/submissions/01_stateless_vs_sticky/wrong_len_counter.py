"""Wrong: the round-robin turn is len(self.seen), so re-picks after a failure all land on one instance.

A new client grows the dict, so new clients are spread evenly; but a client whose instance
failed is already in the dict, so every client of the dead instance is re-picked with the same
turn and they all pile onto ONE surviving instance (a thundering herd on failover).
"""
# expect: test-sticky-hidden spread over the healthy instances
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.Router):
    def __init__(self):
        self.seen = {}

    def route(self, request, pool):
        iid = self.seen.get(request.client_ip)
        if iid is not None and pool.is_up(iid):
            return iid
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        iid = pool.healthy[len(self.seen) % len(pool.healthy)]
        self.seen[request.client_ip] = iid
        return iid

# %% logout-rates
def logout_rates(scenario):
    return {
        "round_robin": sl.simulate(scenario, sl.routers.RoundRobin()).session_loss_rate(),
        "sticky": sl.simulate(scenario, FirstSticky()).session_loss_rate(),
    }
