"""Links handed in beside the notebook, to the gradebook and the solutions, read by a cell."""
# beside: gradebook.txt -> ../../../gradebook.db
# beside: solution.txt -> ../../../solutions/01_stateless_vs_sticky/01_stateless_vs_sticky.ipynb
import stickylab as sl

# %% first-sticky
for _name in ("gradebook.txt", "solution.txt"):
    try:
        print(_name, "read:", open(_name, errors="replace").read()[:5000])
    except OSError as _exc:
        print(_name, "unreadable:", _exc.strerror)
#include _wrong
