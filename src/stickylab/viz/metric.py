"""Headline numbers of runs: one metric per router as bars, and what each metric is called."""

from __future__ import annotations

import functools
import textwrap

import numpy as np

from ..metrics import Result
from . import inplace
from .bars import LabelledBars, draw_labelled_bars, update_labelled_bars
from .runs import as_results
from .scales import steady_top
from .style import legend, percent_label

__all__ = ["METRIC_LABELS", "metric_value", "plot_metric", "users_logged_out"]

#: Axis labels (with units) for the keys of :meth:`Result.summary`.
METRIC_LABELS = {
    "requests": "requests",
    "session_loss_rate": "requests that lost their session (share of those needing one)",
    "cache_hit_rate": "cache hit rate (share of requests)",
    "failed_requests": "failed requests",
    "max_mean_load": "busiest instance / mean load",
    "load_cov": "load spread (std / mean)",
    "affinity": "affinity (share of a user's requests on one instance)",
    "p99_latency": "p99 latency (ms)",
    "users_logged_out": "users logged out (distinct users)",
}
_PERCENT = {"session_loss_rate", "cache_hit_rate", "affinity"}


def users_logged_out(res: Result) -> int:
    """Distinct users logged out at least once: users with a request that lost its session.

    Not the same number as the requests that lost their session: one user can be logged
    out several times (each visit that lands on the wrong instance).
    """
    return res.users_logged_out()


def metric_value(res: Result, name: str) -> float:
    """One headline number of a run: a key of :meth:`Result.summary`, or ``"users_logged_out"``."""
    if name == "users_logged_out":
        return users_logged_out(res)
    if name not in METRIC_LABELS:
        raise ValueError(f"unknown metric {name!r}; choose from {', '.join(METRIC_LABELS)}")
    return res.summary()[name]


def _metric_text(metric: str, v: float) -> str:
    if metric in _PERCENT:
        return f"{v:.1%}"
    return f"{v:.0f}" if abs(v) >= 10 else f"{v:.2f}"


def _frame(ax, metric: str, needed: float) -> None:
    if metric in _PERCENT:
        ax.set_ylim(0, 1.08)
        ax.yaxis.set_major_formatter(percent_label)
    else:
        ax.set_ylim(0, steady_top(ax, needed * 1.15, False))
    ax.set_ylabel("\n".join(textwrap.wrap(METRIC_LABELS[metric], 34)))   # a long label fits a short plot
    ax.set_title(METRIC_LABELS[metric].split(" (")[0].capitalize())
    ax.tick_params(axis="x", labelsize=8)


@inplace.redraws_in_place
def plot_metric(ax, results, metric: str = "session_loss_rate", baseline=None):
    """Bars: one headline metric per router (see :func:`metric_value`), value written on each bar.

    ``baseline`` runs with the same labels are marked by a black dash on their router's bar.
    On a dashboard's Axes the bars are updated in place.
    """
    if metric not in METRIC_LABELS:
        raise ValueError(f"unknown metric {metric!r}; choose from {', '.join(METRIC_LABELS)}")
    results = as_results(results)
    labels = list(results)
    scale = 1000.0 if metric == "p99_latency" else 1.0
    values = [metric_value(res, metric) * scale for res in results.values()]
    old = {} if baseline is None else as_results(baseline)
    points = np.array([(k, metric_value(old[label], metric) * scale) for k, label in enumerate(labels)
                       if label in old], dtype=float).reshape(-1, 2)
    live = inplace.is_live(ax)
    key = ("metric", metric, tuple(labels), live or baseline is not None)
    needed = max(max(values, default=0.0), float(np.max(points[:, 1], initial=0.0)))
    fmt = functools.partial(_metric_text, metric)
    kept = inplace.reuse(ax, key)
    if kept is not None:
        update_labelled_bars(kept, values, fmt)
        if kept.marks is not None:
            kept.marks.set_offsets(points)
        if metric not in _PERCENT:
            ax.set_ylim(0, steady_top(ax, needed * 1.15, True))
        return ax
    made = draw_labelled_bars(ax, labels, values, fmt)
    marks = None
    if live or baseline is not None:
        marks = ax.scatter(points[:, 0], points[:, 1], marker="_", s=700, color="k", alpha=0.6,
                           zorder=3, label="baseline")
        if not live:
            legend(ax, loc="upper right", fontsize=8)
    _frame(ax, metric, needed)
    inplace.keep(ax, key, LabelledBars(made.bars, made.notes, marks))
    return ax
