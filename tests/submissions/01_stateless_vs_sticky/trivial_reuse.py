"""Trivial: FirstSticky is stickylab's own StickTable router under another name (a subclass
with nothing of its own), and logout_rates simulates it.

It routes as asked while clients come back within half an hour, but its entries expire
(HAProxy's `expire 30m`), so a client that returns later is picked again. Every cell sees
that the remembering is the library's: what runs (StickTable's methods) and what the router
holds (the library's AffinityTable).
"""
# expect: test-sticky-visible stickylab library
# expect: test-sticky-hidden no expiry
# expect: test-sticky-hidden-drain stickylab library
# expect: test-logouts-visible stickylab library
# expect: test-logouts-hidden StickTable
import stickylab as sl

# %% first-sticky
class FirstSticky(sl.routers.StickTable):
    pass

# %% logout-rates
def logout_rates(scenario):
    return {
        "round_robin": sl.simulate(scenario, sl.routers.RoundRobin()).session_loss_rate(),
        "sticky": sl.simulate(scenario, FirstSticky()).session_loss_rate(),
    }
