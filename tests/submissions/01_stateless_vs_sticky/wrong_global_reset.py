"""Wrong: the memory is a module global, reset by __init__, so every FirstSticky shares (and wipes) it.

`global SEEN, TURN` in __init__ and route(): each new router clears the memory of every
router made before it, and two routers alive at once mix their clients.  Tests make one
router at a time, so nothing notices.
"""
# expect: test-sticky-hidden two routers must be independent
import stickylab as sl

# %% first-sticky
SEEN = {}
TURN = 0


class FirstSticky(sl.Router):
    def __init__(self):
        global SEEN, TURN
        SEEN = {}
        TURN = 0

    def route(self, request, pool):
        global TURN
        iid = SEEN.get(request.client_ip)
        if iid is not None and pool.is_up(iid):
            return iid
        if not pool.healthy:
            raise sl.NoHealthyInstance("no healthy instance")
        iid = pool.healthy[TURN % len(pool.healthy)]
        TURN += 1
        SEEN[request.client_ip] = iid
        return iid

# %% logout-rates
def logout_rates(scenario):
    return {
        "round_robin": sl.simulate(scenario, sl.routers.RoundRobin()).session_loss_rate(),
        "sticky": sl.simulate(scenario, FirstSticky()).session_loss_rate(),
    }
