"""What a dashboard compares: its current run and a baseline, the run before the last change or a pinned one.

A model of its own (no widgets): every new run pushes the one before it into the baseline,
unless a baseline is pinned; a cached run that comes back unchanged pushes nothing.
"""

from __future__ import annotations

import html

from ..metrics import Result
from .schedule import describe_change

__all__ = ["Comparison", "same_runs"]


def same_runs(a, b) -> bool:
    """True if two runs' results are the same objects (a cached run came back)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(a[k] is b[k] for k in a)
    return a is b


class Comparison:
    """The current results and the baseline, with the settings (``values``) that made each.

    Attributes:
        results: the current run's results (None before the first).
        values: the settings of the current run, by name.
        baseline: the run compared with (None until there is one).
        baseline_values: the settings of the baseline.
        pinned: the baseline stays while the settings move (:meth:`pin`).
    """

    def __init__(self):
        self.results = self.values = None
        self.baseline = self.baseline_values = None
        self.pinned = False

    def advance(self, results, values) -> None:
        """A new run: the one before it becomes the baseline (unless pinned, or it is the same run)."""
        if self.results is not None and not self.pinned and not same_runs(results, self.results):
            self.baseline, self.baseline_values = self.results, self.values
        self.results, self.values = results, values

    def pin(self) -> None:
        """Keep the current run as the baseline."""
        self.pin_to(self.results, self.values)

    def pin_to(self, baseline, values) -> None:
        """Keep ``baseline`` (made with ``values``) as the baseline."""
        self.baseline, self.baseline_values, self.pinned = baseline, values, True

    def unpin(self) -> None:
        """Go back to comparing each run with the one before it."""
        self.pinned = False

    def ghost(self) -> dict[str, Result] | None:
        """The baseline as ``{label: Result}`` for the plots to draw, or None (none, or not Results)."""
        baseline = self.baseline
        if isinstance(baseline, dict) and all(isinstance(r, Result) for r in baseline.values()):
            return baseline
        return None

    def note(self) -> str:
        """An HTML line saying what the dashed lines are and what changed since (empty without a ghost)."""
        if self.ghost() is None:
            return ""
        what = "the pinned baseline" if self.pinned else "the previous run"
        change = describe_change(self.baseline_values or {}, self.values or {})
        return (f"<span style='color:#555'>Dashed / grey: {what}"
                f"{' (' + html.escape(change) + ')' if change else ''}.</span>")
