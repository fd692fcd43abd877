"""Exit the kernel from inside a call the tests make: the tests lose their connection mid-cell."""
import stickylab as sl

# %% first-sticky
import os


class FirstSticky(sl.Router):
    def route(self, request, pool):
        os._exit(0)


def logout_rates(scenario):
    os._exit(0)
