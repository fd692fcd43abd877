"""A call that ignores the interrupt sent at the cell's time limit (SIGINT blocked, a long sleep in C)."""
import stickylab as sl

# %% first-sticky
#include _wrong

# %% +stuck
import signal, time

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
time.sleep(10 ** 6)
