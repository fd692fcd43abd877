"""Baselines: another run (the previous one, or a pinned one) drawn faintly behind the current one.

Lines draw a baseline dashed and faint (a *ghost*); bars mark it with a black dash. A
router still shown keeps its colour in the ghost; others are grey. One legend entry
speaks for every ghost.
"""

from __future__ import annotations

import numpy as np

from ..metrics import Result
from .runs import as_results
from .style import router_color

__all__ = ["GHOST", "GHOST_NOTE", "ghost_label", "ghost_points", "ghosts", "rename_ghost"]

#: How a baseline's line is drawn.
GHOST = {"alpha": 0.5, "ls": (0, (4, 2)), "lw": 1.3}
#: The legend entry of the ghosts.
GHOST_NOTE = "dashed: baseline"


def ghosts(baseline, labels) -> list[tuple[str, Result, str]]:
    """``(label, result, colour)`` per baseline run; a router still shown keeps its colour, others grey."""
    if baseline is None:
        return []
    labels = list(labels)
    return [(label, res, router_color(labels.index(label)) if label in labels else "0.45")
            for label, res in as_results(baseline).items()]


def ghost_label(n: int, shown) -> str:
    """The legend entry of ghost ``n``: the first one speaks for all, naming the run if it is alone."""
    if n:
        return "_nolegend_"
    return f"{GHOST_NOTE} ({shown[0][0]})" if len(shown) == 1 else GHOST_NOTE


def rename_ghost(ax, index: int, shown) -> None:
    """Keep the ghost's legend entry (entry ``index``) naming the run it now shows."""
    legend = ax.get_legend()
    if shown and legend is not None and index < len(legend.get_texts()):
        legend.get_texts()[index].set_text(ghost_label(0, shown))


def ghost_points(ids, baseline, values) -> np.ndarray:
    """(x, y) of a baseline's per-instance values, at the bars of the same instance ids."""
    if baseline is None:
        return np.empty((0, 2))
    where = {iid: k for k, iid in enumerate(ids)}
    pts = [(where[iid], v) for iid, v in zip(baseline.instance_ids, values) if iid in where]
    return np.array(pts, dtype=float).reshape(-1, 2)
