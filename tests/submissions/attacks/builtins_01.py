"""Shadow Python's built-ins at the top level, so that the hidden tests' checks call the learner's,
over a router that sends every client to the first healthy instance."""
import stickylab as sl

# %% first-sticky
#include _builtins


class FirstSticky(sl.Router):
    def route(self, request, pool):
        return pool.healthy[0]

# %% logout-rates
def logout_rates(scenario):
    return {"round_robin": 0.75, "sticky": 0.0}
