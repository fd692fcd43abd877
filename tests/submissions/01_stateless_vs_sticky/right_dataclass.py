"""Right: dataclass with field(default_factory), super().__init__(), helper for the pick, dict comprehension."""
import stickylab as sl

# %% first-sticky
from dataclasses import dataclass, field


@dataclass
class FirstSticky(sl.Router):
    memory: dict = field(default_factory=dict)
    picks: int = 0

    def _pick(self, pool):
        choices = pool.healthy
        if not choices:
            raise sl.NoHealthyInstance("503: nobody healthy")
        iid = choices[self.picks % len(choices)]
        self.picks += 1
        return iid

    def route(self, request, pool):
        key = request.client_ip
        iid = self.memory.get(key)
        if iid is None or not pool.is_up(iid):
            iid = self.memory[key] = self._pick(pool)
        return iid

# %% logout-rates
def logout_rates(scenario):
    runs = [("round_robin", sl.routers.RoundRobin()), ("sticky", FirstSticky())]
    return {name: sl.simulate(scenario, r).session_loss_rate() for name, r in runs}
