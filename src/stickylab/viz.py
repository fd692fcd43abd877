"""Plots of simulation results: one idea per Axes, labelled, with units.

Every function draws on a Matplotlib ``Axes`` it is given and returns it, so a notebook
can lay figures out as it likes and a dashboard can redraw the same figure again and
again. Nothing here imports Jupyter; :mod:`stickylab.widgets` builds the controls on top.

Functions that compare routers take ``results``: a :class:`~stickylab.Result`, or a
dict ``{label: Result}`` (drawn in order, one colour each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from . import events as ev
from .metrics import Result

__all__ = [
    "METRIC_LABELS", "as_results", "figure", "instance_color", "mark_events",
    "plot_affinity_table", "plot_hit_rate_over_time", "plot_instance_load", "plot_key_balance",
    "plot_key_movement", "plot_latency_cdf", "plot_load_over_time", "plot_losses_over_time",
    "plot_metric", "plot_request_sequence", "plot_routing_log", "plot_sweep",
    "plot_users_per_instance", "router_color",
]

#: Axis labels (with units) for the keys of :meth:`Result.summary`.
METRIC_LABELS = {
    "requests": "requests",
    "session_loss_rate": "session loss rate (share of requests)",
    "cache_hit_rate": "cache hit rate (share of requests)",
    "failed_requests": "failed requests",
    "max_mean_load": "busiest instance / mean load",
    "load_cov": "load spread (std / mean)",
    "affinity": "affinity (share of a user's requests on one instance)",
    "p99_latency": "p99 latency (ms)",
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


def _autoscale_y(ax, bottom=0.0) -> None:
    """Autoscale the y axis to the data again, as a fresh plot would, then pin ``bottom``."""
    ax.set_autoscaley_on(True)
    ax.relim()
    ax.autoscale_view(scalex=False)
    if bottom is not None:
        ax.set_ylim(bottom=bottom)


def figure(nrows: int = 1, ncols: int = 1, width: float = 10.0, height: float = 3.4,
           dpi: int = 80) -> tuple[Figure, np.ndarray]:
    """A figure made without pyplot (no global state, nothing shown by itself) and its axes.

    The margins are fixed rather than computed on every draw, and the figure keeps one Agg
    canvas, which keeps a redraw fast.
    """
    fig = Figure(figsize=(width, height * nrows), dpi=dpi)
    FigureCanvasAgg(fig)            # one canvas for the figure's life: redraws reuse it
    axes = fig.subplots(nrows, ncols, squeeze=False)
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


def plot_instance_load(ax, res: Result, normalise: bool = False, title: str | None = None):
    """Bars: requests each instance served over the run; a dashed line at the mean.

    Instances that ended the run failed or removed are hatched, draining ones faded.
    """
    counts = np.array(list(res.per_instance_requests().values()), dtype=float)
    if normalise:
        counts = counts / counts.mean() if counts.mean() else counts
    return _bars_with_mean(ax, res, counts, ("load", normalise),
                           "load / mean load" if normalise else "requests served",
                           title or f"Load per instance ({res.router.label()})")


def _bars_with_mean(ax, res: Result, counts, kind, ylabel: str, title: str):
    ids = list(res.instance_ids)
    key = ("bars",) + kind + (tuple(ids), tuple(sorted(_states_at_end(res).items())))
    kept = _reuse(ax, key)
    if kept is not None:
        bars, mean = kept
        for bar, c in zip(bars, counts):
            bar.set_height(c)
        mean.set_ydata([counts.mean()] * 2)
        _autoscale_y(ax, bottom=None)
        ax.set_title(title)
        return ax
    bars = ax.bar(ids, counts, color=[instance_color(k) for k in range(len(ids))])
    _mark_down(bars, res)
    mean = ax.axhline(counts.mean(), color="k", ls="--", lw=1, label="mean")
    ax.set_xlabel("instance")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    _keep(ax, key, (list(bars), mean))
    return ax


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
    top = max(peak, res.scenario.capacity) * 1.3
    key = ("load_over_time", tuple(res.instance_ids), _events_key(res.events), res.scenario.duration,
           res.scenario.capacity)
    kept = _reuse(ax, key)
    if kept is not None:
        for line, rate in zip(kept, rates):
            line.set_data(mid, rate)
        ax.set_ylim(0, top)
        ax.set_title(title)
        return ax
    lines = [ax.plot(mid, rate, color=instance_color(k), lw=1.5, label=iid)[0]
             for k, (iid, rate) in enumerate(zip(res.instance_ids, rates))]
    ax.axhline(res.scenario.capacity, color="k", ls="--", lw=1, label="capacity")
    ax.set_ylim(0, top)
    mark_events(ax, res.events)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("requests / s")
    ax.set_xlim(0, res.scenario.duration)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8, ncol=min(len(res.instance_ids) + 1, 6))
    _keep(ax, key, lines)
    return ax


def plot_losses_over_time(ax, results, bucket: float | None = None, what: str = "lost"):
    """Lines: users logged out (``what="lost"``) or failed requests (``"failed"``) per second, per router."""
    if what not in ("lost", "failed"):
        raise ValueError(f"what must be 'lost' or 'failed', got what={what!r}")
    results = as_results(results)
    first = next(iter(results.values()))
    series = []
    for res in results.values():
        tl, width = _rate(res, bucket)
        series.append((tl["start"] + width / 2, tl[what] / width))
    key = ("losses", what, tuple(results), _events_key(first.events), first.scenario.duration)
    kept = _reuse(ax, key)
    if kept is not None:
        for line, (x, y) in zip(kept, series):
            line.set_data(x, y)
        _autoscale_y(ax)
        return ax
    lines = [ax.plot(x, y, color=router_color(n), lw=1.8, label=label)[0]
             for n, (label, (x, y)) in enumerate(zip(results, series))]
    mark_events(ax, first.events)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("logouts / s" if what == "lost" else "failed requests / s")
    ax.set_xlim(0, first.scenario.duration)
    ax.set_ylim(bottom=0)
    ax.set_title("Users logged out over time" if what == "lost" else "Failed requests over time")
    ax.legend(loc="upper right", fontsize=8)
    _keep(ax, key, lines)
    return ax


def plot_hit_rate_over_time(ax, results, bucket: float | None = None):
    """Lines: the share of requests that found their user's data in the local cache, over time, per router."""
    results = as_results(results)
    first = next(iter(results.values()))
    series = []
    for res in results.values():
        tl, width = _rate(res, bucket)
        series.append((tl["start"] + width / 2, tl["hit_rate"]))
    key = ("hit_rate", tuple(results), _events_key(first.events), first.scenario.duration)
    kept = _reuse(ax, key)
    if kept is not None:
        for line, (x, y) in zip(kept, series):
            line.set_data(x, y)
        return ax
    lines = [ax.plot(x, y, color=router_color(n), lw=1.8, label=label)[0]
             for n, (label, (x, y)) in enumerate(zip(results, series))]
    mark_events(ax, first.events)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("cache hit rate")
    ax.set_xlim(0, first.scenario.duration)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_title("Cache hits over time")
    ax.legend(loc="lower left", fontsize=8)
    _keep(ax, key, lines)
    return ax


def plot_latency_cdf(ax, results):
    """Cumulative distribution of served requests' latency in milliseconds, per router (log scale)."""
    results = as_results(results)
    curves = []
    for n, (label, res) in enumerate(results.items()):
        lat = np.sort(res.latency[res.served]) * 1000
        if not len(lat):
            continue
        lat = np.maximum(lat, 1e-3)
        share = np.arange(1, len(lat) + 1) / len(lat)
        step = max(1, len(lat) // 400)          # a few hundred points draw as fast and look the same
        curves.append((n, np.r_[lat[::step], lat[-1]], np.r_[share[::step], 1.0],
                       f"{label} (p99 {res.p99_latency() * 1000:.0f} ms)"))
    key = ("latency_cdf", tuple(results), tuple(n for n, *_ in curves))
    kept = _reuse(ax, key)
    if kept is not None:
        lines, texts = kept
        for line, text, (_, x, y, name) in zip(lines, texts, curves):
            line.set_data(x, y)
            line.set_label(name)
            text.set_text(name)
        ax.set_autoscalex_on(True)
        ax.relim()
        ax.autoscale_view(scaley=False)
        return ax
    lines = [ax.plot(x, y, color=router_color(n), lw=1.8, label=name)[0] for n, x, y, name in curves]
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("share of requests at or below")
    ax.set_ylim(0, 1.01)
    ax.set_title("Latency distribution")
    legend = ax.legend(loc="lower right", fontsize=8)
    _keep(ax, key, (lines, legend.get_texts()))
    return ax


def plot_metric(ax, results, metric: str = "session_loss_rate"):
    """Bars: one summary metric (a key of :meth:`Result.summary`) per router, value written on each bar."""
    if metric not in METRIC_LABELS:
        raise ValueError(f"unknown metric {metric!r}; choose from {', '.join(METRIC_LABELS)}")
    results = as_results(results)
    labels = list(results)
    values = [res.summary()[metric] for res in results.values()]
    scale = 1000.0 if metric == "p99_latency" else 1.0
    values = [v * scale for v in values]
    bars = ax.bar(labels, values, color=[router_color(n) for n in range(len(labels))])
    for bar, v in zip(bars, values):
        text = f"{v:.1%}" if metric in _PERCENT else (f"{v:.0f}" if abs(v) >= 10 else f"{v:.2f}")
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                    va="bottom", fontsize=8)
    if metric in _PERCENT:
        ax.set_ylim(0, 1.08)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel(METRIC_LABELS[metric])
    ax.set_title(METRIC_LABELS[metric].split(" (")[0].capitalize())
    ax.tick_params(axis="x", labelsize=8)
    return ax


def plot_request_sequence(ax, res: Result, users: Sequence[int] | int = 8, until: float | None = None,
                          title: str | None = None):
    """One row per user, one dot per request, coloured by the instance that served it.

    A sticky router paints each visit of a row in one colour; a stateless one scatters
    colours; a black cross is a request that logged its user out, a grey x one that failed.
    ``users`` is a list of user numbers or how many of the busiest users to show.
    """
    wl = res.workload
    if isinstance(users, int):
        counts = np.bincount(wl.users, minlength=res.scenario.users)
        users = np.argsort(-counts, kind="stable")[:users]
    users = list(users)
    until = res.scenario.duration if until is None else until
    row = {u: n for n, u in enumerate(users)}
    pick = np.isin(wl.users, users) & (wl.times <= until)
    t, u, inst = wl.times[pick], wl.users[pick], res.instance[pick]
    lost = res.lost[pick]
    y = np.array([row[x] for x in u.tolist()])
    groups = [(k, inst == k) for k in range(len(res.instance_ids))]
    groups = [(k, m) for k, m in groups if m.any()]
    failed = inst < 0
    title = title or f"Who served each request ({res.router.label()})"
    key = ("request_sequence", tuple(users), until, tuple(res.instance_ids), tuple(k for k, _ in groups),
           bool(lost.any()), bool(failed.any()), _events_key(res.events))
    kept = _reuse(ax, key)
    if kept is not None:
        masks = [m for _, m in groups] + [m for m in (lost, failed) if m.any()]
        for dots, m in zip(kept, masks):
            dots.set_offsets(np.column_stack([t[m], y[m]]))
        ax.set_title(title)
        return ax
    dots = [ax.scatter(t[m], y[m], s=22, color=instance_color(k), label=res.instance_ids[k], zorder=2)
            for k, m in groups]
    if lost.any():
        dots.append(ax.scatter(t[lost], y[lost], s=40, marker="+", color="k", label="logged out",
                               zorder=3))
    if failed.any():
        dots.append(ax.scatter(t[failed], y[failed], s=30, marker="x", color="0.5", label="failed",
                               zorder=3))
    mark_events(ax, res.events)
    ax.set_yticks(range(len(users)), [f"user {x}" for x in users], fontsize=8)
    ax.set_ylim(len(users) - 0.5, -0.5)
    ax.set_xlim(0, until * 1.3)                 # room on the right for the legend
    ax.set_xticks([t for t in ax.get_xticks() if t <= until])
    ax.set_xlabel("time (s)")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=7, handletextpad=0.2, borderpad=0.3, labelspacing=0.3)
    _keep(ax, key, dots)
    return ax


def plot_users_per_instance(ax, res: Result, title: str | None = None):
    """Bars: distinct users each instance served at least once; NAT shows up here. Failed ones hatched."""
    served = res.served
    n = len(res.instance_ids)
    pairs = np.unique(res.workload.users[served] * n + res.instance[served])
    counts = np.bincount(pairs % n, minlength=n)
    return _bars_with_mean(ax, res, counts, ("users",), "distinct users served",
                           title or f"Users per instance ({res.router.label()})")


def _draw_table(ax, header, rows, colours, title):
    ax.axis("off")
    ax.set_title(title)
    if rows:
        ax.table(cellText=rows, colLabels=header, cellColours=colours, loc="upper center",
                 cellLoc="left")


def _colour_of(iid, pool_ids) -> str:
    ids = list(pool_ids)
    return instance_color(ids.index(iid)) if iid in ids else "white"


def plot_affinity_table(ax, table, pool_ids: Sequence[str], max_rows: int = 12):
    """A balancer's mapping table (key -> instance) drawn as a table, oldest entry first.

    ``table`` is an :class:`~stickylab.routers.AffinityTable` (the ``.table`` of a
    ``StickTable`` or ``AppCookieLearn``) or a ``{key: instance}`` dict; ``pool_ids`` fixes
    the instance colours.
    """
    snap = table.snapshot() if hasattr(table, "snapshot") else dict(table)
    rows = [[str(k), v] for k, v in list(snap.items())[:max_rows]]
    colours = [["white", _colour_of(v, pool_ids)] for _, v in rows]
    more = f" (first {max_rows} shown)" if len(snap) > max_rows else ""
    _draw_table(ax, ["key", "instance"], rows, colours,
                f"Mapping table: {len(snap)} entr{'y' if len(snap) == 1 else 'ies'}{more}")
    return ax


def plot_routing_log(ax, log: Sequence[tuple], pool_ids: Sequence[str], max_rows: int = 12):
    """The last requests routed by hand, as a table: time, client address, instance chosen.

    ``log`` holds ``(request, instance)`` pairs in the order they were routed.
    """
    shown = list(log)[-max_rows:]
    rows = [[f"{req.time:g} s", req.client_ip, iid] for req, iid in shown]
    colours = [["white", "white", _colour_of(iid, pool_ids)] for _, iid in shown]
    _draw_table(ax, ["time", "client address", "sent to"], rows, colours,
                f"Requests routed: {len(log)}")
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
        ax.legend(loc="upper right", fontsize=8)
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
        ax.legend(loc="lower right", fontsize=8)
        _keep(ax, key, made)
    ax.set_ylim(0, max(1.5, max(busiest, default=1.0) * 1.15))
    return ax


def plot_sweep(ax, x: Sequence[float], series: Mapping[str, Sequence[float]], xlabel: str,
               ylabel: str, percent: bool = False, title: str | None = None, log: bool = False):
    """Lines with markers: a measured value against a swept knob, one line per router or setting.

    ``percent`` formats the y axis as percentages; ``log`` makes it logarithmic.
    """
    x = list(x)
    for n, (label, ys) in enumerate(series.items()):
        ax.plot(x, list(ys), marker="o", color=router_color(n), lw=1.8, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if all(isinstance(v, int | np.integer) for v in x):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    if percent:
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def mark_events(ax, events) -> None:
    """Dotted vertical lines at each event's time, labelled (``i1 fails``, ``added``...)."""
    for event in events or ():
        colour, verb = _EVENT_STYLE.get(type(event), ("k", type(event).__name__))
        ax.axvline(event.at, color=colour, ls=":", lw=1.5)
        who = getattr(event, "id", None)
        text = f"{who} {verb}" if who else f"+{getattr(event, 'count', 1)} {verb}"
        ax.annotate(text, (event.at, 0.0), xycoords=("data", "axes fraction"), xytext=(4, 4),
                    textcoords="offset points", color=colour, fontsize=8,
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})


#: The plots that update a dashboard's live Axes in place (see ``_reuse``).
_IN_PLACE = frozenset({plot_instance_load, plot_load_over_time, plot_losses_over_time,
                       plot_hit_rate_over_time, plot_latency_cdf, plot_request_sequence,
                       plot_users_per_instance, plot_key_movement, plot_key_balance})
