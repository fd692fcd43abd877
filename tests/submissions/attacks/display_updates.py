"""Forty tiny outputs that share one display id, then one update of a megabyte: each of the forty
takes the update, and the graded notebook and its feedback grow by 40 MB past the output caps."""
import stickylab as sl

# %% first-sticky
from IPython.display import display, update_display

for _k in range(40):
    display({"text/plain": "."}, raw=True, display_id="same")
update_display({"text/plain": "u" * 1_000_000}, raw=True, display_id="same")
#include _wrong
