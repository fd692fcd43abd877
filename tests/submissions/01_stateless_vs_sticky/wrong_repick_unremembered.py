"""Plausible wrong answer: a client whose instance failed is re-picked, but the new choice is not stored.

Its entry still names the dead instance, so every later request is re-picked round robin:
the client hops between live instances and is logged out again and again.
"""
# expect: test-sticky-hidden remember the new choice
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.Router):
    def __init__(self):
        self.seen = {}
        self.turn = 0

    def _next(self, pool):
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        iid = pool.healthy[self.turn % len(pool.healthy)]
        self.turn += 1
        return iid

    def route(self, request, pool):
        iid = self.seen.get(request.client_ip)
        if iid is None:
            iid = self.seen[request.client_ip] = self._next(pool)
            return iid
        if pool.is_up(iid):
            return iid
        return self._next(pool)

# %% logout-rates
def logout_rates(scenario):
    return {
        "round_robin": sl.simulate(scenario, sl.routers.RoundRobin()).session_loss_rate(),
        "sticky": sl.simulate(scenario, FirstSticky()).session_loss_rate(),
    }
