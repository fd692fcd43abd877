"""Axis ranges and ticks: round tops that hold still while a dashboard updates, plain log ticks."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

__all__ = ["decades", "log_ticks", "nice_ceiling", "same_scale", "steady_top"]

_NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is >= ``x``.

    1 if ``x`` is not a positive finite number.
    """
    if not x > 0 or not math.isfinite(x):
        return 1.0
    scale = 10.0 ** math.floor(math.log10(x))
    return next(m * scale for m in _NICE if m * scale >= x * (1 - 1e-12))


def steady_top(ax, needed: float, kept: bool) -> float:
    """The top of a y axis starting at 0 that must show ``needed``: a round number that holds still.

    On a dashboard's Axes being updated (``kept``), the current top stays while the data
    fills between 40 % and 100 % of it, so the frame and tick labels need no redraw and
    successive runs are drawn on one scale. When the data outgrows it, the new top leaves
    room to grow further (a slider dragged one way keeps going that way).
    """
    if not kept:
        return nice_ceiling(needed * 1.1)
    top = ax.get_ylim()[1]
    if 0.4 * top <= needed <= top or (needed <= 0 and top == 1.0):
        return top
    return nice_ceiling(needed * (1.6 if needed > top else 1.25))


def log_ticks(axis, lo: float | None = None, hi: float | None = None) -> None:
    """Log-axis ticks written as plain numbers (``0.5``, ``20``, ``1,000``), no minor labels.

    Ticks fall at 1, 2 and 5 times each power of ten when ``lo``..``hi`` spans at most
    two decades, else at the powers of ten only, so labels never run into each other.
    """
    wide = lo is not None and hi is not None and math.log10(hi / lo) > 2.01
    axis.set_major_locator(LogLocator(base=10, subs=(1.0,) if wide else (1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def decades(values) -> tuple[float, float]:
    """Limits of a log axis at whole powers of ten around ``values`` (positive)."""
    lo, hi = float(np.min(values)), float(np.max(values))
    lo = 10.0 ** math.floor(math.log10(lo))
    hi = 10.0 ** math.ceil(math.log10(hi * (1 + 1e-9)))
    return lo, max(hi, lo * 10)


def same_scale(*axes, axis: str = "y") -> None:
    """Give ``axes`` one common y (or x) range, the union of theirs, so bars side by side compare by height.

    Use it on plots drawn separately (``plt.subplots(1, 2)`` without ``sharey``).
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got axis={axis!r}")
    if not axes:
        raise ValueError("same_scale needs at least one Axes")
    limits = [ax.get_ylim() if axis == "y" else ax.get_xlim() for ax in axes]
    lo, hi = min(min(lim) for lim in limits), max(max(lim) for lim in limits)
    for ax in axes:
        (ax.set_ylim if axis == "y" else ax.set_xlim)(lo, hi)
