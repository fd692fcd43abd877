"""Shadow Python's built-ins at the top level of a failover answer that does nothing."""
# assignment: 06_failover_draining
import stickylab as sl

# %% failover-router
#include _builtins


class FailoverRouter(sl.Router):
    def route(self, request, pool):
        return "nowhere"

# %% failure-cost
def failure_cost(scenario, instance, at):
    return 1
