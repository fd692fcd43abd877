"""The knobs of a dashboard: sliders that report when released, drop-down lists, one look for all."""

from __future__ import annotations

import ipywidgets as w

__all__ = ["LAYOUT", "STYLE", "float_slider", "int_slider", "picker"]

#: Every control's style: the description as wide as its text.
STYLE = {"description_width": "initial"}
#: Every knob's layout.
LAYOUT = {"width": "320px"}


def int_slider(description: str, value: int, min: int, max: int, step: int = 1) -> w.IntSlider:
    """An integer slider that reports only when released (no flood of runs while dragging)."""
    return w.IntSlider(value=value, min=min, max=max, step=step, description=description,
                       continuous_update=False, style=STYLE, layout=LAYOUT)


def float_slider(description: str, value: float, min: float, max: float,
                 step: float = 0.05, readout_format: str = ".2f") -> w.FloatSlider:
    """A float slider that reports only when released."""
    return w.FloatSlider(value=value, min=min, max=max, step=step, description=description,
                         continuous_update=False, readout_format=readout_format, style=STYLE,
                         layout=LAYOUT)


def picker(description: str, options, value=None) -> w.Dropdown:
    """A drop-down list (``options``: a list of values or of ``(label, value)`` pairs)."""
    options = list(options)
    if not options:
        raise ValueError("picker needs at least one option")
    first = options[0][1] if isinstance(options[0], tuple) else options[0]
    return w.Dropdown(options=options, value=first if value is None else value,
                      description=description, style=STYLE, layout=LAYOUT)
