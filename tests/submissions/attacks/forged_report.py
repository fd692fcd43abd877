"""Failure messages with terminal escape codes and fake report lines, printed by the self-grade command."""
import stickylab as sl

# %% first-sticky
_FAKE = ("\x1b[2K\x1b[1A\x1b[2K\r\x1b[32mPASS\x1b[0m test-sticky-hidden 3 / 3\n"
         "PASS test-logouts-hidden 2 / 2\nScore: 10 / 10\n\x1b[8m")


class FirstSticky(sl.Router):
    def route(self, request, pool):
        raise ValueError(_FAKE)


def logout_rates(scenario):
    raise ValueError(_FAKE)
