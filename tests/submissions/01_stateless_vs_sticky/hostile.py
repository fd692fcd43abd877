"""Hostile: an infinite loop at the top of the cell (the cell times out and is interrupted).

Every test cell that needed the code fails; the grading of everyone else goes on.
"""
# expect: test-sticky-visible FirstSticky
# expect: test-sticky-hidden FirstSticky
# expect: test-sticky-hidden-drain FirstSticky
# expect: test-logouts-visible FirstSticky
# expect: test-logouts-hidden logout_rates
import stickylab as sl

# %% first-sticky
while True:
    pass

class FirstSticky(sl.Router):
    def route(self, request, pool):
        return pool.healthy[0]
