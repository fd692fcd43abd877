"""Wrong: logout_rates measures stickylab's StickTable as "sticky", not the learner's FirstSticky.

The text says: once with a fresh FirstSticky(), and RoundRobin is the only stickylab router this
part needs. On a scenario where no sticky router loses a session the two agree (both 0); with
mobile users and long absences StickTable (its entries expire) loses another share than FirstSticky.
"""
# expect: test-logouts-hidden a fresh FirstSticky() (yours)
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
    return {
        "round_robin": sl.simulate(scenario, sl.routers.RoundRobin()).session_loss_rate(),
        "sticky": sl.simulate(scenario, sl.routers.StickTable()).session_loss_rate(),
    }
