"""Plots over the time of a run: load, lost and failed requests, cache hits, and the events marked."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import events as ev
from ..metrics import Result
from . import inplace
from .baselines import GHOST, ghost_label, ghosts, rename_ghost
from .runs import added_at, as_results, rate
from .scales import steady_top
from .style import instance_color, legend, percent_label, router_color

__all__ = ["BASELINE_ZERO", "LOSS_LABELS", "events_key", "mark_events", "plot_hit_rate_over_time",
           "plot_load_over_time", "plot_losses_over_time"]

_EVENT_STYLE = {ev.Fail: ("#C44E52", "fails"), ev.Recover: ("#55A868", "recovers"),
                ev.ScaleOut: ("#4C72B0", "added"), ev.ScaleIn: ("#8C8C8C", "removed"),
                ev.Drain: ("#DD8452", "draining")}

#: What :func:`plot_losses_over_time` counts, one meaning per label: its y label and title.
LOSS_LABELS = {
    "lost": ("requests that lost their session / s", "Requests that lost their session"),
    "failed": ("failed requests / s", "Failed requests over time"),
}


def events_key(events) -> tuple:
    """The events of a run as part of a drawing's key (the marks they make are fixed artists)."""
    return tuple(events or ())


def mark_events(ax, events) -> None:
    """Dotted vertical lines at each event's time, labelled (``i1 fails``, ``added``...).

    A failure with a detection delay (``Fail(..., detect=6.0)``) also shades the seconds
    before the balancer notices it, when requests sent there fail. Labels lie under the
    data, so a line that starts at an event (a new instance's) is never hidden.
    """
    for event in events or ():
        colour, verb = _EVENT_STYLE.get(type(event), ("k", type(event).__name__))
        ax.axvline(event.at, color=colour, ls=":", lw=1.5)
        who = getattr(event, "id", None)
        text = f"{who} {verb}" if who else f"+{getattr(event, 'count', 1)} {verb}"
        detect = getattr(event, "detect", 0.0) or 0.0
        if detect:          # the balancer still sends requests there until it notices
            ax.axvspan(event.at, event.at + detect, color=colour, alpha=0.15, lw=0)
            text += f" (seen {detect:g} s later)"
        ax.annotate(text, (event.at, 0.0), xycoords=("data", "axes fraction"), xytext=(4, 4),
                    textcoords="offset points", color=colour, fontsize=8, zorder=1.9,   # under the data
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})


@inplace.redraws_in_place
def plot_load_over_time(ax, res: Result, bucket: float | None = None, title: str | None = None):
    """Lines: requests per second each instance served, over the run; its capacity dashed, events marked."""
    tl, width = rate(res, bucket)
    mid = tl["start"] + width / 2
    born = added_at(res)
    peak = 0.0
    rates = []
    for k, iid in enumerate(res.instance_ids):
        line = np.where(tl["start"] + width > born.get(iid, 0.0), tl["load"][k] / width, np.nan)
        peak = max(peak, float(np.nanmax(line, initial=0.0)))
        rates.append(line)
    title = title or f"Load over time ({res.router.label()})"
    needed = max(peak, res.scenario.capacity) * 1.15          # room above for the legend
    key = ("load_over_time", tuple(res.instance_ids), events_key(res.events), res.scenario.duration,
           res.scenario.capacity)
    kept = inplace.reuse(ax, key)
    if kept is not None:
        for line, y in zip(kept, rates):
            line.set_data(mid, y)
        ax.set_ylim(0, steady_top(ax, needed, True))
        ax.set_title(title)
        return ax
    lines = [ax.plot(mid, y, color=instance_color(k), lw=1.5, label=iid)[0]
             for k, (iid, y) in enumerate(zip(res.instance_ids, rates))]
    ax.axhline(res.scenario.capacity, color="k", ls="--", lw=1, label="capacity")
    ax.set_ylim(0, steady_top(ax, needed, False))
    mark_events(ax, res.events)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("requests / s")
    ax.set_xlim(0, res.scenario.duration)
    ax.set_title(title)
    legend(ax, loc="upper left", fontsize=8, ncol=min(len(res.instance_ids) + 1, 6))
    inplace.keep(ax, key, lines)
    return ax


class _Lines(NamedTuple):
    """What a plot over time keeps: a line per run then a ghost line per slot, and its two notes.

    ``note`` says the runs shown are flat at zero; ``zero`` that the baseline is, just above
    the axis where its dots lie.
    """

    lines: list
    note: object
    zero: object


class _Frame(NamedTuple):
    """What a plot over time writes once: its y label, title, legend place, fixed y range, percent ticks."""

    ylabel: str
    title: str
    legend_loc: str
    ylim: tuple | None = None
    percent: bool = False


def _draw_lines(ax, results, series, shown, slots: int, live: bool, frame: _Frame, peak: float) -> _Lines:
    """Make the lines of a plot over time (ghost slots empty) and its frame; mark the first run's events."""
    first = next(iter(results.values()))
    lines = [ax.plot(x, y, color=router_color(n), lw=1.8, label=label)[0]
             for n, (label, (x, y)) in enumerate(zip(results, series))]
    for line, (_, y) in zip(lines, series):
        _mark_if_zero(line, y)                  # a run flat at zero would hide on the axis
    lines += [ax.plot([], [], color="0.45", label="_nolegend_" if live else ghost_label(n, shown),
                      **GHOST)[0] for n in range(slots)]
    note = ax.annotate("", (0.5, 0.18), xycoords="axes fraction", ha="center", va="center",
                       fontsize=9, color="0.3",
                       bbox={"boxstyle": "square,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
    zero = ax.annotate("", (0.01, 0.03), xycoords="axes fraction", ha="left", va="bottom",
                       fontsize=8, color="0.3",
                       bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
    mark_events(ax, first.events)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(frame.ylabel)
    ax.set_xlim(0, first.scenario.duration)
    ax.set_ylim(*(frame.ylim or (0, steady_top(ax, peak * 1.1, False))))
    if frame.percent:
        ax.yaxis.set_major_formatter(percent_label)
    ax.set_title(frame.title)
    legend(ax, loc=frame.legend_loc, fontsize=8)
    return _Lines(lines, note, zero)


def _over_time(ax, results, baseline, name, series_of, frame: _Frame, empty=""):
    """Lines over time, one per run, plus the baseline's as dashed ghosts; updated in place when live.

    On a dashboard's Axes there is a ghost line per run from the first draw (empty until
    there is a baseline, and without a legend entry: the dashboard says what the ghost
    is), so the first baseline changes data, not artists. ``empty`` is written across the
    plot while every line is flat at zero, so a flat line reads as a finding ("no request
    failed"), not as a broken plot.
    """
    results = as_results(results)
    first = next(iter(results.values()))
    live = inplace.is_live(ax)
    shown = ghosts(baseline, results)
    if live:
        shown = shown[: len(results)]
    series = [series_of(res) for res in results.values()]
    faint = [series_of(res) for _, res, _ in shown]
    slots = len(results) if live else len(shown)
    key = (name, tuple(results), slots, events_key(first.events), first.scenario.duration)
    peak = max((float(np.nanmax(y, initial=0.0)) for _, y in series + faint), default=0.0)
    kept = inplace.reuse(ax, key)
    if kept is None:
        kept = _draw_lines(ax, results, series, shown, slots, live, frame, peak)
        inplace.keep(ax, key, kept)
    else:
        if not live:
            rename_ghost(ax, len(series), shown)
        if frame.ylim is None:
            ax.set_ylim(0, steady_top(ax, peak * 1.1, True))
    for line, (x, y) in zip(kept.lines, series):
        line.set_data(x, y)
        _mark_if_zero(line, y)
    for k, line in enumerate(kept.lines[len(series):]):
        line.set_data(*(faint[k] if k < len(shown) else (np.zeros(0), np.zeros(0))))
        if k < len(shown):
            line.set_color(shown[k][2])
            _mark_if_zero(line, faint[k][1])
    flat = all(float(np.nanmax(y, initial=0.0)) == 0 for _, y in series)
    kept.note.set_text(empty if flat else "")
    zero = bool(shown) and all(float(np.nanmax(y, initial=0.0)) == 0 for _, y in faint)
    kept.zero.set_text(BASELINE_ZERO if zero else "")
    return ax


#: What a plot over time says when its baseline is flat at zero, where the axis would hide it.
BASELINE_ZERO = "dashed baseline: 0 throughout"


def _mark_if_zero(line, y) -> None:
    """A line (a run or a ghost) flat at zero lies on the axis: dots drawn over the axis line, else none."""
    zero = len(y) > 0 and float(np.nanmax(y, initial=0.0)) == 0
    line.set_marker("o" if zero else "None")
    line.set_markersize(3.5)
    line.set_markevery(max(1, len(y) // 12))
    line.set_clip_on(not zero)
    line.set_zorder(3 if zero else 2)


@inplace.redraws_in_place
def plot_losses_over_time(ax, results, bucket: float | None = None, what: str = "lost",
                          baseline=None):
    """Lines: requests that lost their session (``what="lost"``) or failed requests (``"failed"``) per second.

    One line per router; ``baseline`` (a Result or a dict of them, e.g. the previous run)
    is drawn dashed and faint. A lost request is one that arrived with a session the
    instance it reached does not hold: its user was logged out there (a user can be
    logged out more than once, so this counts requests, not users).
    """
    if what not in LOSS_LABELS:
        raise ValueError(f"what must be 'lost' or 'failed', got what={what!r}")

    def series(res):
        tl, width = rate(res, bucket)
        return tl["start"] + width / 2, tl[what] / width

    ylabel, title = LOSS_LABELS[what]
    empty = "no request lost its session in this run" if what == "lost" else "no request failed in this run"
    return _over_time(ax, results, baseline, ("losses", what), series,
                      _Frame(ylabel, title, "upper right"), empty=empty)


@inplace.redraws_in_place
def plot_hit_rate_over_time(ax, results, bucket: float | None = None, baseline=None):
    """Lines: the share of requests that found their user's data in the local cache, over time, per router.

    ``baseline`` runs are drawn dashed and faint.
    """
    def series(res):
        tl, width = rate(res, bucket)
        return tl["start"] + width / 2, tl["hit_rate"]

    return _over_time(ax, results, baseline, "hit_rate", series,
                      _Frame("cache hit rate", "Cache hits over time", "lower left", ylim=(0, 1.02),
                             percent=True))
