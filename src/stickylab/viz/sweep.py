"""A measured value against a swept knob, one line per router or setting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from . import inplace
from .scales import decades, log_ticks, steady_top
from .style import legend, percent_label, router_color

__all__ = ["plot_sweep"]


def _draw_sweep(ax, x, series, xlabel, ylabel, percent, title, log) -> list:
    lines = [ax.plot(x, ys, marker="o", color=router_color(n), lw=1.8, label=label)[0]
             for n, (label, ys) in enumerate(series.items())]
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if all(isinstance(v, int | np.integer) for v in x):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if log:
        ax.set_yscale("log")
        log_ticks(ax.yaxis)
    if percent:
        ax.yaxis.set_major_formatter(percent_label)
    if title:
        ax.set_title(title)
    legend(ax, loc="best", fontsize=8)
    return lines


@inplace.redraws_in_place
def plot_sweep(ax, x: Sequence[float], series: Mapping[str, Sequence[float]], xlabel: str,
               ylabel: str, percent: bool = False, title: str | None = None, log: bool = False):
    """Lines with markers: a measured value against a swept knob, one line per router or setting.

    ``percent`` formats the y axis as percentages; ``log`` makes it logarithmic, ticked at
    1, 2 and 5 times each power of ten written as plain numbers. On a dashboard's Axes the
    lines are updated in place.
    """
    x = list(x)
    series = {label: np.asarray(list(ys), dtype=float) for label, ys in series.items()}
    if any(len(ys) != len(x) for ys in series.values()):
        raise ValueError(f"each series needs one value per x ({len(x)}), got lengths "
                         f"{ {k: len(v) for k, v in series.items()} }")
    values = np.concatenate(list(series.values())) if series else np.zeros(0)
    key = ("sweep", tuple(series), len(x), xlabel, ylabel, percent, title, log)
    kept = inplace.reuse(ax, key)
    if kept is None:
        inplace.keep(ax, key, _draw_sweep(ax, x, series, xlabel, ylabel, percent, title, log))
        updated = False
    else:
        for line, ys in zip(kept, series.values()):
            line.set_data(x, ys)
        ax.relim()
        ax.autoscale_view(scaley=False)
        updated = True
    positive = values[np.isfinite(values) & (values > 0)]
    if log and len(positive):
        lo, hi = decades(positive)
        ax.set_ylim(lo, hi)
        log_ticks(ax.yaxis, lo, hi)
    elif not log:
        ax.set_ylim(0, steady_top(ax, float(np.nanmax(values, initial=0.0)) * 1.1, updated))
    return ax
