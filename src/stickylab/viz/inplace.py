"""The contract between plots and dashboards: which Axes are redrawn in place, and what was drawn.

A dashboard redraws one figure on every update. It keeps a :class:`LiveAxes`, the Axes it
redraws in place. On such a *live* Axes a plot keeps what it drew as a :class:`Drawing`:
a key naming everything that fixes the number and the labels of its artists, and those
artists. Called again with the same key, the plot changes the artists' data instead of
clearing the Axes and making new ones; with another key it clears the Axes and starts
afresh. Any other Axes is drawn on as usual, so plots can still be overlaid.

The drawings belong to the :class:`LiveAxes`, that is to the dashboard (or stepper) that
keeps it, never to the Axes: plots find it from an Axes through a weak table here, so
once its owner is gone the Axes is ordinary again and nothing here keeps a figure alive.
:meth:`LiveAxes.drawing` is what a renderer reads (the key says whether the picture's
frame may have moved). The plots that keep this contract are registered with
:func:`redraws_in_place`; :func:`updates_in_place` asks.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Drawing", "LiveAxes", "drawing", "is_live", "keep", "redraws_in_place", "reuse",
           "updates_in_place"]


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


#: Each live Axes and (weakly) the LiveAxes it belongs to.
_owners: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class LiveAxes:
    """The Axes one owner (a dashboard, a stepper) redraws in place, and what each plot kept there.

    Keep this object as long as the Axes should stay live: plots update in place on an
    Axes only while its LiveAxes exists.
    """

    def __init__(self, axes=()):
        self._drawings: dict = {}
        for ax in axes:
            self.add(ax)

    def add(self, ax) -> None:
        """Make ``ax`` live: plots drawn on it again update the artists they drew."""
        self._drawings.setdefault(ax, None)
        _owners[ax] = weakref.ref(self)

    def release(self, ax) -> None:
        """Make ``ax`` an ordinary Axes again and forget what was drawn on it (the caller clears it)."""
        self._drawings.pop(ax, None)
        if _owner(ax) is None:
            _owners.pop(ax, None)

    def drawing(self, ax) -> Drawing | None:
        """What the last plot kept on ``ax``, or None (not live here, or nothing kept yet)."""
        return self._drawings.get(ax)

    def __contains__(self, ax) -> bool:
        """True if ``ax`` is live here."""
        return ax in self._drawings

    def _set(self, ax, drawing: Drawing | None) -> None:
        self._drawings[ax] = drawing


def _owner(ax) -> LiveAxes | None:
    ref = _owners.get(ax)
    owner = ref() if ref is not None else None
    return owner if owner is not None and ax in owner else None


def is_live(ax) -> bool:
    """True if ``ax`` belongs to a :class:`LiveAxes`."""
    return _owner(ax) is not None


def drawing(ax) -> Drawing | None:
    """What the last plot kept on a live ``ax``, or None (not live, or nothing kept yet)."""
    owner = _owner(ax)
    return owner.drawing(ax) if owner is not None else None


def reuse(ax, key: tuple):
    """The artists kept on a live ``ax`` under ``key``; else None, after clearing a live ``ax``."""
    owner = _owner(ax)
    if owner is None:
        return None
    kept = owner.drawing(ax)
    if kept is not None and kept.key == key:
        return kept.artists
    ax.clear()
    owner._set(ax, None)
    return None


def keep(ax, key: tuple, artists) -> None:
    """Remember ``artists`` under ``key`` on a live ``ax`` (nothing on an ordinary one)."""
    owner = _owner(ax)
    if owner is not None:
        owner._set(ax, Drawing(key, artists))


_in_place_plots: set[Callable] = set()


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
