"""Hostile: kills its own kernel (as a segfault or the OOM killer would).

nbgrader cannot finish this notebook: the submission is recorded with zero and an error in
the log, and the grading of everyone else goes on.
"""
# expect: test-failover-visible
# expect: test-failover-hidden-drain
# expect: test-failover-hidden-redispatch
# expect: test-cost-visible
# expect: test-cost-hidden
import os
import signal

# %% failover-router
os.kill(os.getpid(), signal.SIGKILL)
