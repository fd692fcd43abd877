"""Fifty megabytes of printed text and fifty of HTML: the graded notebook and its feedback swell."""
import stickylab as sl

# %% first-sticky
from IPython.display import HTML, display

print("x" * 50_000_000)
display(HTML("<b>" + "y" * 50_000_000 + "</b>"))
#include _wrong

# %% +more-output
for _k in range(200):
    print(("z" * 1000 + "\n") * 100)

# %% logout-rates
def logout_rates(scenario):
    print("w" * 5_000_000)            # while the tests call it: dropped as it arrives
    return {"round_robin": 2.0, "sticky": 3.0}
