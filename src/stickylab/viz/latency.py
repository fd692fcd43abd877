"""The latency distribution of served requests, per router, on a log axis."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..metrics import Result
from . import inplace
from .baselines import GHOST, ghost_label, ghosts, rename_ghost
from .runs import as_results
from .scales import decades, log_ticks
from .style import legend, router_color

__all__ = ["plot_latency_cdf"]


class _Curve(NamedTuple):
    """One router's curve: its colour index, the points, its label and its p99 in ms."""

    n: int
    x: np.ndarray
    y: np.ndarray
    label: str
    p99: float


class _Cdfs(NamedTuple):
    """What the latency plot keeps: curves, ghost curves, p99 dots, p99 notes."""

    lines: list
    faint: list
    marks: object
    notes: list


def _cdf(res: Result):
    lat = np.sort(res.latency[res.served]) * 1000
    if not len(lat):
        return None
    lat = np.maximum(lat, 1e-3)
    share = np.arange(1, len(lat) + 1) / len(lat)
    step = max(1, len(lat) // 400)          # a few hundred points draw as fast and look the same
    return np.r_[lat[::step], lat[-1]], np.r_[share[::step], 1.0]


def _curves(results) -> list[_Curve]:
    curves = []
    for n, (label, res) in enumerate(results.items()):
        xy = _cdf(res)
        if xy is not None:
            curves.append(_Curve(n, *xy, label, res.p99_latency() * 1000))
    return curves


def _draw_cdfs(ax, curves, slots: int, live: bool, named) -> _Cdfs:
    lines = [ax.plot(c.x, c.y, color=router_color(c.n), lw=1.8, label=c.label)[0] for c in curves]
    faint = [ax.plot([], [], color="0.45", label="_nolegend_" if live else ghost_label(n, named),
                     **GHOST)[0] for n in range(slots)]
    marks = ax.scatter([c.p99 for c in curves], [0.99] * len(curves), s=18, zorder=3,
                       color=[router_color(c.n) for c in curves])
    notes = [ax.annotate("", (0, 0.99), xytext=(5, -11 * (k + 1)), textcoords="offset points",
                         fontsize=8, color=router_color(c.n)) for k, c in enumerate(curves)]
    ax.set_xscale("log")
    log_ticks(ax.xaxis)
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("share of requests at or below")
    ax.set_ylim(0, 1.01)
    ax.set_title("Latency distribution")
    legend(ax, loc="lower right", fontsize=8)
    return _Cdfs(lines, faint, marks, notes)


def _write_p99(notes, curves, lo: float, hi: float) -> None:
    """Each curve's ``p99 85 ms`` beside its dot, on its left when the dot is far right."""
    for k, (note, c) in enumerate(zip(notes, curves)):
        right = math.log10(c.p99 / lo) > 0.6 * math.log10(hi / lo)
        note.xy = (c.p99, 0.99)
        note.set_position((-5 if right else 5, -11 * (k + 1)))
        note.set_horizontalalignment("right" if right else "left")
        note.set_text(f"p99 {c.p99:,.0f} ms")


@inplace.redraws_in_place
def plot_latency_cdf(ax, results, baseline=None):
    """Cumulative distribution of served requests' latency in milliseconds, per router (log scale).

    Each curve's 99th percentile is marked and written beside it (``p99 85 ms``). The x
    axis spans whole powers of ten, ticked at 1, 2 and 5 times each as plain numbers.
    ``baseline`` runs are drawn dashed and faint.
    """
    results = as_results(results)
    curves = _curves(results)
    live = inplace.is_live(ax)
    named = ghosts(baseline, results)[: len(results) if live else None]
    faint = [(colour, _cdf(res)) for _, res, colour in named]
    faint = [(colour, xy) for colour, xy in faint if xy is not None]
    xs = [c.x for c in curves] + [xy[0] for _, xy in faint]
    slots = len(results) if live else len(faint)       # on a dashboard, made before any baseline
    key = ("latency_cdf", tuple(results), tuple(c.n for c in curves), slots)
    kept = inplace.reuse(ax, key)
    if kept is None:
        kept = _draw_cdfs(ax, curves, slots, live, named)
        inplace.keep(ax, key, kept)
    elif not live:
        rename_ghost(ax, len(kept.lines), named)
    for line, c in zip(kept.lines, curves):
        line.set_data(c.x, c.y)
    for k, line in enumerate(kept.faint):
        line.set_data(*(faint[k][1] if k < len(faint) else ([], [])))
        if k < len(faint):
            line.set_color(faint[k][0])
    kept.marks.set_offsets(np.array([(c.p99, 0.99) for c in curves]).reshape(-1, 2))
    lo, hi = decades(np.concatenate(xs)) if xs else ax.get_xlim()
    if xs:
        ax.set_xlim(lo, hi)
        log_ticks(ax.xaxis, lo, hi)
    _write_p99(kept.notes, curves, lo, hi)
    return ax
