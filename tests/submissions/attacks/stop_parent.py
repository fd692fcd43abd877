"""Stop the process that runs the kernel with SIGSTOP: without a sandbox, grading hangs forever."""
import stickylab as sl

# %% first-sticky
import os, signal

#include _wrong
for _pid in range(1, 64):
    if _pid != os.getpid():
        try:
            os.kill(_pid, signal.SIGSTOP)
        except OSError:
            pass
