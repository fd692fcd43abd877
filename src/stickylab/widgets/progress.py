"""Running an experiment over a list of values, with a progress bar while it runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as w

from .controls import STYLE
from .display import show

__all__ = ["sweep"]


def sweep(run: Callable, values: Sequence, description: str = "running",
          bar: w.IntProgress | None = None) -> list:
    """``[run(v) for v in values]`` with a progress bar, shown while it runs in a notebook.

    Pass ``bar`` to use (and inspect) your own ``ipywidgets.IntProgress``.
    """
    values = list(values)
    if not callable(run):
        raise TypeError(f"run must be callable, got {run!r}")
    if bar is None:
        bar = w.IntProgress(description=description, style=STYLE)
        show(bar)
    bar.min, bar.max, bar.value = 0, len(values), 0
    out = []
    for value in values:
        out.append(run(value))
        bar.value += 1
    bar.bar_style = "success"
    return out
