"""Right (beginner): try/except KeyError lookup, turn kept wrapped (turn = (turn+1) % n), baseline simulated without events=, numpy sum difference."""
import stickylab as sl

# %% failover-router
class FailoverRouter(sl.Router):
    """Sticky by address, with redispatch on failure and draining that keeps its users."""

    def __init__(self):
        self.home = {}
        self.turn = 0

    def route(self, request, pool):
        ip = request.client_ip
        try:
            iid = self.home[ip]
            if pool.is_up(iid):
                return iid
        except KeyError:
            pass
        healthy = pool.healthy
        if len(healthy) == 0:
            raise sl.NoHealthyInstance("nothing healthy")
        if self.turn >= len(healthy):
            self.turn = self.turn % len(healthy)
        iid = healthy[self.turn]
        self.turn = (self.turn + 1) % len(healthy)
        self.home[ip] = iid
        return iid

# %% failure-cost
def failure_cost(scenario, instance, at):
    normal = sl.simulate(scenario, FailoverRouter())
    broken = sl.simulate(scenario, FailoverRouter(), events=[sl.Fail(instance, at=at)])
    lost_normal = normal.timeline()["lost"].sum()
    lost_broken = broken.timeline()["lost"].sum()
    return lost_broken - lost_normal
