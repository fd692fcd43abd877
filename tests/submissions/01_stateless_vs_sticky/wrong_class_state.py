"""Plausible wrong answer: the memory is a class attribute, shared by every FirstSticky.

`seen = {}` in the class body: a "fresh" FirstSticky() remembers the clients of every
router made before it, so two balancers (or two runs of logout_rates) are not independent.
"""
# expect: test-sticky-hidden two routers must be independent
# expect: test-sticky-hidden-drain is draining
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.Router):
    seen = {}
    turn = 0

    def __init__(self):
        pass

    def route(self, request, pool):
        iid = self.seen.get(request.client_ip)
        if iid is not None and pool.is_up(iid):
            return iid
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        iid = pool.healthy[FirstSticky.turn % len(pool.healthy)]
        FirstSticky.turn += 1
        self.seen[request.client_ip] = iid
        return iid

# %% logout-rates
def logout_rates(scenario):
    return {
        "round_robin": sl.simulate(scenario, sl.routers.RoundRobin()).session_loss_rate(),
        "sticky": sl.simulate(scenario, FirstSticky()).session_loss_rate(),
    }
