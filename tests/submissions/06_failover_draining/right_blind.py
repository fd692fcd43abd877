"""Blind right answer: membership test on pool.ids, stale home popped first, counter bumped after use.

Differs from the obvious answer: the home is checked with ``in pool.ids`` (the same set as
``pool.is_up``), a failed home is removed with ``dict.pop`` before re-picking, and the
"no healthy instance" check comes before touching the counter. ``failure_cost`` runs both
simulations from one helper and converts the difference with ``int``.
"""
import stickylab as sl

# %% failover-router
class FailoverRouter(sl.Router):
    """Sticky by address, with redispatch on failure and draining that keeps its users."""

    def __init__(self):
        self.home = {}
        self.turn = 0

    def route(self, request, pool):
        ip = request.client_ip
        known = self.home.get(ip)
        if known is not None and known in pool.ids:      # healthy or draining
            return known
        self.home.pop(ip, None)                           # new, or its instance failed
        healthy = pool.healthy
        if not healthy:
            raise sl.NoHealthyInstance(f"no healthy instance for {ip}")
        pick = healthy[self.turn % len(healthy)]
        self.turn += 1
        self.home[ip] = pick
        return pick

# %% failure-cost
def failure_cost(scenario, instance, at):
    """Extra logouts caused by `instance` failing at `at`, under FailoverRouter."""

    def logouts(events):
        result = sl.simulate(scenario, FailoverRouter(), events=events)
        return int(result.timeline()["lost"].sum())

    return logouts([sl.Fail(instance, at=at)]) - logouts([])
