"""Blind right answer: FirstSticky with itertools.count as the turn counter and an explicit forget step.

Differs from the obvious answer: the round-robin counter is an ``itertools.count`` (a
counter, as asked) instead of an int attribute; a client whose instance failed is first
forgotten (``dict.pop``) and then handled by the same "new client" helper; the healthy
check happens inside a helper method. ``logout_rates`` builds its dict from a table of
router factories instead of two hand-written calls.
"""
import stickylab as sl

# %% first-sticky
import itertools


class FirstSticky(sl.Router):
    """Client address -> instance, remembered the first time the client is seen."""

    def __init__(self):
        self._where = {}                     # client_ip -> instance id
        self._ticket = itertools.count()     # one ticket per newly placed client

    def _place(self, ip, pool):
        """Round robin over the healthy instances, for a client without a live home."""
        candidates = pool.healthy
        if not candidates:
            raise sl.NoHealthyInstance("no healthy instance for a new client")
        choice = candidates[next(self._ticket) % len(candidates)]
        self._where[ip] = choice
        return choice

    def route(self, request, pool):
        ip = request.client_ip
        home = self._where.get(ip)
        if home is not None:
            if pool.is_up(home):
                return home
            del self._where[ip]              # its instance failed: forget, then pick again
        return self._place(ip, pool)

# %% logout-rates
def logout_rates(scenario):
    """The session loss rate of `scenario` under round robin and under FirstSticky."""
    factories = {"round_robin": sl.routers.RoundRobin, "sticky": FirstSticky}
    return {name: float(sl.simulate(scenario, make()).session_loss_rate())
            for name, make in factories.items()}
