"""Wrong answer: with no healthy instance for a new client, route() returns None instead of raising sl.NoHealthyInstance.

The text: with no healthy instance for such a client, raise sl.NoHealthyInstance. A
router that answers None hands the balancer no instance and no 503: the request is
sent nowhere (or the balancer crashes on it).
"""
# expect: test-failover-hidden-drain returning None is not a 503
import stickylab as sl

# %% failover-router
class FailoverRouter(sl.Router):
    """Sticky by address, with redispatch on failure and draining that keeps its users."""

    def __init__(self):
        self.home = {}
        self.turn = 0

    def route(self, request, pool):
        iid = self.home.get(request.client_ip)
        if iid is not None and pool.is_up(iid):
            return iid
        if not pool.healthy:
            return None          # nothing healthy: no instance for this client
        iid = pool.healthy[self.turn % len(pool.healthy)]
        self.turn += 1
        self.home[request.client_ip] = iid
        return iid

# %% failure-cost
def failure_cost(scenario, instance, at):
    """Extra logouts caused by `instance` failing at `at`, under FailoverRouter."""

    def lost(events):
        result = sl.simulate(scenario, FailoverRouter(), events=events)
        return int(result.timeline()["lost"].sum())

    return lost([sl.Fail(instance, at=at)]) - lost([])
