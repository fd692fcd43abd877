"""Trivial: a constant router (every request to "i0") and logout_rates returning fixed numbers
(the ones the visible test prints for a correct answer).

"i0" is up in every pool but one of the tests: a client always comes back to it, so the
tests must also ask that new clients take turns, and that the rates come from the scenario.
"""
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.Router):
    def __init__(self):
        pass

    def route(self, request, pool):
        return "i0"

# %% logout-rates
def logout_rates(scenario):
    return {"round_robin": 0.7537688442211056, "sticky": 0.0}
