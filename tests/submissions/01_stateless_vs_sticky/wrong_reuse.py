"""Plausible wrong answer: FirstSticky is stickylab's own StickTable router under another name.

It routes as asked while clients come back within half an hour, but its entries expire
(HAProxy's `expire 30m`), so a client that returns later is picked again: FirstSticky
remembers a client for as long as its instance is up, and is written by hand. logout_rates
builds FirstSticky(), which runs StickTable's own constructor: the hidden logout test names it.
"""
# expect: test-sticky-hidden no expiry
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
