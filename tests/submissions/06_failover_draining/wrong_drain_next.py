"""Wrong answer: new clients take turns over pool.ids, and a draining pick is handed to the next healthy one.

The learner's fix for wrong_drain_new: the turn still walks pool.ids, and when it lands on a
draining instance the client goes to the next healthy instance after it. No new client ever
reaches the draining instance, but the instance after it takes two turns per round: while i1
drains, i2 gets half of all new clients (the classic "next server inherits the dead one's
share" of naive round robin).
"""
# expect: test-failover-hidden-drain new clients
import stickylab as sl

# %% failover-router
class FailoverRouter(sl.Router):
    def __init__(self):
        self.home = {}
        self.turn = 0

    def route(self, request, pool):
        iid = self.home.get(request.client_ip)
        if iid is not None and pool.is_up(iid):
            return iid
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        k = self.turn % len(pool.ids)
        self.turn += 1
        while pool.ids[k] not in pool.healthy:      # draining: the next one takes the client
            k = (k + 1) % len(pool.ids)
        iid = pool.ids[k]
        self.home[request.client_ip] = iid
        return iid

# %% failure-cost
def failure_cost(scenario, instance, at):
    def lost(events):
        result = sl.simulate(scenario, FailoverRouter(), events=events)
        return int(result.timeline()["lost"].sum())

    return lost([sl.Fail(instance, at=at)]) - lost([])
