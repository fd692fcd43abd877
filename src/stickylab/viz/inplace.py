"""The contract between plots and dashboards: which Axes are redrawn in place, and what was drawn.

A dashboard redraws one figure on every update. It marks each Axes it redraws *live*
(:func:`make_live`). On a live Axes a plot keeps what it drew as a :class:`Drawing`: a
key naming everything that fixes the number and the labels of its artists, and those
artists. Called again with the same key, the plot changes the artists' data instead of
clearing the Axes and making new ones; with another key it clears the Axes and starts
afresh. Any Axes not marked live is drawn on as usual, so plots can still be overlaid.

The marks and drawings are kept here, in weak tables keyed by the Axes, never on the Axes:
an Axes that is thrown away takes its entries with it. :func:`drawing` is what a renderer
reads (the key says whether the picture's frame may have moved). The plots that keep this
contract are registered with :func:`redraws_in_place`; :func:`updates_in_place` asks.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Drawing", "drawing", "is_live", "keep", "make_live", "redraws_in_place", "release",
           "reuse", "updates_in_place"]


@dataclass(frozen=True)
class Drawing:
    """What a plot drew on a live Axes.

    Attributes:
        key: everything that fixes the number and labels of the artists (the plot's name,
            the routers compared, the instances, the events...); a call with another key
            draws afresh.
        artists: the artists the plot updates, in the plot's own record (a tuple or a
            named tuple; only the plot that made it reads it).
    """

    key: tuple
    artists: Any


_live: weakref.WeakSet = weakref.WeakSet()
_drawings: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_in_place_plots: set[Callable] = set()


def make_live(ax) -> None:
    """Mark ``ax`` as a dashboard's: plots drawn on it again update the artists they drew."""
    _live.add(ax)


def is_live(ax) -> bool:
    """True if ``ax`` is marked live (:func:`make_live`)."""
    return ax in _live


def release(ax) -> None:
    """Make ``ax`` an ordinary Axes again and forget what was drawn on it (the caller clears it)."""
    _live.discard(ax)
    _drawings.pop(ax, None)


def drawing(ax) -> Drawing | None:
    """What the last plot kept on a live ``ax``, or None (not live, or nothing kept yet)."""
    return _drawings.get(ax)


def reuse(ax, key: tuple):
    """The artists kept on a live ``ax`` under ``key``; else None, after clearing a live ``ax``."""
    if ax not in _live:
        return None
    kept = _drawings.get(ax)
    if kept is not None and kept.key == key:
        return kept.artists
    ax.clear()
    _drawings.pop(ax, None)
    return None


def keep(ax, key: tuple, artists) -> None:
    """Remember ``artists`` under ``key`` on a live ``ax`` (nothing on an ordinary one)."""
    if ax in _live:
        _drawings[ax] = Drawing(key, artists)


def redraws_in_place(plot: Callable) -> Callable:
    """Register ``plot`` as one that keeps this contract (a decorator; returns ``plot`` itself)."""
    _in_place_plots.add(plot)
    return plot


def updates_in_place(plot: Callable) -> bool:
    """True if ``plot`` updates its own artists on a live Axes (see :func:`redraws_in_place`)."""
    try:
        return plot in _in_place_plots
    except TypeError:           # an unhashable callable
        return False
