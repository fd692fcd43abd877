"""Trivial: the library's own router behind a thin wrapper: FirstSticky hands every request to
sl.routers.StickTable (address -> instance, round robin for new clients, no expiry), and
logout_rates simulates StickTable itself as "sticky".

StickTable behaves as FirstSticky must, so only the check of what ran tells it apart.
"""
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.Router):
    def __init__(self):
        self.table = sl.routers.StickTable("src", expire=None)

    def route(self, request, pool):
        return self.table.route(request, pool)

# %% logout-rates
def logout_rates(scenario):
    return {
        "round_robin": sl.simulate(scenario, sl.routers.RoundRobin()).session_loss_rate(),
        "sticky": sl.simulate(scenario, sl.routers.StickTable("src", expire=None)).session_loss_rate(),
    }
