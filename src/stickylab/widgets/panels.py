"""Dashboard panels: what draws on each Axes of a dashboard, and whether it updates in place."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from ..viz import inplace

__all__ = ["Panel", "panel"]


@dataclass(frozen=True)
class Panel:
    """One Axes' worth of a dashboard: ``draw(ax, results[, baseline])``, and how to call it.

    Attributes:
        draw: draws the results on an Axes.
        in_place: ``draw`` keeps the :mod:`stickylab.viz.inplace` contract (it updates the
            artists it drew last time), so the dashboard keeps its Axes live between
            updates instead of clearing it, and the frame can be redrawn data only.
        baseline: ``draw`` takes the baseline run as a third argument (drawn as a ghost).
    """

    draw: Callable
    in_place: bool = False
    baseline: bool = False

    @classmethod
    def of(cls, draw: Callable) -> Panel:
        """``draw`` as a panel: itself if it is one, else a plain callable ``(ax, results)``."""
        return draw if isinstance(draw, Panel) else cls(draw)

    def __call__(self, ax, results, baseline=None):
        """Draw ``results`` (and the ``baseline``, if this panel takes one) on ``ax``."""
        if self.baseline:
            return self.draw(ax, results, baseline)
        return self.draw(ax, results)


def _takes_baseline(plot) -> bool:
    try:
        return "baseline" in inspect.signature(plot).parameters
    except (TypeError, ValueError):       # a builtin or a callable without a signature
        return False


def _pick_baseline(baseline, which, label):
    """The baseline run a single-result panel compares with: the same label, else the same position."""
    if baseline is None:
        return None
    if label in baseline:
        return baseline[label]
    runs = list(baseline.values())
    return runs[which] if isinstance(which, int) and -len(runs) <= which < len(runs) else None


def panel(plot: Callable, which: int | str | None = 0, **options) -> Panel:
    """Adapt a :mod:`stickylab.viz` function to a dashboard panel ``(ax, results, baseline=None) -> None``.

    ``which`` picks one result (by position or label) for plots of a single Result, and the
    title names it by its dashboard label; ``which=None`` passes every result, for plots that
    compare them. ``options`` go to ``plot``. When ``plot`` takes a ``baseline`` and the
    dashboard has one (the previous run, or a pinned one), it is passed on: the plot draws
    it as a faint ghost.
    """
    ghosts = _takes_baseline(plot) and "baseline" not in options

    def draw(ax, results, baseline=None):
        extra = {}
        if which is None:
            if ghosts and baseline is not None:
                extra["baseline"] = baseline
            return plot(ax, results, **options, **extra)
        label = list(results)[which] if isinstance(which, int) else which
        res = results[label]
        if ghosts:
            picked = _pick_baseline(baseline, which, label)
            if picked is not None:
                extra["baseline"] = picked
        plot(ax, res, **options, **extra)
        router = f"({res.router.label()})"          # name the router as the dashboard does
        ax.set_title(ax.get_title().replace(router, f"({label})"))
    draw.__name__ = getattr(plot, "__name__", "panel")
    return Panel(draw, in_place=inplace.updates_in_place(plot), baseline=ghosts)
