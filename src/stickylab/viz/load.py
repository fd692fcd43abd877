"""Load per instance: bars of requests or distinct users each instance served over a run."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from matplotlib.ticker import FuncFormatter

from .. import events as ev
from ..metrics import Result
from . import inplace
from .baselines import ghost_points
from .runs import as_results, home_counts, load_counts, states_at_end, user_counts
from .scales import steady_top
from .style import count_label, instance_color, legend, router_color

__all__ = ["plot_instance_load", "plot_per_instance", "plot_users_per_instance"]


class _MeanBars(NamedTuple):
    """What a bar chart with a mean line keeps: a bar per instance, the mean, the baseline's dashes."""

    bars: list
    mean: object
    marks: object | None


@inplace.redraws_in_place
def plot_instance_load(ax, res: Result, normalise: bool = False, title: str | None = None,
                       baseline: Result | None = None):
    """Bars: requests each instance served over the run; a dashed line at the mean.

    Instances that ended the run failed or removed are hatched, draining ones faded.
    ``baseline`` (another run, e.g. the previous one) is marked by a black dash per instance.
    """
    counts = load_counts(res, normalise)
    ghost = None if baseline is None else load_counts(baseline, normalise)
    return _bars_with_mean(ax, res, counts, ("load", normalise),
                           "load / mean load" if normalise else "requests served",
                           title or f"Load per instance ({res.router.label()})", baseline, ghost)


@inplace.redraws_in_place
def plot_users_per_instance(ax, res: Result, title: str | None = None, baseline: Result | None = None,
                            what: str = "users"):
    """Bars: users per instance; NAT shows up here. Failed ones hatched.

    ``what`` is ``"users"`` (distinct users each instance served at least once: a user with
    a new cookie per visit counts on each instance) or ``"home users"`` (each user once, on
    the instance that served most of their requests, as :func:`plot_per_instance` counts
    them). ``baseline`` (another run, e.g. the previous one) is marked by a black dash per
    instance.
    """
    if what not in ("users", "home users"):
        raise ValueError(f"what must be 'users' or 'home users', got what={what!r}")
    count, ylabel, default_title = _PER_INSTANCE[what]
    counts = count(res)
    ghost = None if baseline is None else count(baseline)
    return _bars_with_mean(ax, res, counts, ("users", what), ylabel,
                           title or f"{default_title} ({res.router.label()})", baseline, ghost)


def _mark_down(bars, res: Result) -> None:
    """Hatch the bars of instances that ended the run failed or removed; fade draining ones."""
    states = states_at_end(res)
    for bar, iid in zip(bars, res.instance_ids):
        if states.get(iid) in (ev.FAILED, ev.REMOVED):
            bar.set_hatch("//")
            bar.set_alpha(0.5)
        elif states.get(iid) == ev.DRAINING:
            bar.set_alpha(0.6)


#: The y axis reaches this many times the tallest bar or mark: the legend sits in the space above.
_HEADROOM = 1.3


def _bars_with_mean(ax, res: Result, counts, kind, ylabel: str, title: str, baseline=None, ghost=None):
    ids = list(res.instance_ids)
    live = inplace.is_live(ax)          # marks made up front, filled when there is a baseline
    key = ("bars",) + kind + (tuple(ids), tuple(sorted(states_at_end(res).items())),
                              live or baseline is not None)
    points = ghost_points(ids, baseline, ghost)
    needed = max(float(np.max(counts, initial=0.0)), float(np.max(points[:, 1], initial=0.0)))
    kept = inplace.reuse(ax, key)
    if kept is not None:
        for bar, c in zip(kept.bars, counts):
            bar.set_height(c)
        kept.mean.set_ydata([counts.mean()] * 2)
        if kept.marks is not None:
            kept.marks.set_offsets(points)
        ax.set_ylim(0, steady_top(ax, needed * _HEADROOM, True))
        ax.set_title(title)
        return ax
    bars = ax.bar(ids, counts, color=[instance_color(k) for k in range(len(ids))])
    _mark_down(bars, res)
    mean = ax.axhline(counts.mean(), color="k", ls="--", lw=1, label="mean")
    marks = None
    if live or baseline is not None:
        marks = ax.scatter(points[:, 0], points[:, 1], marker="_", s=500, color="k", alpha=0.6,
                           zorder=3, label="_nolegend_" if live else "baseline")
    ax.set_ylim(0, steady_top(ax, needed * _HEADROOM, False))
    ax.set_xlabel("instance")
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(FuncFormatter(count_label))
    ax.set_title(title)
    legend(ax, loc="upper right", fontsize=8)      # in the headroom, over no bar
    inplace.keep(ax, key, _MeanBars(list(bars), mean, marks))
    return ax


#: What :func:`plot_per_instance` can count: the counting, the y label, the default title.
_PER_INSTANCE = {
    "users": (user_counts, "distinct users served", "Users per instance"),
    "home users": (home_counts, "users (each counted once)", "Users per instance, each counted once"),
    "requests": (lambda res: load_counts(res, False), "requests served", "Load per instance"),
}


@inplace.redraws_in_place
def plot_per_instance(ax, results, what: str = "users", title: str | None = None):
    """Grouped bars on one axis: per instance, each router's distinct users (or requests served).

    Side by side on one y axis, so "how uneven?" compares by height across routers. ``what``
    is ``"users"`` (distinct users served, where NAT shows; a user served by two instances
    counts on both), ``"home users"`` (each user once, on the instance that served most of
    their requests: every router's bars sum to the same users) or ``"requests"``. On a
    dashboard's Axes the bars are updated in place.
    """
    if what not in _PER_INSTANCE:
        raise ValueError(f"what must be one of {', '.join(map(repr, _PER_INSTANCE))}, got what={what!r}")
    results = as_results(results)
    ids = list(dict.fromkeys(iid for res in results.values() for iid in res.instance_ids))
    count, ylabel, default_title = _PER_INSTANCE[what]
    heights = []
    for res in results.values():
        mine = dict(zip(res.instance_ids, count(res)))
        heights.append([float(mine.get(iid, 0)) for iid in ids])
    width = 0.8 / len(results)
    key = ("per_instance", what, tuple(results), tuple(ids))
    needed = max((max(h, default=0.0) for h in heights), default=0.0) * 1.05
    kept = inplace.reuse(ax, key)
    if kept is None:
        x = np.arange(len(ids))
        kept = [ax.bar(x - 0.4 + width * (n + 0.5), h, width, color=router_color(n), label=label)
                for n, (label, h) in enumerate(zip(results, heights))]
        ax.set_xticks(x, ids)
        ax.set_xlabel("instance")
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(FuncFormatter(count_label))
        ax.set_title(title or default_title)
        ax.set_ylim(0, steady_top(ax, needed, False))
        legend(ax, loc="upper right", fontsize=8)
        inplace.keep(ax, key, kept)
    else:
        for bars, h in zip(kept, heights):
            for bar, v in zip(bars, h):
                bar.set_height(v)
        ax.set_ylim(0, steady_top(ax, needed, True))
    return ax
