"""How hashing schemes share keys among nodes: the keys that move on a change, and the busiest node."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import inplace
from .bars import LabelledBars, draw_labelled_bars, update_labelled_bars
from .style import legend, percent_label

__all__ = ["plot_key_balance", "plot_key_movement"]


def _share(v: float) -> str:
    return f"{v:.0%}"


def _ratio(v: float) -> str:
    return f"{v:.2f}"


@inplace.redraws_in_place
def plot_key_movement(ax, labels: Sequence[str], moved: Sequence[float],
                      ideal: Sequence[float] | None = None):
    """Bars: the share of keys that changed instance, per scheme or change; optional ideal markers."""
    moved, labels = list(moved), list(labels)
    key = ("key_movement", tuple(labels), ideal is None)
    kept = inplace.reuse(ax, key)
    if kept is not None:
        update_labelled_bars(kept, moved, _share)
        if ideal is not None:
            kept.marks.set_offsets(np.column_stack([np.arange(len(labels)), list(ideal)]))
        return ax
    made = draw_labelled_bars(ax, labels, moved, _share)
    marks = None
    if ideal is not None:
        marks = ax.scatter(labels, list(ideal), marker="_", s=900, color="k", zorder=3,
                           label="the least that must move")
        legend(ax, loc="upper right", fontsize=8,      # above 100 %, where no bar reaches;
               markerscale=0.5)                        # the bar-wide mark fits beside its words
    ax.set_ylim(0, 1.35)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.yaxis.set_major_formatter(percent_label)
    ax.set_ylabel("keys that moved (share)")
    ax.set_title("Keys that changed node")
    ax.tick_params(axis="x", labelsize=8)
    inplace.keep(ax, key, LabelledBars(made.bars, made.notes, marks))
    return ax


@inplace.redraws_in_place
def plot_key_balance(ax, labels: Sequence[str], busiest: Sequence[float]):
    """Bars: the busiest node's share of the keys over its fair share 1/N, per scheme (1 = even)."""
    busiest, labels = list(busiest), list(labels)
    key = ("key_balance", tuple(labels))
    kept = inplace.reuse(ax, key)
    if kept is not None:
        update_labelled_bars(kept, busiest, _ratio)
    else:
        made = draw_labelled_bars(ax, labels, busiest, _ratio)
        ax.axhline(1.0, color="k", ls="--", lw=1, label="perfectly even")
        ax.set_ylabel("busiest node's keys / fair share")
        ax.set_title("How evenly keys spread")
        ax.tick_params(axis="x", labelsize=8)
        legend(ax, loc="upper right", fontsize=8)      # above the tallest bar: the axis leaves room
        inplace.keep(ax, key, made)
    ax.set_ylim(0, max(1.5, max(busiest, default=1.0) * 1.35))
    return ax
