"""No work: every client goes to the first healthy instance, and the cost is a fixed rate.

Clients "stick" (they always land on pool.healthy[0]) and nobody is sent to a failed or a
draining instance, but nothing is remembered and nobody takes turns; failure_cost returns
0.1 whatever it is given, a share rather than a count.
"""
# expect: test-failover-visible round robin
# expect: test-failover-hidden-redispatch went to i1
# expect: test-cost-visible a rate
import stickylab as sl

# %% failover-router
class FailoverRouter(sl.Router):
    def __init__(self):
        self.home = {}
        self.turn = 0

    def route(self, request, pool):
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        return pool.healthy[0]

# %% failure-cost
def failure_cost(scenario, instance, at):
    return 0.1
