"""Wrong: FirstSticky forgets a client idle for more than 3 hours (a stick-table `expire 3h`), but the text says it remembers a client 'however long the client stays away'."""
# expect: test-sticky-hidden no expiry
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.Router):
    def __init__(self):
        self.seen = {}      # ip -> (instance, last seen)
        self.turn = 0

    def route(self, request, pool):
        entry = self.seen.get(request.client_ip)
        if entry is not None and pool.is_up(entry[0]) and request.time - entry[1] <= 3 * 3600:
            self.seen[request.client_ip] = (entry[0], request.time)
            return entry[0]
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        iid = pool.healthy[self.turn % len(pool.healthy)]
        self.turn += 1
        self.seen[request.client_ip] = (iid, request.time)
        return iid

# %% logout-rates
def logout_rates(scenario):
    return {"round_robin": sl.simulate(scenario, sl.routers.RoundRobin()).session_loss_rate(),
            "sticky": sl.simulate(scenario, FirstSticky()).session_loss_rate()}
