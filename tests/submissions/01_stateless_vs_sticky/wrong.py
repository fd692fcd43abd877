"""Plausible wrong answer: sticky, but keeps sending clients to a dead instance; measures 1 - affinity.

Passes the visible tests. Each `# expect:` line names a hidden test cell that must fail
and a phrase its message must contain. Each `# %% <grade_id>` section replaces that cell.
"""
# expect: test-sticky-hidden is not up
# expect: test-sticky-hidden-drain is not up
# expect: test-logouts-hidden session_loss_rate
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.Router):
    def __init__(self):
        self.seen = {}
        self.turn = 0

    def route(self, request, pool):
        if request.client_ip not in self.seen:
            self.seen[request.client_ip] = pool.healthy[self.turn % len(pool.healthy)]
            self.turn += 1
        return self.seen[request.client_ip]

# %% logout-rates
def logout_rates(scenario):
    rr = sl.simulate(scenario, sl.routers.RoundRobin())
    sticky = sl.simulate(scenario, FirstSticky())
    return {"round_robin": 1 - rr.affinity(), "sticky": 1 - sticky.affinity()}
