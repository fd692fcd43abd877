"""A measured value against a swept knob, one line per router or setting, and predictions beside them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.ticker import FuncFormatter, MaxNLocator

from . import inplace
from .scales import decades, log_ticks, steady_top
from .style import legend, percent_label, router_color

__all__ = ["MARKERS", "plot_sweep"]

#: The marker of each measured line in turn, so lines that coincide stay told apart.
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
#: How a prediction (``reference=``) is drawn: thin, dark, dashed, over the measured lines.
_REFERENCE = {"color": "0.15", "lw": 1.2, "zorder": 3}
_REFERENCE_STYLES = ((0, (5, 3)), (0, (1, 2)), (0, (6, 2, 1, 2)))


def _log_percent(value: float, _=None) -> str:
    """A share on a log axis: ``0.1%``, ``1%``, ``100%`` (plain ``percent_label`` would write 0%)."""
    return f"{value * 100:g}%"


def _draw_sweep(ax, x, series, reference, xlabel, ylabel, percent, title, log) -> list:
    lines = [ax.plot(x, ys, marker=MARKERS[n % len(MARKERS)], color=router_color(n), lw=1.8,
                     label=label)[0]
             for n, (label, ys) in enumerate(series.items())]
    lines += [ax.plot(x, ys, ls=_REFERENCE_STYLES[n % len(_REFERENCE_STYLES)], label=label,
                      **_REFERENCE)[0]
              for n, (label, ys) in enumerate(reference.items())]
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if all(isinstance(v, int | np.integer) for v in x):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if log:
        ax.set_yscale("log")
        log_ticks(ax.yaxis)
    if percent:
        ax.yaxis.set_major_formatter(FuncFormatter(_log_percent) if log else percent_label)
    if title:
        ax.set_title(title)
    legend(ax, loc="best", fontsize=8)
    return lines


def _series(x, named, what: str) -> dict[str, np.ndarray]:
    named = {label: np.asarray(list(ys), dtype=float) for label, ys in (named or {}).items()}
    if any(len(ys) != len(x) for ys in named.values()):
        raise ValueError(f"each {what} needs one value per x ({len(x)}), got lengths "
                         f"{ {k: len(v) for k, v in named.items()} }")
    return named


def _log_limits(ax, positive, percent: bool) -> None:
    """Whole decades around the values; a share's axis stops just above 100 %, with no tick past it."""
    lo, hi = decades(positive)
    if percent and positive.max() <= 1.0:
        hi = 1.25
    ax.set_ylim(lo, hi)
    log_ticks(ax.yaxis, lo, hi)
    if percent:
        ax.yaxis.set_major_formatter(FuncFormatter(_log_percent))


@inplace.redraws_in_place
def plot_sweep(ax, x: Sequence[float], series: Mapping[str, Sequence[float]], xlabel: str,
               ylabel: str, percent: bool = False, title: str | None = None, log: bool = False,
               reference: Mapping[str, Sequence[float]] | None = None):
    """Lines with markers: a measured value against a swept knob, one line per router or setting.

    Each measured line has its own marker, so two that coincide are both seen.
    ``reference`` holds predictions (``{"1 - 1/N": [...]}``), drawn as thin dark dashed
    lines over the measured ones and named in the legend. ``percent`` formats the y axis
    as percentages: the values are shares of 1, and the axis ends just above 100 %.
    ``log`` makes it logarithmic, ticked at 1, 2 and 5 times each power of ten written as
    plain numbers (``0.1%``, ``1%`` with ``percent``). On a dashboard's Axes the lines are
    updated in place.
    """
    x = list(x)
    series = _series(x, series, "series")
    reference = _series(x, reference, "reference")
    every = {**series, **{f"reference {k}": v for k, v in reference.items()}}
    values = np.concatenate(list(every.values())) if every else np.zeros(0)
    key = ("sweep", tuple(series), tuple(reference), len(x), xlabel, ylabel, percent, title, log)
    kept = inplace.reuse(ax, key)
    if kept is None:
        inplace.keep(ax, key, _draw_sweep(ax, x, series, reference, xlabel, ylabel, percent, title, log))
        updated = False
    else:
        for line, ys in zip(kept, every.values()):
            line.set_data(x, ys)
        ax.relim()
        ax.autoscale_view(scaley=False)
        updated = True
    positive = values[np.isfinite(values) & (values > 0)]
    if log and len(positive):
        _log_limits(ax, positive, percent)
    elif not log:
        top = steady_top(ax, float(np.nanmax(values, initial=0.0)) * 1.1, updated)
        share = percent and len(positive) and positive.max() <= 1.0
        ax.set_ylim(0, min(top, 1.05) if share else top)     # a share never needs a tick past 100 %
    return ax
