"""No work: the router always answers "i0", and failure_cost always answers 42.

Every answer is a constant: the router ignores the pool and the client, and the cost is
the same whatever fails, and whenever.
"""
# expect: test-failover-visible round robin
# expect: test-cost-visible as the run ended
import stickylab as sl

# %% failover-router
class FailoverRouter(sl.Router):
    def __init__(self):
        self.home = {}
        self.turn = 0

    def route(self, request, pool):
        return "i0"

# %% failure-cost
def failure_cost(scenario, instance, at):
    return 42
