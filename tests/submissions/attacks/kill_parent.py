"""Kill the process that runs the kernel (the grader, without a sandbox): the rest of the class is never graded."""
import stickylab as sl

# %% first-sticky
import os, signal

#include _wrong
for _pid in {os.getppid(), os.getpgid(0)}:
    try:
        os.kill(_pid, signal.SIGKILL)
    except OSError as _exc:
        print("could not kill", _pid, _exc)
