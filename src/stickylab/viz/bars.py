"""Bars with their value written on top, shared by the metric and key plots."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from .style import router_color

__all__ = ["LabelledBars", "draw_labelled_bars", "update_labelled_bars"]


class LabelledBars(NamedTuple):
    """What a labelled bar chart keeps: the bars, their value notes, and optional markers over them."""

    bars: list
    notes: list
    marks: object | None = None


def draw_labelled_bars(ax, labels: Sequence[str], values: Sequence[float],
                       fmt: Callable[[float], str]) -> LabelledBars:
    """One bar per label in the routers' colours, each with ``fmt(value)`` written on top."""
    bars = ax.bar(list(labels), values, color=[router_color(n) for n in range(len(values))])
    notes = [ax.annotate(fmt(v), (bar.get_x() + bar.get_width() / 2, v), ha="center",
                         va="bottom", fontsize=8) for bar, v in zip(bars, values)]
    return LabelledBars(list(bars), notes)


def update_labelled_bars(kept: LabelledBars, values: Sequence[float], fmt: Callable[[float], str]) -> None:
    """The same bars and notes, at new heights with new texts."""
    for bar, note, v in zip(kept.bars, kept.notes, values):
        bar.set_height(v)
        note.set_text(fmt(v))
        note.xy = (bar.get_x() + bar.get_width() / 2, v)
        note.set_position(note.xy)      # the text itself: an Annotation's xy moves only its anchor
