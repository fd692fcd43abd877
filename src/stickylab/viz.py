"""Plots of simulation results: one idea per Axes, labelled, with units.

Every function draws on a Matplotlib ``Axes`` it is given and returns it, so a notebook
can lay figures out as it likes and a dashboard can redraw the same figure again and
again. Nothing here imports Jupyter; :mod:`stickylab.widgets` builds the controls on top.

Functions that compare routers take ``results``: a :class:`~stickylab.Result`, or a
dict ``{label: Result}`` (drawn in order, one colour each). Most also take a ``baseline``
(another run, or dict of runs) and draw it faintly, dashed on lines and as a black dash on
bars, so two runs compare at a glance. One meaning per label: "requests that lost their
session" counts requests, not users (a user can be logged out more than once); latency is
in milliseconds; log axes are ticked in plain numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from . import events as ev
from .hashing import hash_keys
from .metrics import Result

__all__ = [
    "LOSS_LABELS", "METRIC_LABELS", "as_results", "figure", "instance_color", "mark_events",
    "metric_value", "nice_ceiling", "plot_affinity_table", "plot_arc_shares", "plot_hit_rate_over_time",
    "plot_instance_load", "plot_key_balance", "plot_key_movement", "plot_latency_cdf",
    "plot_load_over_time", "plot_losses_over_time", "plot_metric", "plot_per_instance",
    "plot_request_sequence", "plot_ring", "plot_routing_log", "plot_sweep", "plot_table",
    "plot_users_per_instance",
    "router_color", "row_labels", "same_scale", "users_logged_out",
]

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
_INSTANCE_PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3",
                     "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD")
_ROUTER_PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
_EVENT_STYLE = {ev.Fail: ("#C44E52", "fails"), ev.Recover: ("#55A868", "recovers"),
                ev.ScaleOut: ("#4C72B0", "added"), ev.ScaleIn: ("#8C8C8C", "removed"),
                ev.Drain: ("#DD8452", "draining")}


# -- updating a dashboard's plots in place -----------------------------------------------------
# A dashboard marks its Axes "live" (``ax._stickylab_live = True``). On a live Axes a plot
# function keeps the artists it made, under a key naming everything that fixes their number
# and labels; the next call with the same key changes their data instead of clearing the Axes
# and making new ones. Any other Axes is drawn on as usual, so plots can still be overlaid.
def _reuse(ax, key):
    """The artists kept on a live ``ax`` under ``key``, or None (after clearing a live ``ax``)."""
    if not getattr(ax, "_stickylab_live", False):
        return None
    state = getattr(ax, "_stickylab_state", None)
    if state is not None and state[0] == key:
        return state[1]
    ax.clear()
    ax._stickylab_state = None
    return None


def _keep(ax, key, artists) -> None:
    if getattr(ax, "_stickylab_live", False):
        ax._stickylab_state = (key, artists)


def _events_key(events) -> tuple:
    return tuple(events or ())


_NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is >= ``x``.

    1 if ``x`` is not a positive finite number.
    """
    if not x > 0 or not math.isfinite(x):
        return 1.0
    scale = 10.0 ** math.floor(math.log10(x))
    return next(m * scale for m in _NICE if m * scale >= x * (1 - 1e-12))


def _steady_top(ax, needed: float, kept: bool) -> float:
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


def _log_ticks(axis, lo: float | None = None, hi: float | None = None) -> None:
    """Log-axis ticks written as plain numbers (``0.5``, ``20``, ``1,000``), no minor labels.

    Ticks fall at 1, 2 and 5 times each power of ten when ``lo``..``hi`` spans at most
    two decades, else at the powers of ten only, so labels never run into each other.
    """
    wide = lo is not None and hi is not None and math.log10(hi / lo) > 2.01
    axis.set_major_locator(LogLocator(base=10, subs=(1.0,) if wide else (1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _decades(values) -> tuple[float, float]:
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


def _legend(ax, **options):
    """A legend in an opaque, square box: it hides what lies under it, exactly.

    So a dashboard can keep the legend's pixels from one full draw and paste them back
    over new data (see :meth:`stickylab.widgets.Dashboard._render`).
    """
    return ax.legend(**{"framealpha": 1.0, "fancybox": False, **options})


def figure(nrows: int = 1, ncols: int = 1, width: float = 10.0, height: float = 3.4,
           dpi: int = 80, width_ratios: Sequence[float] | None = None) -> tuple[Figure, np.ndarray]:
    """A figure made without pyplot (no global state, nothing shown by itself) and its axes.

    The margins are fixed rather than computed on every draw, and the figure keeps one Agg
    canvas, which keeps a redraw fast. ``width_ratios`` sets the columns' relative widths.
    """
    fig = Figure(figsize=(width, height * nrows), dpi=dpi)
    FigureCanvasAgg(fig)            # one canvas for the figure's life: redraws reuse it
    axes = fig.subplots(nrows, ncols, squeeze=False,
                        gridspec_kw=None if width_ratios is None else {"width_ratios": list(width_ratios)})
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.17 / nrows, top=1 - 0.12 / nrows,
                        wspace=0.28, hspace=0.55)
    return fig, axes.ravel()


def instance_color(index: int) -> str:
    """The colour of instance ``i<index>`` in every plot."""
    return _INSTANCE_PALETTE[index % len(_INSTANCE_PALETTE)]


def router_color(index: int) -> str:
    """The colour of the ``index``-th compared router or setting."""
    return _ROUTER_PALETTE[index % len(_ROUTER_PALETTE)]


def as_results(results) -> dict[str, Result]:
    """``{label: Result}`` from a Result, or from a dict of them (checked)."""
    if isinstance(results, Result):
        return {results.router.label(): results}
    if isinstance(results, Mapping) and results and all(
            isinstance(r, Result) for r in results.values()):
        return dict(results)
    raise TypeError(f"expected a Result or a non-empty dict of Results, got {results!r}")


def _states_at_end(res: Result) -> dict[str, str]:
    states = {f"i{k}": ev.HEALTHY for k in range(res.scenario.instances)}
    for event in res.events:
        event.apply(states)
    return states


def _mark_down(bars, res: Result) -> None:
    """Hatch the bars of instances that ended the run failed or removed; fade draining ones."""
    states = _states_at_end(res)
    for bar, iid in zip(bars, res.instance_ids):
        if states.get(iid) in (ev.FAILED, ev.REMOVED):
            bar.set_hatch("//")
            bar.set_alpha(0.5)
        elif states.get(iid) == ev.DRAINING:
            bar.set_alpha(0.6)


_GHOST = {"alpha": 0.5, "ls": (0, (4, 2)), "lw": 1.3}
_GHOST_NOTE = "dashed: baseline"


def _ghosts(baseline, labels) -> list[tuple[str, Result, str]]:
    """``(label, result, colour)`` per baseline run; a router still shown keeps its colour, others grey."""
    if baseline is None:
        return []
    labels = list(labels)
    return [(label, res, router_color(labels.index(label)) if label in labels else "0.45")
            for label, res in as_results(baseline).items()]


def _rename_ghost(ax, index: int, ghosts) -> None:
    """Keep the ghost's legend entry (entry ``index``) naming the run it now shows."""
    legend = ax.get_legend()
    if ghosts and legend is not None and index < len(legend.get_texts()):
        legend.get_texts()[index].set_text(_ghost_label(0, ghosts))


def _ghost_label(n: int, ghosts) -> str:
    """The legend entry of ghost ``n``: the first one speaks for all, naming the run if it is alone."""
    if n:
        return "_nolegend_"
    return f"{_GHOST_NOTE} ({ghosts[0][0]})" if len(ghosts) == 1 else _GHOST_NOTE


def plot_instance_load(ax, res: Result, normalise: bool = False, title: str | None = None,
                       baseline: Result | None = None):
    """Bars: requests each instance served over the run; a dashed line at the mean.

    Instances that ended the run failed or removed are hatched, draining ones faded.
    ``baseline`` (another run, e.g. the previous one) is marked by a black dash per instance.
    """
    counts = _load_counts(res, normalise)
    ghost = None if baseline is None else _load_counts(baseline, normalise)
    return _bars_with_mean(ax, res, counts, ("load", normalise),
                           "load / mean load" if normalise else "requests served",
                           title or f"Load per instance ({res.router.label()})", baseline, ghost)


def _load_counts(res: Result, normalise: bool) -> np.ndarray:
    counts = np.array(list(res.per_instance_requests().values()), dtype=float)
    if normalise:
        counts = counts / counts.mean() if counts.mean() else counts
    return counts


def _ghost_points(ids, baseline, values):
    """(x, y) of a baseline's per-instance values, at the bars of the same instance ids."""
    if baseline is None:
        return np.empty((0, 2))
    where = {iid: k for k, iid in enumerate(ids)}
    pts = [(where[iid], v) for iid, v in zip(baseline.instance_ids, values) if iid in where]
    return np.array(pts, dtype=float).reshape(-1, 2)


def _bars_with_mean(ax, res: Result, counts, kind, ylabel: str, title: str, baseline=None, ghost=None):
    ids = list(res.instance_ids)
    live = getattr(ax, "_stickylab_live", False)        # marks made up front, filled when there is one
    key = ("bars",) + kind + (tuple(ids), tuple(sorted(_states_at_end(res).items())),
                              live or baseline is not None)
    points = _ghost_points(ids, baseline, ghost)
    needed = max(float(np.max(counts, initial=0.0)), float(np.max(points[:, 1], initial=0.0)))
    kept = _reuse(ax, key)
    if kept is not None:
        bars, mean, marks = kept
        for bar, c in zip(bars, counts):
            bar.set_height(c)
        mean.set_ydata([counts.mean()] * 2)
        if marks is not None:
            marks.set_offsets(points)
        ax.set_ylim(0, _steady_top(ax, needed * 1.05, True))
        ax.set_title(title)
        return ax
    bars = ax.bar(ids, counts, color=[instance_color(k) for k in range(len(ids))])
    _mark_down(bars, res)
    mean = ax.axhline(counts.mean(), color="k", ls="--", lw=1, label="mean")
    marks = None
    if live or baseline is not None:
        marks = ax.scatter(points[:, 0], points[:, 1], marker="_", s=500, color="k", alpha=0.6,
                           zorder=3, label="_nolegend_" if live else "baseline")
    ax.set_ylim(0, _steady_top(ax, needed * 1.05, False))
    ax.set_xlabel("instance")
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(FuncFormatter(_count))
    ax.set_title(title)
    _legend(ax, loc="lower right", fontsize=8)
    _keep(ax, key, (list(bars), mean, marks))
    return ax


def _count(value: float, _=None) -> str:
    """A count for a tick label, short enough for a fixed margin: ``800``, ``5000``, ``12k``."""
    return f"{value / 1000:g}k" if abs(value) >= 10_000 else f"{value:g}"


def _rate(res: Result, bucket: float | None):
    tl = res.timeline(bucket)
    width = tl["start"][1] - tl["start"][0] if len(tl["start"]) > 1 else res.scenario.duration
    return tl, width


def _added_at(res: Result) -> dict[str, float]:
    """When each scaled-out instance joined (instances there from the start are absent)."""
    born, n = {}, res.scenario.instances
    for event in res.events:
        if isinstance(event, ev.ScaleOut):
            for _ in range(event.count):
                born[f"i{n}"] = event.at
                n += 1
    return born


def plot_load_over_time(ax, res: Result, bucket: float | None = None, title: str | None = None):
    """Lines: requests per second each instance served, over the run; its capacity dashed, events marked."""
    tl, width = _rate(res, bucket)
    mid = tl["start"] + width / 2
    born = _added_at(res)
    peak = 0.0
    rates = []
    for k, iid in enumerate(res.instance_ids):
        rate = np.where(tl["start"] + width > born.get(iid, 0.0), tl["load"][k] / width, np.nan)
        peak = max(peak, float(np.nanmax(rate, initial=0.0)))
        rates.append(rate)
    title = title or f"Load over time ({res.router.label()})"
    needed = max(peak, res.scenario.capacity) * 1.15          # room above for the legend
    key = ("load_over_time", tuple(res.instance_ids), _events_key(res.events), res.scenario.duration,
           res.scenario.capacity)
    kept = _reuse(ax, key)
    if kept is not None:
        for line, rate in zip(kept, rates):
            line.set_data(mid, rate)
        ax.set_ylim(0, _steady_top(ax, needed, True))
        ax.set_title(title)
        return ax
    lines = [ax.plot(mid, rate, color=instance_color(k), lw=1.5, label=iid)[0]
             for k, (iid, rate) in enumerate(zip(res.instance_ids, rates))]
    ax.axhline(res.scenario.capacity, color="k", ls="--", lw=1, label="capacity")
    ax.set_ylim(0, _steady_top(ax, needed, False))
    mark_events(ax, res.events)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("requests / s")
    ax.set_xlim(0, res.scenario.duration)
    ax.set_title(title)
    _legend(ax, loc="upper left", fontsize=8, ncol=min(len(res.instance_ids) + 1, 6))
    _keep(ax, key, lines)
    return ax


#: What :func:`plot_losses_over_time` counts, one meaning per label: its y label and title.
LOSS_LABELS = {
    "lost": ("requests that lost their session / s", "Requests that lost their session"),
    "failed": ("failed requests / s", "Failed requests over time"),
}


def _over_time(ax, results, baseline, name, series_of, ylabel, title, legend_loc, ylim=None,
               percent=False, empty=""):
    """Lines over time, one per run, plus the baseline's as dashed ghosts; updated in place when live.

    On a dashboard's Axes there is a ghost line per run from the first draw (empty until
    there is a baseline, and without a legend entry: the dashboard says what the ghost
    is), so the first baseline changes data, not artists. ``empty`` is written across the
    plot while every line is flat at zero, so a flat line reads as a finding ("no request
    failed"), not as a broken plot.
    """
    results = as_results(results)
    first = next(iter(results.values()))
    live = getattr(ax, "_stickylab_live", False)
    ghosts = _ghosts(baseline, results)
    if live:
        ghosts = ghosts[: len(results)]
    series = [series_of(res) for res in results.values()]
    faint = [series_of(res) for _, res, _ in ghosts]
    slots = len(results) if live else len(ghosts)
    key = (name, tuple(results), slots, _events_key(first.events), first.scenario.duration)
    peak = max((float(np.nanmax(y, initial=0.0)) for _, y in series + faint), default=0.0)
    blank = (np.zeros(0), np.zeros(0))
    kept = _reuse(ax, key)
    if kept is None:
        lines = [ax.plot(x, y, color=router_color(n), lw=1.8, label=label)[0]
                 for n, (label, (x, y)) in enumerate(zip(results, series))]
        lines += [ax.plot([], [], color="0.45", label="_nolegend_" if live else _ghost_label(n, ghosts),
                          **_GHOST)[0] for n in range(slots)]
        note = ax.annotate("", (0.5, 0.18), xycoords="axes fraction", ha="center", va="center",
                           fontsize=9, color="0.3",
                           bbox={"boxstyle": "square,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
        mark_events(ax, first.events)
        ax.set_xlabel("time (s)")
        ax.set_ylabel(ylabel)
        ax.set_xlim(0, first.scenario.duration)
        ax.set_ylim(*(ylim or (0, _steady_top(ax, peak * 1.1, False))))
        if percent:
            ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.set_title(title)
        _legend(ax, loc=legend_loc, fontsize=8)
        _keep(ax, key, (lines, note))
    else:
        lines, note = kept
        if not live:
            _rename_ghost(ax, len(series), ghosts)
        if ylim is None:
            ax.set_ylim(0, _steady_top(ax, peak * 1.1, True))
    for line, (x, y) in zip(lines, series):
        line.set_data(x, y)
    for k, line in enumerate(lines[len(series):]):
        line.set_data(*(faint[k] if k < len(ghosts) else blank))
        if k < len(ghosts):
            line.set_color(ghosts[k][2])
    flat = all(float(np.nanmax(y, initial=0.0)) == 0 for _, y in series)
    note.set_text(empty if flat else "")
    return ax


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
        tl, width = _rate(res, bucket)
        return tl["start"] + width / 2, tl[what] / width

    ylabel, title = LOSS_LABELS[what]
    empty = "no request lost its session in this run" if what == "lost" else "no request failed in this run"
    return _over_time(ax, results, baseline, ("losses", what), series, ylabel, title, "upper right",
                      empty=empty)


def plot_hit_rate_over_time(ax, results, bucket: float | None = None, baseline=None):
    """Lines: the share of requests that found their user's data in the local cache, over time, per router.

    ``baseline`` runs are drawn dashed and faint.
    """
    def series(res):
        tl, width = _rate(res, bucket)
        return tl["start"] + width / 2, tl["hit_rate"]

    return _over_time(ax, results, baseline, "hit_rate", series, "cache hit rate",
                      "Cache hits over time", "lower left", ylim=(0, 1.02), percent=True)


def _cdf(res: Result):
    lat = np.sort(res.latency[res.served]) * 1000
    if not len(lat):
        return None
    lat = np.maximum(lat, 1e-3)
    share = np.arange(1, len(lat) + 1) / len(lat)
    step = max(1, len(lat) // 400)          # a few hundred points draw as fast and look the same
    return np.r_[lat[::step], lat[-1]], np.r_[share[::step], 1.0]


def plot_latency_cdf(ax, results, baseline=None):
    """Cumulative distribution of served requests' latency in milliseconds, per router (log scale).

    Each curve's 99th percentile is marked and written beside it (``p99 85 ms``). The x
    axis spans whole powers of ten, ticked at 1, 2 and 5 times each as plain numbers.
    ``baseline`` runs are drawn dashed and faint.
    """
    results = as_results(results)
    curves = []
    for n, (label, res) in enumerate(results.items()):
        xy = _cdf(res)
        if xy is not None:
            curves.append((n, *xy, label, res.p99_latency() * 1000))
    live = getattr(ax, "_stickylab_live", False)
    named = _ghosts(baseline, results)[: len(results) if live else None]
    ghosts = [(colour, _cdf(res)) for _, res, colour in named]
    ghosts = [(colour, xy) for colour, xy in ghosts if xy is not None]
    xs = [x for _, x, _, _, _ in curves] + [xy[0] for _, xy in ghosts]
    slots = len(results) if live else len(ghosts)       # on a dashboard, made before any baseline
    key = ("latency_cdf", tuple(results), tuple(n for n, *_ in curves), slots)
    kept = _reuse(ax, key)
    if kept is None:
        lines = [ax.plot(x, y, color=router_color(n), lw=1.8, label=name)[0] for n, x, y, name, _ in curves]
        faint = [ax.plot([], [], color="0.45", label="_nolegend_" if live else _ghost_label(n, named),
                         **_GHOST)[0] for n in range(slots)]
        marks = ax.scatter([c[4] for c in curves], [0.99] * len(curves), s=18, zorder=3,
                           color=[router_color(c[0]) for c in curves])
        notes = [ax.annotate("", (0, 0.99), xytext=(5, -11 * (k + 1)), textcoords="offset points",
                             fontsize=8, color=router_color(c[0])) for k, c in enumerate(curves)]
        ax.set_xscale("log")
        _log_ticks(ax.xaxis)
        ax.set_xlabel("latency (ms, log scale)")
        ax.set_ylabel("share of requests at or below")
        ax.set_ylim(0, 1.01)
        ax.set_title("Latency distribution")
        _legend(ax, loc="lower right", fontsize=8)
        kept = (lines, faint, marks, notes)
        _keep(ax, key, kept)
    elif not live:
        _rename_ghost(ax, len(kept[0]), named)
    lines, faint, marks, notes = kept
    for line, (_, x, y, _, _) in zip(lines, curves):
        line.set_data(x, y)
    for k, line in enumerate(faint):
        line.set_data(*(ghosts[k][1] if k < len(ghosts) else ([], [])))
        if k < len(ghosts):
            line.set_color(ghosts[k][0])
    marks.set_offsets(np.array([(c[4], 0.99) for c in curves]).reshape(-1, 2))
    lo, hi = _decades(np.concatenate(xs)) if xs else ax.get_xlim()
    if xs:
        ax.set_xlim(lo, hi)
        _log_ticks(ax.xaxis, lo, hi)
    for k, (note, c) in enumerate(zip(notes, curves)):
        right = math.log10(c[4] / lo) > 0.6 * math.log10(hi / lo)     # write it on the left side
        note.xy = (c[4], 0.99)
        note.set_position((-5 if right else 5, -11 * (k + 1)))
        note.set_horizontalalignment("right" if right else "left")
        note.set_text(f"p99 {c[4]:,.0f} ms")
    return ax


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
    live = getattr(ax, "_stickylab_live", False)
    key = ("metric", metric, tuple(labels), live or baseline is not None)
    made = _labelled_bars(ax, key, labels, values, lambda v: _metric_text(metric, v))
    needed = max(max(values, default=0.0), float(np.max(points[:, 1], initial=0.0)))
    if made is None:
        marks = ax._stickylab_state[1][2]
        if marks is not None:
            marks.set_offsets(points)
        if metric not in _PERCENT:
            ax.set_ylim(0, _steady_top(ax, needed * 1.15, True))
        return ax
    marks = None
    if live or baseline is not None:
        marks = ax.scatter(points[:, 0], points[:, 1], marker="_", s=700, color="k", alpha=0.6,
                           zorder=3, label="baseline")
        if not live:
            _legend(ax, loc="upper right", fontsize=8)
    if metric in _PERCENT:
        ax.set_ylim(0, 1.08)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    else:
        ax.set_ylim(0, _steady_top(ax, needed * 1.15, False))
    ax.set_ylabel(METRIC_LABELS[metric])
    ax.set_title(METRIC_LABELS[metric].split(" (")[0].capitalize())
    ax.tick_params(axis="x", labelsize=8)
    _keep(ax, key, made + (marks,))
    return ax


def plot_request_sequence(ax, res: Result, users: Sequence[int] | int = 8, until: float | None = None,
                          title: str | None = None):
    """One row per user, one dot per request, coloured by the instance that served it.

    A sticky router paints each visit of a row in one colour; a stateless one scatters
    colours; a black cross is a request that lost its session (its user was logged out),
    a grey x one that failed. ``users`` is a list of user numbers or how many of the
    busiest users to show; the rows are labelled ``user <number>``.
    """
    wl = res.workload
    if isinstance(users, int):
        counts = np.bincount(wl.users, minlength=res.scenario.users)
        users = np.argsort(-counts, kind="stable")[:users]
    users = [int(u) for u in users]
    until = res.scenario.duration if until is None else until
    row = np.full(max(users, default=0) + 1, -1)
    row[users] = np.arange(len(users))
    pick = (wl.times <= until) & np.isin(wl.users, users)
    t, u, inst = wl.times[pick], wl.users[pick], res.instance[pick]
    lost = res.lost[pick]
    y = row[u]
    groups = [(k, inst == k) for k in range(len(res.instance_ids))]
    failed = inst < 0
    any_failed = bool(res.failed.any())         # of the whole run: steady while users change
    masks = [m for _, m in groups] + [lost] + ([failed] if any_failed else [])
    names = [f"user {x}" for x in users]
    title = title or f"Who served each request ({res.router.label()})"
    key = ("request_sequence", len(users), until, tuple(res.instance_ids), any_failed,
           _events_key(res.events))
    kept = _reuse(ax, key)
    if kept is not None:
        dots, notes = kept
        for scatter, m in zip(dots, masks):
            scatter.set_offsets(np.column_stack([t[m], y[m]]))
        for note, name in zip(notes, names):
            note.set_text(name)
        ax.set_title(title)
        return ax
    # one set of dots per instance (empty ones included) so other users change data, not artists
    dots = [ax.scatter(t[m], y[m], s=22, color=instance_color(k), label=res.instance_ids[k], zorder=2)
            for k, m in groups]
    dots.append(ax.scatter(t[lost], y[lost], s=40, marker="+", color="k", label="lost its session",
                           zorder=3))
    if any_failed:
        dots.append(ax.scatter(t[failed], y[failed], s=30, marker="x", color="0.5", label="failed",
                               zorder=3))
    mark_events(ax, res.events)
    # Row names are texts beside the axis, not tick labels: a new set of users changes their
    # text, not the axis, so a dashboard need not redraw the frame.
    ax.set_yticks(range(len(users)), [""] * len(users))
    notes = [ax.annotate(name, (0, n), xycoords=("axes fraction", "data"), xytext=(-4, 0),
                         textcoords="offset points", ha="right", va="center", fontsize=8)
             for n, name in enumerate(names)]
    ax.set_ylim(len(users) - 0.5, -0.5)
    ax.set_xlim(0, until * 1.45)                # room on the right for the legend
    ax.set_xticks([t for t in ax.get_xticks() if t <= until])
    ax.set_xlabel("time (s)")
    ax.set_title(title)
    _legend(ax, loc="upper right", fontsize=7, handletextpad=0.2, borderpad=0.3, labelspacing=0.3)
    _keep(ax, key, (dots, notes))
    return ax


def row_labels(ax) -> list[str]:
    """The row names :func:`plot_request_sequence` wrote beside ``ax``, top row first: ``["user 3", ...]``."""
    notes = [t for t in ax.texts if t.get_text().startswith("user ")]
    return [t.get_text() for t in sorted(notes, key=lambda t: t.xy[1])]


def plot_users_per_instance(ax, res: Result, title: str | None = None, baseline: Result | None = None):
    """Bars: distinct users each instance served at least once; NAT shows up here. Failed ones hatched.

    ``baseline`` (another run, e.g. the previous one) is marked by a black dash per instance.
    """
    counts = _user_counts(res)
    ghost = None if baseline is None else _user_counts(baseline)
    return _bars_with_mean(ax, res, counts, ("users",), "distinct users served",
                           title or f"Users per instance ({res.router.label()})", baseline, ghost)


def plot_per_instance(ax, results, what: str = "users", title: str | None = None):
    """Grouped bars on one axis: per instance, each router's distinct users (or requests served).

    Side by side on one y axis, so "how uneven?" compares by height across routers. ``what``
    is ``"users"`` (distinct users served, where NAT shows) or ``"requests"``. On a
    dashboard's Axes the bars are updated in place.
    """
    if what not in ("users", "requests"):
        raise ValueError(f"what must be 'users' or 'requests', got what={what!r}")
    results = as_results(results)
    ids = list(dict.fromkeys(iid for res in results.values() for iid in res.instance_ids))
    count = _user_counts if what == "users" else (lambda res: _load_counts(res, False))
    heights = []
    for res in results.values():
        mine = dict(zip(res.instance_ids, count(res)))
        heights.append([float(mine.get(iid, 0)) for iid in ids])
    width = 0.8 / len(results)
    key = ("per_instance", what, tuple(results), tuple(ids))
    needed = max((max(h, default=0.0) for h in heights), default=0.0) * 1.05
    kept = _reuse(ax, key)
    if kept is None:
        x = np.arange(len(ids))
        kept = [ax.bar(x - 0.4 + width * (n + 0.5), h, width, color=router_color(n), label=label)
                for n, (label, h) in enumerate(zip(results, heights))]
        ax.set_xticks(x, ids)
        ax.set_xlabel("instance")
        ax.set_ylabel("distinct users served" if what == "users" else "requests served")
        ax.yaxis.set_major_formatter(FuncFormatter(_count))
        ax.set_title(title or ("Users per instance" if what == "users" else "Load per instance"))
        ax.set_ylim(0, _steady_top(ax, needed, False))
        _legend(ax, loc="upper right", fontsize=8)
        _keep(ax, key, kept)
    else:
        for bars, h in zip(kept, heights):
            for bar, v in zip(bars, h):
                bar.set_height(v)
        ax.set_ylim(0, _steady_top(ax, needed, True))
    return ax


def _user_counts(res: Result) -> np.ndarray:
    served = res.served
    n = len(res.instance_ids)
    pairs = np.unique(res.workload.users[served] * n + res.instance[served])
    return np.bincount(pairs % n, minlength=n)


def _draw_table(ax, header, rows, colours, title, max_rows):
    """A table of ``max_rows`` rows under ``header``, the unused ones hidden; updated in place when live.

    Every cell exists from the first draw, so a dashboard or stepper changes texts and
    colours instead of building a new table per step.
    """
    key = ("table", tuple(header), max_rows)
    table = _reuse(ax, key)
    if table is None:
        ax.axis("off")
        blank = [[""] * len(header) for _ in range(max_rows)]
        table = ax.table(cellText=blank, colLabels=header, loc="upper left", cellLoc="left")
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        _keep(ax, key, table)
    cells = table.get_celld()
    for r in range(1, max_rows + 1):
        shown = r <= len(rows)
        for c in range(len(header)):
            cell = cells[(r, c)]
            cell.set_visible(shown)
            cell.get_text().set_text(rows[r - 1][c] if shown else "")
            cell.set_facecolor(colours[r - 1][c] if shown else "white")
    for c in range(len(header)):
        cells[(0, c)].set_visible(bool(rows))
    table.auto_set_column_width(list(range(len(header))))     # widths follow the texts at draw
    ax.set_title(title)
    return table


def _colour_of(iid, pool_ids) -> str:
    ids = list(pool_ids)
    return instance_color(ids.index(iid)) if iid in ids else "white"


def _check_rows(max_rows) -> None:
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ValueError(f"max_rows must be a positive integer, got max_rows={max_rows!r}")


def plot_affinity_table(ax, table, pool_ids: Sequence[str], max_rows: int = 12):
    """A balancer's mapping table (key -> instance) drawn as a table, oldest entry first.

    ``table`` is an :class:`~stickylab.routers.AffinityTable` (the ``.table`` of a
    ``StickTable`` or ``AppCookieLearn``) or a ``{key: instance}`` dict; ``pool_ids`` fixes
    the instance colours.
    """
    _check_rows(max_rows)
    snap = table.snapshot() if hasattr(table, "snapshot") else dict(table)
    rows = [[str(k), v] for k, v in list(snap.items())[:max_rows]]
    colours = [["white", _colour_of(v, pool_ids)] for _, v in rows]
    more = f" (first {max_rows} shown)" if len(snap) > max_rows else ""
    _draw_table(ax, ["key", "instance"], rows, colours,
                f"Mapping table: {len(snap)} entr{'y' if len(snap) == 1 else 'ies'}{more}", max_rows)
    return ax


def plot_routing_log(ax, log: Sequence[tuple], pool_ids: Sequence[str], max_rows: int = 12):
    """The last requests routed by hand, as a table: time, client address, instance chosen.

    ``log`` holds ``(request, instance)`` pairs in the order they were routed.
    """
    _check_rows(max_rows)
    shown = list(log)[-max_rows:]
    rows = [[f"{req.time:g} s", req.client_ip, iid] for req, iid in shown]
    colours = [["white", "white", _colour_of(iid, pool_ids)] for _, iid in shown]
    _draw_table(ax, ["time", "client address", "sent to"], rows, colours,
                f"Requests routed: {len(log)}", max_rows)
    return ax


def plot_table(ax, header: Sequence[str], rows: Sequence[Sequence[str]], title: str,
               colours: Sequence[Sequence[str]] | None = None, max_rows: int = 12):
    """Any small table (the steppers' exchange logs): the last ``max_rows`` rows under ``header``.

    ``colours`` gives each cell's background (default white); on a live Axes the cells are
    updated in place.
    """
    _check_rows(max_rows)
    rows = [[str(v) for v in row] for row in rows][-max_rows:]
    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"every row needs {len(header)} cells (one per header), got {rows!r}")
    colours = (list(colours)[-max_rows:] if colours is not None
               else [["white"] * len(header) for _ in rows])
    _draw_table(ax, list(header), rows, colours, title, max_rows)
    return ax


def _labelled_bars(ax, key, labels, values, fmt):
    """Bars with their value written on top; on a live Axes, the same bars and labels updated."""
    kept = _reuse(ax, key)
    if kept is not None:
        bars, notes = kept[:2]
        for bar, note, v in zip(bars, notes, values):
            bar.set_height(v)
            note.set_text(fmt(v))
            note.xy = (bar.get_x() + bar.get_width() / 2, v)
        return None
    bars = ax.bar(list(labels), values, color=[router_color(n) for n in range(len(values))])
    notes = [ax.annotate(fmt(v), (bar.get_x() + bar.get_width() / 2, v), ha="center",
                         va="bottom", fontsize=8) for bar, v in zip(bars, values)]
    return list(bars), notes


def plot_key_movement(ax, labels: Sequence[str], moved: Sequence[float],
                      ideal: Sequence[float] | None = None):
    """Bars: the share of keys that changed instance, per scheme or change; optional ideal markers."""
    moved, labels = list(moved), list(labels)
    key = ("key_movement", tuple(labels), ideal is None)
    made = _labelled_bars(ax, key, labels, moved, lambda v: f"{v:.0%}")
    if made is None:
        if ideal is not None:
            ax._stickylab_state[1][2].set_offsets(
                np.column_stack([np.arange(len(labels)), list(ideal)]))
        return ax
    marks = None
    if ideal is not None:
        marks = ax.scatter(labels, list(ideal), marker="_", s=900, color="k", zorder=3,
                           label="the least that must move")
        _legend(ax, loc="upper right", fontsize=8)
    ax.set_ylim(0, 1.25)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel("keys that moved (share)")
    ax.set_title("Keys that changed node")
    ax.tick_params(axis="x", labelsize=8)
    _keep(ax, key, made + (marks,))
    return ax


def plot_key_balance(ax, labels: Sequence[str], busiest: Sequence[float]):
    """Bars: the busiest node's share of the keys over its fair share 1/N, per scheme (1 = even)."""
    busiest, labels = list(busiest), list(labels)
    key = ("key_balance", tuple(labels))
    made = _labelled_bars(ax, key, labels, busiest, lambda v: f"{v:.2f}")
    if made is not None:
        ax.axhline(1.0, color="k", ls="--", lw=1, label="perfectly even")
        ax.set_ylabel("busiest node's keys / fair share")
        ax.set_title("How evenly keys spread")
        ax.tick_params(axis="x", labelsize=8)
        _legend(ax, loc="lower right", fontsize=8)
        _keep(ax, key, made)
    ax.set_ylim(0, max(1.5, max(busiest, default=1.0) * 1.15))
    return ax


def plot_sweep(ax, x: Sequence[float], series: Mapping[str, Sequence[float]], xlabel: str,
               ylabel: str, percent: bool = False, title: str | None = None, log: bool = False):
    """Lines with markers: a measured value against a swept knob, one line per router or setting.

    ``percent`` formats the y axis as percentages; ``log`` makes it logarithmic, ticked at
    1, 2 and 5 times each power of ten written as plain numbers. On a dashboard's Axes the
    lines are updated in place.
    """
    x = list(x)
    series = {label: np.asarray(list(ys), dtype=float) for label, ys in series.items()}
    if any(len(ys) != len(x) for ys in series.values()):
        raise ValueError(f"each series needs one value per x ({len(x)}), got lengths "
                         f"{ {k: len(v) for k, v in series.items()} }")
    values = np.concatenate(list(series.values())) if series else np.zeros(0)
    key = ("sweep", tuple(series), len(x), xlabel, ylabel, percent, title, log)
    kept = _reuse(ax, key)
    if kept is None:
        kept = [ax.plot(x, ys, marker="o", color=router_color(n), lw=1.8, label=label)[0]
                for n, (label, ys) in enumerate(series.items())]
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if all(isinstance(v, int | np.integer) for v in x):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if log:
            ax.set_yscale("log")
            _log_ticks(ax.yaxis)
        if percent:
            ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        if title:
            ax.set_title(title)
        _legend(ax, loc="best", fontsize=8)
        _keep(ax, key, kept)
        live = False
    else:
        for line, ys in zip(kept, series.values()):
            line.set_data(x, ys)
        ax.relim()
        ax.autoscale_view(scaley=False)
        live = True
    positive = values[np.isfinite(values) & (values > 0)]
    if log and len(positive):
        lo, hi = _decades(positive)
        ax.set_ylim(lo, hi)
        _log_ticks(ax.yaxis, lo, hi)
    elif not log:
        ax.set_ylim(0, _steady_top(ax, float(np.nanmax(values, initial=0.0)) * 1.1, live))
    return ax


def _angles(hashes) -> np.ndarray:
    """Positions on the circle, in radians clockwise from the top, of 64-bit hashes."""
    return np.asarray(hashes, dtype=np.uint64).astype(np.float64) / 2.0**64 * 2 * np.pi


def _on_circle(angles, radius: float) -> np.ndarray:
    return np.column_stack([radius * np.sin(angles), radius * np.cos(angles)])


def _key_hashes(keys) -> np.ndarray:
    if keys is None:
        return np.zeros(0, dtype=np.uint64)
    if isinstance(keys, np.ndarray) and keys.dtype == np.uint64:
        return keys
    return hash_keys(list(keys))


_RING_SLOTS = 12      # node labels made at once: up to this many nodes, a change of nodes is an update


def plot_ring(ax, ring, keys=None, moved=None, title: str | None = None, arcs: int = 720):
    """The hash ring: each node's points (virtual nodes) on a circle, the arcs they own, and keys.

    ``ring`` is a :class:`~stickylab.hashing.Ring` (or ``BoundedLoad``). The circle is
    the 64-bit hash space read clockwise from the top; a point of node ``n`` is a dot in
    ``n``'s colour, and the arc before it (counter-clockwise, up to the previous point) is
    coloured ``n`` too: every key hashing onto that arc goes to ``n``. ``keys`` (a
    ``uint64`` hash array, or strings) are drawn as small dots inside the circle, in their
    node's colour; ``moved`` (booleans, one per key) rings the keys that changed node.
    Beside the circle, each node's points and share of the circle (of the keys), against
    the fair share 1/N. On a dashboard's Axes everything is updated in place, nodes added
    or removed included (up to 12 nodes).
    """
    if not hasattr(ring, "points") or not hasattr(ring, "owner"):
        raise TypeError(f"plot_ring draws a hashing.Ring (or BoundedLoad), got {ring!r}")
    nodes = list(ring.nodes)
    colours = np.array([instance_color(k) for k in range(len(nodes))])
    points = _on_circle(_angles(ring.points), 1.0)
    grid = np.linspace(0, 2 * np.pi, arcs + 1)
    edge = _on_circle(grid, 1.0)
    segments = np.stack([edge[:-1], edge[1:]], axis=1)
    middle = ((grid[:-1] + grid[1:]) / 2) / (2 * np.pi) * 2.0**64
    arc_owner = ring.index_many(middle.astype(np.uint64))
    hashes = _key_hashes(keys)
    key_xy = _on_circle(_angles(hashes), 0.86)
    key_owner = ring.index_many(hashes) if len(hashes) else np.zeros(0, dtype=int)
    moved = np.zeros(len(hashes), bool) if moved is None else np.asarray(moved, dtype=bool)
    if len(moved) != len(hashes):
        raise ValueError(f"moved needs one flag per key ({len(hashes)}), got {len(moved)}")
    shares = ring.arc_shares()
    counts = np.bincount(ring.owner, minlength=len(nodes))
    names = [f"{n}: {counts[k]} pts, {shares[n]:.0%}" for k, n in enumerate(nodes)]
    busiest = max(shares.values()) * len(nodes)
    heading = (f"{len(nodes)} nodes, {len(ring.points)} points; share of keys\n"
               f"(fair {1 / len(nodes):.0%}; busiest {busiest:.2f}x fair)")
    footnote = f"o = a key that moved: {int(moved.sum())} of {len(hashes)}" if len(hashes) else ""
    title = title or "The hash ring"
    slots = max(_RING_SLOTS, len(nodes))
    key = ("ring", len(hashes), arcs, slots)
    kept = _reuse(ax, key)
    if kept is None:
        arc_lines = LineCollection(segments, linewidths=7, zorder=1)
        ax.add_collection(arc_lines)
        dots = ax.scatter(points[:, 0], points[:, 1], s=26, edgecolors="white", linewidths=0.8, zorder=3)
        key_dots = ax.scatter(key_xy[:, 0], key_xy[:, 1], s=14, marker="o", zorder=2)
        rings = ax.scatter(key_xy[moved, 0], key_xy[moved, 1], s=70, facecolors="none", edgecolors="k",
                           linewidths=1.2, zorder=4)
        top = ax.annotate("", (-2.35, 1.1), fontsize=8, va="top")
        labels = [ax.annotate("", (-2.3, 0.8 - 0.15 * n), fontsize=8, va="top", fontweight="bold")
                  for n in range(slots)]
        ax.annotate("0", (0, 1.0), xytext=(0, 8), textcoords="offset points", ha="center", fontsize=8,
                    color="0.4")
        ax.annotate("hash space,\nclockwise", (0, 0), ha="center", va="center", fontsize=8, color="0.4")
        foot = ax.annotate("", (1.2, -1.12), ha="right", fontsize=8, color="0.2")
        ax.set_xlim(-2.4, 1.2)           # the node labels sit left of the circle
        ax.set_ylim(-1.15, 1.15)
        ax.set_aspect("equal", adjustable="box")
        ax.axis("off")
        kept = (arc_lines, dots, key_dots, rings, top, foot, labels)
        _keep(ax, key, kept)
    arc_lines, dots, key_dots, rings, top, foot, labels = kept
    arc_lines.set_color(colours[arc_owner])
    dots.set_offsets(points)
    dots.set_color(colours[ring.owner])
    dots.set_edgecolor("white")
    key_dots.set_offsets(key_xy)
    key_dots.set_color(colours[key_owner] if len(hashes) else "k")
    rings.set_offsets(key_xy[moved].reshape(-1, 2))
    top.set_text(heading)
    foot.set_text(footnote)
    for n, label in enumerate(labels):
        label.set_text(names[n] if n < len(nodes) else "")
        label.set_color(colours[n] if n < len(nodes) else "k")
    ax.set_title(title)
    return ax


def plot_arc_shares(ax, ring, title: str | None = None):
    """Bars: each node's share of the ring's circle (the keys it gets) against the fair share 1/N."""
    shares = ring.arc_shares()
    nodes, values = list(shares), list(shares.values())
    key = ("arc_shares", tuple(nodes))
    kept = _reuse(ax, key)
    fair = 1 / len(nodes)
    top = max(2.2 * fair, max(values) * 1.15)
    if kept is not None:
        bars, notes, line = kept
        for bar, note, v in zip(bars, notes, values):
            bar.set_height(v)
            note.set_text(f"{v:.0%}")
            note.xy = (bar.get_x() + bar.get_width() / 2, v)
        ax.set_ylim(0, _steady_top(ax, top, True))
        ax.set_title(title or ax.get_title())
        return ax
    bars = ax.bar(nodes, values, color=[instance_color(k) for k in range(len(nodes))])
    notes = [ax.annotate(f"{v:.0%}", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom",
                         fontsize=8) for bar, v in zip(bars, values)]
    line = ax.axhline(fair, color="k", ls="--", lw=1, label=f"fair share 1/{len(nodes)}")
    ax.set_ylim(0, _steady_top(ax, top, False))
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("node")
    ax.set_ylabel("share of the keys")
    ax.set_title(title or "Each node's share")
    _legend(ax, loc="upper right", fontsize=8)
    _keep(ax, key, (list(bars), notes, line))
    return ax


def mark_events(ax, events) -> None:
    """Dotted vertical lines at each event's time, labelled (``i1 fails``, ``added``...).

    A failure with a detection delay (``Fail(..., detect=6.0)``) also shades the seconds
    before the balancer notices it, when requests sent there fail.
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
                    textcoords="offset points", color=colour, fontsize=8,
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})


#: The plots that update a dashboard's live Axes in place (see ``_reuse``).
_IN_PLACE = frozenset({plot_instance_load, plot_load_over_time, plot_losses_over_time,
                       plot_hit_rate_over_time, plot_latency_cdf, plot_request_sequence,
                       plot_users_per_instance, plot_key_movement, plot_key_balance, plot_metric,
                       plot_sweep, plot_affinity_table, plot_routing_log, plot_table, plot_ring,
                       plot_arc_shares, plot_per_instance})
