"""Eight extra cells, each an infinite loop: each costs a whole cell time limit unless the notebook has one."""
import stickylab as sl

# %% first-sticky
#include _wrong

# %% +loop-1
while True:
    pass

# %% +loop-2
while True:
    pass

# %% +loop-3
while True:
    pass

# %% +loop-4
while True:
    pass

# %% +loop-5
while True:
    pass

# %% +loop-6
while True:
    pass

# %% +loop-7
while True:
    pass

# %% +loop-8
while True:
    pass
