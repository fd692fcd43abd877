"""Who served each request: one row per user, one dot per request in its instance's colour."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..metrics import Result
from . import inplace
from .style import instance_color, legend
from .timelines import events_key, mark_events

__all__ = ["plot_request_sequence", "row_labels"]


class _Dots(NamedTuple):
    """The requests of the users shown: times, rows, and one mask per set of dots drawn."""

    t: np.ndarray
    y: np.ndarray
    masks: list        # per instance, then lost, then failed (when the run has failures)
    any_failed: bool


def _busiest(res: Result, users) -> list[int]:
    """``users`` as user numbers: a list as given, or a count of the busiest users."""
    if isinstance(users, int):
        counts = np.bincount(res.workload.users, minlength=res.scenario.users)
        users = np.argsort(-counts, kind="stable")[:users]
    return [int(u) for u in users]


def _dots(res: Result, users: list[int], until: float) -> _Dots:
    wl = res.workload
    row = np.full(max(users, default=0) + 1, -1)
    row[users] = np.arange(len(users))
    pick = (wl.times <= until) & np.isin(wl.users, users)
    inst = res.instance[pick]
    any_failed = bool(res.failed.any())         # of the whole run: steady while users change
    masks = [inst == k for k in range(len(res.instance_ids))] + [res.lost[pick]]
    if any_failed:
        masks.append(inst < 0)
    return _Dots(wl.times[pick], row[wl.users[pick]], masks, any_failed)


def _draw_rows(ax, res: Result, d: _Dots, names: list[str], until: float) -> tuple[list, list]:
    t, y, masks = d.t, d.y, d.masks
    # one set of dots per instance (empty ones included) so other users change data, not artists
    dots = [ax.scatter(t[m], y[m], s=22, color=instance_color(k), label=res.instance_ids[k], zorder=2)
            for k, m in enumerate(masks[: len(res.instance_ids)])]
    lost = masks[len(res.instance_ids)]
    dots.append(ax.scatter(t[lost], y[lost], s=40, marker="+", color="k", label="lost its session",
                           zorder=3))
    if d.any_failed:
        failed = masks[-1]
        dots.append(ax.scatter(t[failed], y[failed], s=30, marker="x", color="0.5", label="failed",
                               zorder=3))
    mark_events(ax, res.events)
    # Row names are texts beside the axis, not tick labels: a new set of users changes their
    # text, not the axis, so a dashboard need not redraw the frame.
    ax.set_yticks(range(len(names)), [""] * len(names))
    notes = [ax.annotate(name, (0, n), xycoords=("axes fraction", "data"), xytext=(-4, 0),
                         textcoords="offset points", ha="right", va="center", fontsize=8)
             for n, name in enumerate(names)]
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlim(0, until * 1.45)                # room on the right for the legend
    ax.set_xticks([x for x in ax.get_xticks() if x <= until])
    ax.set_xlabel("time (s)")
    legend(ax, loc="upper right", fontsize=7, handletextpad=0.2, borderpad=0.3, labelspacing=0.3)
    return dots, notes


@inplace.redraws_in_place
def plot_request_sequence(ax, res: Result, users: Sequence[int] | int = 8, until: float | None = None,
                          title: str | None = None):
    """One row per user, one dot per request, coloured by the instance that served it.

    A sticky router paints each visit of a row in one colour; a stateless one scatters
    colours; a black cross is a request that lost its session (its user was logged out),
    a grey x one that failed. ``users`` is a list of user numbers or how many of the
    busiest users to show; the rows are labelled ``user <number>``.
    """
    users = _busiest(res, users)
    until = res.scenario.duration if until is None else until
    d = _dots(res, users, until)
    names = [f"user {x}" for x in users]
    title = title or f"Who served each request ({res.router.label()})"
    key = ("request_sequence", len(users), until, tuple(res.instance_ids), d.any_failed,
           events_key(res.events))
    kept = inplace.reuse(ax, key)
    if kept is None:
        inplace.keep(ax, key, _draw_rows(ax, res, d, names, until))
    else:
        dots, notes = kept
        for scatter, m in zip(dots, d.masks):
            scatter.set_offsets(np.column_stack([d.t[m], d.y[m]]))
        for note, name in zip(notes, names):
            note.set_text(name)
    ax.set_title(title)
    return ax


def row_labels(ax) -> list[str]:
    """The row names :func:`plot_request_sequence` wrote beside ``ax``, top row first: ``["user 3", ...]``."""
    notes = [t for t in ax.texts if t.get_text().startswith("user ")]
    return [t.get_text() for t in sorted(notes, key=lambda t: t.xy[1])]
