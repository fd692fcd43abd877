"""Interactive dashboards for the course: ipywidgets controls driving :mod:`stickylab.viz` plots.

A :class:`Dashboard` owns one Matplotlib figure, made once and redrawn in place. Every
control change calls :meth:`Dashboard.update`, which runs the experiment again with the
controls' values and redraws the figure; a test or a benchmark calls the same method.
The figure is rendered to PNG into an ``ipywidgets.Image``, so the dashboard works the
same under any Matplotlib backend, and headless.

A dashboard compares: the run before the last change (or a pinned one) is drawn as a
faint baseline and listed under the current numbers. Its event controls fail, drain,
remove, recover or add the instance the learner picks, with a failure-detection delay.
:func:`scenario_dashboard` builds one over a :class:`~stickylab.Scenario`;
:func:`consistent_hash_dashboard`, :func:`hashing_dashboard` and :func:`ring_dashboard`
are lesson 9's. The steppers (:class:`Stepper`, :class:`CookieStepper`,
:class:`IPHashStepper`) route prepared requests one click at a time.
"""

from __future__ import annotations

import functools
import html
import inspect
import io
import ipaddress
import math
import time
from collections.abc import Callable, Mapping, Sequence
from numbers import Real

import ipywidgets as w
import numpy as np
from matplotlib.legend import Legend
from matplotlib.patches import BoxStyle
from matplotlib.transforms import Bbox
from PIL import Image

from . import events as ev
from . import hashing
from . import viz
from .app import Apps
from .browser import Browser
from .engine import simulate
from .metrics import Result
from .model import Headers, Pool, Request, Response
from .routers import (AffinityTable, ConsistentHash, CookieInsert, HeaderHash, Router, SourceIPHash, make,
                      nginx_ip_hash)
from .scenario import Scenario

__all__ = [
    "CookieStepper", "Dashboard", "IPHashStepper", "Stepper", "consistent_hash_dashboard",
    "float_slider", "hashing_dashboard", "int_slider", "key_movement", "panel", "picker",
    "ring_dashboard", "scenario_dashboard", "summary_html", "sweep", "users_logged_out",
]


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:         # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _show(widget) -> None:
    if _in_notebook():
        from IPython.display import display
        display(widget)


def _encode(canvas) -> bytes:
    """What the canvas holds, as PNG bytes.

    zlib's fastest level: a dashboard's flat colours compress almost as well as at the
    default level 6, in half the time.
    """
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(canvas.buffer_rgba())).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _png(fig) -> bytes:
    """The whole figure drawn on its own Agg canvas, as PNG bytes."""
    fig.canvas.draw()
    return _encode(fig.canvas)


# -- controls ---------------------------------------------------------------------------------
_STYLE = {"description_width": "initial"}
_LAYOUT = {"width": "320px"}


def int_slider(description: str, value: int, min: int, max: int, step: int = 1) -> w.IntSlider:
    """An integer slider that reports only when released (no flood of runs while dragging)."""
    return w.IntSlider(value=value, min=min, max=max, step=step, description=description,
                       continuous_update=False, style=_STYLE, layout=_LAYOUT)


def float_slider(description: str, value: float, min: float, max: float,
                 step: float = 0.05, readout_format: str = ".2f") -> w.FloatSlider:
    """A float slider that reports only when released."""
    return w.FloatSlider(value=value, min=min, max=max, step=step, description=description,
                         continuous_update=False, readout_format=readout_format, style=_STYLE,
                         layout=_LAYOUT)


def picker(description: str, options, value=None) -> w.Dropdown:
    """A drop-down list (``options``: a list of values or of ``(label, value)`` pairs)."""
    options = list(options)
    if not options:
        raise ValueError("picker needs at least one option")
    first = options[0][1] if isinstance(options[0], tuple) else options[0]
    return w.Dropdown(options=options, value=first if value is None else value,
                      description=description, style=_STYLE, layout=_LAYOUT)


# -- panels --------------------------------------------------------------------------------------
def _takes_baseline(plot) -> bool:
    try:
        return "baseline" in inspect.signature(plot).parameters
    except (TypeError, ValueError):       # a builtin or a callable without a signature
        return False


def _pick_baseline(baseline, which, label):
    """The baseline run a single-result panel compares with: the same label, else the same position."""
    if baseline is None:
        return None
    if label in baseline:
        return baseline[label]
    runs = list(baseline.values())
    return runs[which] if isinstance(which, int) and -len(runs) <= which < len(runs) else None


def panel(plot: Callable, which: int | str | None = 0, **options) -> Callable:
    """Adapt a :mod:`stickylab.viz` function to a dashboard panel ``(ax, results, baseline=None) -> None``.

    ``which`` picks one result (by position or label) for plots of a single Result, and the
    title names it by its dashboard label; ``which=None`` passes every result, for plots that
    compare them. ``options`` go to ``plot``. When ``plot`` takes a ``baseline`` and the
    dashboard has one (the previous run, or a pinned one), it is passed on: the plot draws
    it as a faint ghost.
    """
    ghosts = _takes_baseline(plot) and "baseline" not in options

    def draw(ax, results, baseline=None):
        extra = {}
        if which is None:
            if ghosts and baseline is not None:
                extra["baseline"] = baseline
            return plot(ax, results, **options, **extra)
        label = list(results)[which] if isinstance(which, int) else which
        res = results[label]
        if ghosts:
            picked = _pick_baseline(baseline, which, label)
            if picked is not None:
                extra["baseline"] = picked
        plot(ax, res, **options, **extra)
        router = f"({res.router.label()})"          # name the router as the dashboard does
        ax.set_title(ax.get_title().replace(router, f"({label})"))
    draw.__name__ = getattr(plot, "__name__", "panel")
    draw._in_place = plot in viz._IN_PLACE      # it updates its own artists on a dashboard's Axes
    draw._baseline = ghosts
    return draw


# -- the summary table ---------------------------------------------------------------------
#: Distinct users logged out at least once (see :func:`stickylab.viz.users_logged_out`).
users_logged_out = viz.users_logged_out


_COLUMNS = (("requests that lost their session", "session_loss_rate", "{:.1%}"),
            ("users logged out", "users_logged_out", "{:,}"),
            ("cache hits", "cache_hit_rate", "{:.1%}"), ("failed requests", "failed_requests", "{:,}"),
            ("busiest / mean", "max_mean_load", "{:.2f}"), ("p99 latency", "p99_latency", "{:.0f} ms"),
            ("affinity", "affinity", "{:.1%}"), ("requests", "requests", "{:,}"))


def _row(label: str, res: Result, style: str = "") -> str:
    s = res.summary()
    s["p99_latency"] *= 1000
    s["users_logged_out"] = users_logged_out(res)
    cells = "".join(f"<td style='padding:0 8px;text-align:right'>{fmt.format(s[key])}</td>"
                    for _, key, fmt in _COLUMNS)
    return f"<tr style='{style}'><td><b>{label}</b></td>{cells}</tr>"


def summary_html(results: Mapping[str, Result], baseline: Mapping[str, Result] | None = None,
                 baseline_name: str = "previous") -> str:
    """The headline metrics of each result as a small HTML table, one row per router.

    ``baseline`` runs follow in grey italics, named ``"<baseline_name>: <label>"``, so a
    change reads as two numbers one above the other.
    """
    head = "".join(f"<th style='padding:0 8px'>{name}</th>" for name, _, _ in _COLUMNS)
    rows = [_row(label, res) for label, res in results.items()]
    rows += [_row(f"{baseline_name}: {label}", res, "color:#777;font-style:italic")
             for label, res in (baseline or {}).items()]
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"


# -- events the learner schedules ---------------------------------------------------------------
#: Dashboard actions and the event each makes; ``needs`` says which states an instance may be in.
_ACTIONS = {"fail": ev.Fail, "drain": ev.Drain, "remove": ev.ScaleIn, "recover": ev.Recover}
_KINDS = {ev.Fail: "fail", ev.Drain: "drain", ev.ScaleIn: "remove", ev.Recover: "recover"}
AUTO = "lowest-numbered"        # the instance picker's "whichever instance applies first"


def _actions_from(events) -> tuple[list[tuple[str, float, str | None]], float]:
    """Dashboard actions (and the failure detection time) from a list of simulator events."""
    actions, detect = [], 0.0
    for event in events:
        if isinstance(event, ev.ScaleOut):
            actions += [("add", float(event.at), None)] * event.count
        elif type(event) in _KINDS:
            actions.append((_KINDS[type(event)], float(event.at), event.id))
            if isinstance(event, ev.Fail):
                detect = float(getattr(event, "detect", 0.0) or 0.0)
        else:
            raise TypeError(f"a dashboard cannot schedule {event!r}; use sl.Fail, sl.Drain, sl.ScaleIn, "
                            "sl.Recover or sl.ScaleOut")
    return actions, detect


def _describe_change(before: Mapping, after: Mapping) -> str:
    changed = [f"{k} {before[k]!r} → {after[k]!r}" for k in after
               if k in before and k != "events" and before[k] != after[k]]
    if before.get("events") != after.get("events"):
        changed.append(f"events {_events_text(before.get('events'))} → {_events_text(after.get('events'))}")
    return ", ".join(changed)


_VERBS = {ev.Fail: "fails", ev.Drain: "drains", ev.ScaleIn: "removed", ev.Recover: "recovers"}


def _events_text(events) -> str:
    """Events in a few words: ``i1 fails at 150 s (seen 6 s later); +1 at 200 s``."""
    if not events:
        return "none"
    words = []
    for event in events:
        if isinstance(event, ev.ScaleOut):
            words.append(f"+{event.count} at {event.at:g} s")
            continue
        text = f"{event.id} {_VERBS.get(type(event), type(event).__name__)} at {event.at:g} s"
        detect = getattr(event, "detect", 0.0)
        words.append(text + (f" (seen {detect:g} s later)" if detect else ""))
    return "; ".join(words)


# -- the dashboard -------------------------------------------------------------------------
class Dashboard:
    """Controls, one figure, a summary table; :meth:`update` reruns and redraws.

    Every update keeps the run before it as the **baseline**: plots that can draw it show it
    as a faint dashed ghost (or a black dash on a bar), and the table lists its numbers in
    grey under the current ones, so "what changed?" is answered by looking. :meth:`pin`
    keeps one run as the baseline until :meth:`unpin`.

    Args:
        run: ``run(**values) -> Result | {label: Result} | anything`` where ``values`` are the
            controls' values by name (plus ``events=[...]`` when events are on).
        panels: one callable ``(ax, results)`` per Axes (see :func:`panel`); ``results`` is a
            ``{label: Result}`` dict when ``run`` returns Results, else what ``run`` returned.
            A panel made by :func:`panel` also receives the baseline.
        controls: ``{name: widget}``; each change calls :meth:`update`.
        events: ``True`` adds controls to schedule events: a time slider, an instance picker,
            a failure-detection delay, and "fail", "drain", "remove", "recover", "add an
            instance" and "clear" buttons; the events they make are passed to ``run`` as
            ``events``. A list of events (``[sl.Fail("i1", at=150.0)]``) does the same and
            opens with those events scheduled. One detection delay applies to every failure
            (the slider; from a list, the last ``Fail``'s ``detect``).
        instances: how many instances the run starts with, when no control is named ``instances``
            (the picker lists them).
        duration: the run's length in seconds, for the event time slider.
        columns: panels per row.
        summary: show the headline metrics table under the figure.
        ghost: keep the previous run as the baseline (``False``: no ghosts, no grey rows).
        compare: open with a pinned baseline: the run with these control values changed
            (``{"session_store": "memory"}``; ``{"events": []}`` is the run without the
            scheduled events), so the first picture already compares two runs.
    """

    def __init__(self, run: Callable, panels: Sequence[Callable], controls: Mapping | None = None,
                 *, events: bool | Sequence[ev.Event] = False, instances: int = 4,
                 duration: float = 600.0, columns: int = 2, summary: bool = True,
                 height: float = 3.4, width: float = 10.0, ghost: bool = True,
                 compare: Mapping | None = None):
        if not callable(run):
            raise TypeError(f"run must be callable, got {run!r}")
        panels = list(panels)
        if not panels or not all(callable(p) for p in panels):
            raise TypeError(f"panels must be a non-empty list of callables (ax, results), got {panels!r}")
        if not isinstance(columns, int) or columns < 1:
            raise ValueError(f"columns must be a positive integer, got columns={columns!r}")
        self.run, self.panels = run, panels
        self.controls = dict(controls or {})
        for name, control in self.controls.items():
            if not isinstance(control, w.ValueWidget):
                raise TypeError(f"control {name!r} must be an ipywidgets value widget, got {control!r}")
        self.instances, self.duration = instances, duration
        #: The scheduled actions: ``(kind, time, instance or None)``, kind one of "fail",
        #: "drain", "remove", "recover", "add"; :meth:`events` turns them into events.
        self.actions: list[tuple[str, float, str | None]] = []
        self.detect = 0.0
        if isinstance(events, bool):
            self.with_events = events
        else:
            self.with_events = True
            self.actions, self.detect = _actions_from(list(events))
        self.ghost = ghost
        cols = min(columns, len(panels))
        rows = -(-len(panels) // cols)
        self.fig, axes = viz.figure(rows, cols, width=width, height=height)
        self.axes = list(axes[: len(panels)])
        for spare in axes[len(panels):]:
            spare.set_visible(False)
        self.image = w.Image(format="png", layout={"max_width": "100%"})
        self.table = w.HTML() if summary else None
        self.status = w.HTML()
        self.note = w.HTML()
        self.results = self.baseline = None
        self.pinned = False
        self._values = self._baseline_values = None
        self.seconds = 0.0
        self._background = self._signature = None
        self._legend_pixels: dict = {}
        self._buttons = self._make_buttons() if self.with_events else None
        self.pin_button = w.ToggleButton(description="Pin as baseline", icon="thumb-tack",
                                         value=False, layout={"width": "auto"})
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        if self.with_events:
            self.events()               # opening events that do not fit are refused here
        if compare is not None:
            self._compare_with(dict(compare))
        self.pin_button.observe(lambda change: self.pin() if change["new"] else self.unpin(),
                                names="value")
        self.update()

    def _compare_with(self, changes: dict) -> None:
        known = set(self.controls) | ({"events"} if self.with_events else set())
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"compare names no control: {', '.join(map(repr, unknown))} "
                             f"(controls: {', '.join(sorted(known)) or 'none'})")
        kwargs = self.values()
        if self.with_events:
            kwargs["events"] = self.events()
        kwargs.update(changes)
        raw = self.run(**kwargs)
        try:
            self.baseline = viz.as_results(raw)
        except TypeError:               # a run that returns something else: kept as it is
            self.baseline = raw
        self._baseline_values, self.pinned = kwargs, True
        self.pin_button.value = True

    # -- state ------------------------------------------------------------------------------
    def values(self) -> dict:
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def _start_count(self) -> int:
        control = self.controls.get("instances")
        return int(control.value) if control is not None else self.instances

    def _fail(self, iid: str, at: float) -> ev.Fail:
        if self.detect:
            return ev.Fail(iid, at=at, detect=self.detect)
        return ev.Fail(iid, at=at)

    def events(self) -> list[ev.Event]:
        """The scheduled actions, in time order, as valid simulator events.

        An action naming no instance takes the lowest-numbered instance it applies to at
        that time (a healthy one to fail or drain, a failed or draining one to recover, any
        live one to remove) and is skipped when there is none; "add" scales out by one.
        An action naming an instance that is not in a state it applies to is a ValueError
        that names the instance and its state.
        """
        states = {f"i{k}": ev.HEALTHY for k in range(self._start_count())}
        out: list[ev.Event] = []
        for kind, at, iid in sorted(self.actions, key=lambda a: a[1]):
            if kind == "add":
                event = ev.ScaleOut(at=at)
            else:
                cls = _ACTIONS[kind]
                if iid is None:
                    fits = [i for i, state in states.items() if state in cls.needs]
                    if not fits:
                        continue
                    iid = fits[0]
                event = self._fail(iid, at) if kind == "fail" else cls(iid, at=at)
            event.apply(states)
            out.append(event)
        return out

    def _schedule(self, kind: str, at, instance) -> None:
        if instance is not None and not isinstance(instance, str):
            raise TypeError(f"instance must be an instance id such as 'i1', got instance={instance!r}")
        self.actions.append((kind, self._when(at), instance))
        try:
            self.events()
        except ValueError:
            self.actions.pop()
            raise
        self.update()

    def _picked(self, instance):
        if instance is not None or self._buttons is None:
            return instance
        chosen = self._buttons["instance"].value
        return None if chosen == AUTO else chosen

    def fail_instance(self, at: float | None = None, instance: str | None = None) -> None:
        """Fail ``instance`` at ``at`` (defaults: the picker and the time slider), then update.

        Without an instance (and with the picker on "lowest-numbered"), the lowest-numbered
        instance still healthy then fails.
        """
        self._schedule("fail", at, self._picked(instance))

    def drain_instance(self, at: float | None = None, instance: str | None = None) -> None:
        """Drain ``instance`` from ``at``: it keeps its sticky users, takes no new ones (HAProxy drain)."""
        self._schedule("drain", at, self._picked(instance))

    def remove_instance(self, at: float | None = None, instance: str | None = None) -> None:
        """Remove ``instance`` for good at ``at`` (scale in): the users it still holds lose their sessions."""
        self._schedule("remove", at, self._picked(instance))

    def recover_instance(self, at: float | None = None, instance: str | None = None) -> None:
        """Bring a failed or draining ``instance`` back into service at ``at``."""
        self._schedule("recover", at, self._picked(instance))

    def add_instance(self, at: float | None = None) -> None:
        """Add one instance at ``at`` (default: the time slider), then update."""
        self._schedule("add", at, None)

    def clear_events(self) -> None:
        """Forget every scheduled event, then update."""
        self.actions.clear()
        self.update()

    def set_detect(self, seconds: float) -> None:
        """Failures are noticed ``seconds`` after they happen; requests sent there meanwhile fail.

        HAProxy's default health check (``inter 2s fall 3``) takes 4 to 6 s.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, Real) or not 0 <= seconds < 1e6:
            raise ValueError(f"detect must be a number of seconds >= 0, got detect={seconds!r}")
        if self._buttons is not None and seconds > self._buttons["detect"].max:
            raise ValueError(f"detect must be at most {self._buttons['detect'].max:g} s on this dashboard "
                             f"(its slider's end), got detect={seconds!r}")
        if self._buttons is not None and self._buttons["detect"].value != seconds:
            self._buttons["detect"].value = seconds        # its observer calls back here
            return
        self.detect = float(seconds)
        self.update()

    def _when(self, at):
        if at is None:
            return float(self._buttons["at"].value) if self._buttons else self.duration / 2
        if isinstance(at, bool) or not isinstance(at, Real) or not 0 <= at <= self.duration:
            raise ValueError(f"at must be a time in [0, {self.duration:g}] seconds, got at={at!r}")
        return float(at)

    # -- the baseline -----------------------------------------------------------------------------
    def pin(self) -> None:
        """Keep the current run as the baseline (the ghost) until :meth:`unpin`."""
        self.baseline, self._baseline_values, self.pinned = self.results, self._values, True
        self._sync_pin()
        self.redraw()

    def unpin(self) -> None:
        """Go back to comparing each run with the one before it."""
        self.pinned = False
        self._sync_pin()
        self.redraw()

    def _sync_pin(self) -> None:
        if self.pin_button.value != self.pinned:
            self.pin_button.unobserve_all("value")
            self.pin_button.value = self.pinned
            self.pin_button.observe(lambda change: self.pin() if change["new"] else self.unpin(),
                                    names="value")

    def _ghost(self):
        baseline = self.baseline if self.ghost else None
        if isinstance(baseline, dict) and all(isinstance(r, Result) for r in baseline.values()):
            return baseline
        return None

    # -- running and drawing ----------------------------------------------------------------------
    def _changed(self, change) -> None:
        self.update()

    def update(self):
        """Run the experiment with the current controls and events, redraw, return the results."""
        start = time.perf_counter()
        kwargs = self.values()
        try:
            if self.with_events:
                kwargs["events"] = self.events()
            raw = self.run(**kwargs)
        except (ValueError, TypeError) as exc:      # a bad combination of knobs: say so, keep the plot
            self._say(f"Cannot run this: {exc}")
            return self.results
        self.status.value = ""
        try:
            results = viz.as_results(raw)
        except TypeError:
            results = raw
        if self.results is not None and not self.pinned and not _same(results, self.results):
            self.baseline, self._baseline_values = self.results, self._values
        self.results, self._values = results, kwargs
        self._refresh_picker()
        self.redraw()
        self.seconds = time.perf_counter() - start
        return self.results

    def _say(self, message: str) -> None:
        self.status.value = f"<span style='color:#C44E52'>{html.escape(message)}</span>"

    def redraw(self) -> None:
        """Redraw every panel on the same figure, then render it to the image.

        Panels made by :func:`panel` from a :mod:`stickylab.viz` plot update the artists they
        drew last time (lines, bars, dots) when they can; other panels get a cleared Axes.
        """
        baseline = self._ghost()
        for ax, draw in zip(self.axes, self.panels):
            if getattr(draw, "_in_place", False):
                ax._stickylab_live = True
            else:
                ax.clear()
                ax._stickylab_live, ax._stickylab_state = False, None
            if getattr(draw, "_baseline", False):
                draw(ax, self.results, baseline)
            else:
                draw(ax, self.results)
        results_ok = isinstance(self.results, dict) and all(
            isinstance(r, Result) for r in self.results.values())
        if self.table is not None and results_ok:
            self.table.value = summary_html(self.results, baseline,
                                            "baseline" if self.pinned else "previous")
        self.note.value = self._note(baseline)
        self.image.value = self._render()

    def _note(self, baseline) -> str:
        if baseline is None:
            return ""
        what = "the pinned baseline" if self.pinned else "the previous run"
        change = _describe_change(self._baseline_values or {}, self._values or {})
        return (f"<span style='color:#555'>Dashed / grey: {what}"
                f"{' (' + html.escape(change) + ')' if change else ''}.</span>")

    def _render(self) -> bytes:
        """The figure as PNG bytes, redrawing only the data when nothing else changed.

        When every panel updates in place and no axis limits, ticks, titles, scales or
        legend texts moved since the last full draw, the figure's background (frame, ticks,
        labels) is restored from that draw, the panels' data artists and notes are drawn on
        it, and each legend's pixels from that draw are pasted back over them (Matplotlib's
        blitting; the plots' legends are opaque boxes, so their pixels do not depend on the
        data under them). Otherwise the whole figure is drawn. The plots keep their axis
        limits at round numbers while the data fits, so most updates take the short path.
        """
        fig, canvas = self.fig, self.fig.canvas
        live = all(getattr(ax, "_stickylab_state", None) is not None for ax in self.axes)
        if not live:
            self._background = None
            return _png(fig)
        front, legends = self._layers()
        signature = self._signature_of(legends)
        if self._background is not None and signature == self._signature:
            canvas.restore_region(self._background)
            renderer = canvas.get_renderer()
            self._draw_front(renderer, front, legends, self._legend_pixels)
            return _encode(canvas)
        for a in front + legends:
            a.set_animated(True)
        try:
            canvas.draw()
            self._background = canvas.copy_from_bbox(fig.bbox)
            self._signature = signature
        finally:
            for a in front + legends:
                a.set_animated(False)       # a plain savefig of the figure draws them all
        renderer = canvas.get_renderer()
        self._draw_front(renderer, front, legends, None)
        self._legend_pixels = {id(legend): canvas.copy_from_bbox(_outer(legend.get_window_extent(renderer)))
                               for legend in legends}
        return _encode(canvas)

    def _draw_front(self, renderer, front, legends, pixels) -> None:
        """Draw the data artists in z order, legends as saved ``pixels`` (or drawn, when None)."""
        canvas = self.fig.canvas
        for a in sorted(front + legends, key=lambda a: a.get_zorder()):
            if not a.get_visible():
                continue
            if pixels is not None and id(a) in pixels:
                canvas.restore_region(pixels[id(a)])
            else:
                a.draw(renderer)

    def _layers(self) -> tuple[list, list]:
        """The artists the plots update (drawn on every update) and their fixed-place legends."""
        front, legends = [], []
        for ax in self.axes:        # what the plots drew; the frame, ticks and titles stay behind
            frame = {id(a) for a in (ax.patch, ax.xaxis, ax.yaxis, ax.title, ax._left_title,
                                     ax._right_title, *ax.spines.values())}
            for a in ax.get_children():
                if id(a) in frame:
                    continue
                if isinstance(a, Legend) and a._loc != 0 and a.get_frame().get_alpha() == 1.0 and (
                        isinstance(a.get_frame().get_boxstyle(), BoxStyle.Square)):
                    legends.append(a)       # opaque, square, in a fixed place ("best" moves)
                else:
                    front.append(a)
        return front, legends

    def _signature_of(self, legends) -> tuple:
        """What the background and the legends' saved pixels depend on."""
        return (tuple(self.fig.get_size_inches()), self.fig.dpi, tuple(
            (ax._stickylab_state[0], ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(),
             ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), _fixed_ticks(ax.xaxis),
             _fixed_ticks(ax.yaxis)) for ax in self.axes),
            tuple((id(legend), tuple(t.get_text() for t in legend.get_texts())) for legend in legends))

    # -- the widget ------------------------------------------------------------------------------
    def _instance_options(self) -> list:
        count = self._start_count() + sum(kind == "add" for kind, _, _ in self.actions)
        return [AUTO] + [f"i{k}" for k in range(count)]

    def _refresh_picker(self) -> None:
        if self._buttons is None:
            return
        picker_ = self._buttons["instance"]
        options = self._instance_options()
        if list(picker_.options) != options:
            keep = picker_.value if picker_.value in options else AUTO
            picker_.options = options
            picker_.value = keep

    def _make_buttons(self) -> dict:
        at = float_slider("event at (s)", self.duration / 2, 0.0, self.duration,
                          step=self.duration / 60, readout_format=".0f")
        instance = w.Dropdown(options=self._instance_options(), value=AUTO, description="instance",
                              style=_STYLE, layout={"width": "220px"})
        detect = float_slider("failure seen after (s)", self.detect, 0.0, max(30.0, self.detect), step=1.0,
                              readout_format=".0f")
        detect.observe(lambda change: self.set_detect(change["new"]), names="value")
        buttons = {"at": at, "instance": instance, "detect": detect}
        for kind, label, style, icon in _BUTTONS:
            button = w.Button(description=label, button_style=style, icon=icon,
                              layout={"width": "auto"})
            button.on_click(self._clicked(kind))
            buttons[kind] = button
        return buttons

    def _clicked(self, kind: str) -> Callable:
        act = {"fail": self.fail_instance, "drain": self.drain_instance, "remove": self.remove_instance,
               "recover": self.recover_instance, "add": self.add_instance, "clear": self.clear_events}[kind]

        def on_click(_):
            try:
                act()
            except ValueError as exc:       # an instance not in a state the action applies to
                self._say(str(exc))
        return on_click

    @property
    def widget(self) -> w.Widget:
        """The whole dashboard as one widget: controls, buttons, figure, metrics."""
        controls = list(self.controls.values())
        left = w.VBox(controls[: (len(controls) + 1) // 2])
        right = w.VBox(controls[(len(controls) + 1) // 2:])
        parts = [w.HBox([left, right])]
        if self._buttons:
            b = self._buttons
            parts.append(w.HBox([b["at"], b["instance"], b["detect"]]))
            parts.append(w.HBox([b[k] for k in ("fail", "drain", "remove", "recover", "add", "clear")]))
        parts += [self.status, self.image]
        parts.append(w.HBox([self.pin_button, self.note]) if self.ghost else self.note)
        if self.table is not None:
            parts.append(self.table)
        return w.VBox(parts)

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.widget)


#: The event buttons: action, label, ipywidgets button style, icon.
_BUTTONS = (("fail", "Fail", "danger", "bolt"), ("drain", "Drain", "warning", "pause"),
            ("remove", "Remove", "", "minus"), ("recover", "Recover", "success", "heart"),
            ("add", "Add an instance", "info", "plus"), ("clear", "Clear events", "", "undo"))


def _same(a, b) -> bool:
    """True if two runs' results are the same objects (a cached run came back)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(a[k] is b[k] for k in a)
    return a is b


def _outer(box) -> Bbox:
    """``box`` grown to whole pixels plus one: a legend's frame line, antialiased, reaches that far."""
    return Bbox.from_extents(math.floor(box.x0) - 1, math.floor(box.y0) - 1, math.ceil(box.x1) + 1,
                             math.ceil(box.y1) + 1)


def _fixed_ticks(axis) -> tuple:
    """Tick labels set by hand (not computed from the limits), for the redraw check."""
    formatter = axis.get_major_formatter()
    return tuple(getattr(formatter, "seq", ()))


class _Cache:
    """The last few results by their inputs (a dashboard's knobs often go back and forth)."""

    def __init__(self, size: int = 16):
        self.size, self.items = size, {}

    def get(self, key, make):
        try:
            hash(key)
        except TypeError:                   # an unhashable knob value: no caching
            return make()
        if key in self.items:
            self.items[key] = self.items.pop(key)       # most recently used last
            return self.items[key]
        value = self.items[key] = make()
        while len(self.items) > self.size:
            del self.items[next(iter(self.items))]
        return value


def _build_router(factory, options: dict) -> Router:
    if isinstance(factory, str):
        return make(factory)
    if isinstance(factory, Router):
        return factory
    accepted = _accepted(factory)
    return factory(**{k: v for k, v in options.items() if k in accepted})


def _accepted(factory) -> frozenset:
    """The keyword arguments a router factory takes (none for a name or a Router)."""
    if isinstance(factory, str | Router):
        return frozenset()
    return frozenset(inspect.signature(factory).parameters)


#: A knob named ``<field>_ms`` sets Scenario field ``<field>`` (seconds) from milliseconds.
MS_SUFFIX = "_ms"


def _scenario_changes(values: Mapping, fields: set) -> dict:
    changes = {}
    for name, value in values.items():
        if name in fields:
            changes[name] = value
        elif name.endswith(MS_SUFFIX) and name[: -len(MS_SUFFIX)] in fields:
            changes[name[: -len(MS_SUFFIX)]] = value / 1000.0
    return changes


def scenario_dashboard(scenario: Scenario, routers: Mapping, knobs: Mapping | None = None,
                       panels: Sequence[Callable] | None = None, *, choose: bool = True,
                       events: bool | Sequence[ev.Event] = False, **options) -> Dashboard:
    """A :class:`Dashboard` over one scenario: knobs change its fields, and the router.

    Args:
        scenario: the defaults every run starts from.
        routers: ``{label: router}`` where each router is a name (``"CookieInsert"``), a
            Router (copied by the simulator on each run) or a factory whose keyword
            arguments are knobs (``lambda expire: StickTable("src", expire=expire)``).
        knobs: ``{name: widget}``; a name that is a Scenario field sets that field; a name
            ``<field>_ms`` sets a field in seconds from milliseconds (``store_latency_ms``);
            any other name is passed to the router factories that take it.
        panels: dashboard panels (default: requests that lost their session over time, and
            load per instance).
        choose: add a "router" drop-down and run the chosen one; ``False`` runs them all,
            side by side (a knob only one router takes reruns that router alone).
        events: ``True`` adds the event controls (fail, drain, remove, recover, add an
            instance); a list of events opens with them scheduled (see :class:`Dashboard`).
        options: passed on to :class:`Dashboard` (``columns``, ``height``, ``ghost``...).
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a stickylab.Scenario, got {scenario!r}")
    routers = dict(routers)
    if not routers:
        raise ValueError("routers must name at least one router")
    knobs = dict(knobs or {})
    fields = set(scenario.as_dict())
    controls = {"router": picker("router", list(routers))} if choose else {}
    controls.update(knobs)
    if panels is None:
        panels = [panel(viz.plot_losses_over_time, which=None), panel(viz.plot_instance_load)]
    takes = {label: _accepted(factory) for label, factory in routers.items()}
    cache = _Cache()

    def one(sc, label, options_, events):
        if label not in routers:
            raise ValueError(f"unknown router {label!r}; choose from {', '.join(map(repr, routers))}")
        # a seeded scenario always gives the same run: rerun only what a control changed,
        # and a router only when a knob it takes changed
        mine = {k: v for k, v in options_.items() if k in takes[label]}
        key = (sc, label, tuple(sorted(mine.items())), tuple(events or ()))
        return cache.get(key, lambda: simulate(sc, _build_router(routers[label], mine), events=events))

    def run(router=None, events=None, **values):
        changes = _scenario_changes(values, fields)
        sc = scenario.replace(**changes)
        options_ = {k: v for k, v in values.items() if k not in fields and not (
            k.endswith(MS_SUFFIX) and k[: -len(MS_SUFFIX)] in fields)}
        chosen = [router] if choose else list(routers)
        return {label: one(sc, label, options_, events) for label in chosen}

    options.setdefault("instances", scenario.instances)
    options.setdefault("duration", scenario.duration)
    return Dashboard(run, panels, controls, events=events, **options)


#: The hashing schemes compared in the course, with the options real balancers use.
HASH_SCHEMES = {"mod N": ("modn", {}), "ring": ("ring", {}), "rendezvous": ("rendezvous", {}),
                "jump": ("jump", {}), "maglev": ("maglev", {"table_size": 65537})}
CHANGES = ("add a node", "remove the last node", "remove the first node")


def _after(nodes: list[str], change: str) -> list[str]:
    if change == "add a node":
        return nodes + [f"n{len(nodes)}"]
    if len(nodes) < 2:
        raise ValueError("cannot remove the only node")
    if change == "remove the last node":
        return nodes[:-1]
    if change == "remove the first node":
        return nodes[1:]
    raise ValueError(f"unknown change {change!r}; choose from {', '.join(CHANGES)}")


@functools.lru_cache(maxsize=48)
def _node_of_each_key(scheme: str, nodes: tuple, options: tuple, keys: int) -> np.ndarray:
    """Per key ``0..keys-1``, the position of its node in ``nodes``, remembered.

    A slider moved by one node asks again for the node set it just had (the "after" of N
    is the "before" of N+1), so each move builds one scheme per kind, not two.
    """
    found = hashing.build(scheme, nodes, **dict(options)).index_many(hashing.mix64(np.arange(keys)))
    found.flags.writeable = False
    return found


def key_movement(nodes: int, change: str, keys: int = 50_000, vnodes: int = 160) -> dict:
    """Hash ``keys`` user keys onto ``nodes`` nodes with each scheme, apply ``change``, measure.

    Returns ``{"moved": {scheme: share of keys that changed node}, "busiest": {scheme:
    busiest node's share / (1/N)} before the change, "least": the share that must move}``.
    """
    if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 1:
        raise ValueError(f"nodes must be a positive integer, got nodes={nodes!r}")
    if isinstance(keys, bool) or not isinstance(keys, int) or keys < 1:
        raise ValueError(f"keys must be a positive integer, got keys={keys!r}")
    before_ids = [f"n{k}" for k in range(nodes)]
    after_ids = _after(before_ids, change)
    position = {iid: k for k, iid in enumerate(before_ids)}
    same = np.array([position.get(iid, -1) for iid in after_ids])   # after's nodes, numbered as before
    moved, busiest = {}, {}
    for label, (scheme, options) in HASH_SCHEMES.items():
        options = tuple(sorted((dict(options, vnodes=vnodes) if scheme == "ring" else options).items()))
        before = _node_of_each_key(scheme, tuple(before_ids), options, keys)
        after = _node_of_each_key(scheme, tuple(after_ids), options, keys)
        moved[label] = float(np.mean(before != same[after]))
        busiest[label] = float(np.bincount(before).max() / keys * nodes)
    least = 1 / len(after_ids) if change == "add a node" else 1 / nodes
    return {"moved": moved, "busiest": busiest, "least": least}


def hashing_dashboard(keys: int = 50_000) -> Dashboard:
    """Key movement and balance of mod-N and consistent hashing, as the node count changes."""
    cache = _Cache()

    def run(nodes, change, vnodes):
        found = cache.get((nodes, change, vnodes),
                          lambda: key_movement(nodes, change, keys=keys, vnodes=vnodes))
        return {k: dict(v) if isinstance(v, dict) else v for k, v in found.items()}

    def moved(ax, r):
        viz.plot_key_movement(ax, list(r["moved"]), list(r["moved"].values()),
                              ideal=[r["least"]] * len(r["moved"]))

    def balance(ax, r):
        viz.plot_key_balance(ax, list(r["busiest"]), list(r["busiest"].values()))

    moved._in_place = balance._in_place = True      # each is one viz plot that updates in place

    controls = {"nodes": int_slider("nodes before", 4, 1, 30),
                "change": picker("change", CHANGES),
                "vnodes": int_slider("ring points per node", 160, 1, 500)}
    return Dashboard(run, [moved, balance], controls, summary=False)


def ring_dashboard(nodes: int = 4, vnodes: int = 4, keys: int = 60) -> Dashboard:
    """The hash ring drawn: nodes' points on a circle, the arcs they own, keys, and the keys that moved.

    Move "nodes" to add or remove a node (the last one) and watch which keys change node:
    only those on the arcs the change hands over. "points per node" shows why real
    balancers use many points: with few, the arcs (and the keys) are shared unevenly.
    """
    for name, value, low in (("nodes", nodes, 1), ("vnodes", vnodes, 1), ("keys", keys, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {name}={value!r}")
    last: dict = {}

    def run(nodes, vnodes, keys):
        ring = hashing.Ring([f"n{k}" for k in range(nodes)], vnodes=vnodes)
        hashes = hashing.mix64(np.arange(keys))
        now = ring.index_many(hashes) if keys else np.zeros(0, dtype=np.intp)
        before = last.get("nodes")
        moved = np.zeros(keys, dtype=bool)
        if before is not None:
            k = min(keys, len(before))
            moved[:k] = np.array(ring.nodes)[now[:k]] != before[:k]
        last["nodes"] = np.array(ring.nodes)[now] if keys else np.zeros(0, dtype=str)
        return {"ring": ring, "keys": hashes, "moved": moved}

    def circle(ax, r):
        viz.plot_ring(ax, r["ring"], r["keys"], r["moved"])

    circle._in_place = True
    controls = {"nodes": int_slider("nodes", nodes, 1, 12),
                "vnodes": int_slider("points per node", vnodes, 1, 64),
                "keys": int_slider("keys", keys, 0, 300, 10)}
    return Dashboard(run, [circle], controls, summary=False, width=8.0, height=4.4, ghost=False)


#: The request key the consistent-hash dashboard hashes (as lesson 9 does): the user id header.
USER_KEY = "header:X-User-Id"


def consistent_hash_dashboard(scenario: Scenario | None = None, events: Sequence[ev.Event] | None = None,
                              **options) -> Dashboard:
    """Consistent hashing simulated: a ring, bounded loads, mod N and a cookie, under failures and scaling.

    Routers (all but the cookie hash the ``X-User-Id`` header): ``ConsistentHash("ring")``
    (nginx ``hash $http_x_user_id consistent``), ``ConsistentHash("bounded")`` (HAProxy
    ``hash-balance-factor``), ``HeaderHash`` (mod N) and ``CookieInsert``. Knobs: ring
    points per instance, the bounded-load factor and the skew of user activity; the event
    controls fail, drain, remove and add instances.

    Args:
        scenario: the runs' settings (default: 1000 users of skewed activity on 4 instances
            for 300 s, seed 1).
        events: the events it opens with (default: an instance added at a third of the run and
            ``i1`` failing at two thirds, so both of section 8's claims show at once).
        options: passed on to :func:`scenario_dashboard`; by default it opens on the ring
            compared with mod N (``compare={"router": "mod N"}``, a pinned baseline).
    """
    sc = scenario if scenario is not None else Scenario(users=1000, instances=4, duration=300.0,
                                                         seed=1, skew=1.0)
    if events is None:
        events = [ev.ScaleOut(at=sc.duration / 3), ev.Fail("i1", at=sc.duration * 2 / 3)]
    routers = {
        "ring": lambda vnodes: ConsistentHash("ring", key=USER_KEY, vnodes=vnodes),
        "bounded load": lambda vnodes, factor: ConsistentHash("bounded", key=USER_KEY, vnodes=vnodes,
                                                              factor=factor),
        "mod N": lambda: HeaderHash("X-User-Id"),
        "CookieInsert": lambda: CookieInsert(),
    }
    knobs = {"vnodes": int_slider("ring points per instance", 160, 1, 400),
             "factor": float_slider("bounded: balance factor", 1.25, 1.05, 3.0, 0.05),
             "skew": float_slider("skew (Zipf exponent)", float(sc.skew), 0.0, 1.5, 0.1,
                                  readout_format=".1f")}
    options.setdefault("panels", [panel(viz.plot_losses_over_time, which=None),
                                  panel(viz.plot_instance_load)])
    options.setdefault("compare", {"router": "mod N"})
    return scenario_dashboard(sc, routers, knobs, events=list(events), **options)


# -- routing by hand ---------------------------------------------------------------------------
class Stepper:
    """Send prepared requests through a router one at a time and watch its mapping table grow.

    Each prepared request is sent by its client (one :class:`~stickylab.browser.Browser`
    per address, so it carries the cookies its client was given) to the instance the
    router picks, whose application (an :class:`~stickylab.app.App`) answers: it starts a
    session and sets its session cookie for a client without one. The router sees that
    response, as a balancer would, and the client keeps the cookies it sets. A prepared
    request's own cookies go into its client's jar first. Each :meth:`step` updates the
    log of requests beside the router's affinity table (a ``StickTable``'s or an
    ``AppCookieLearn``'s; routers without one, such as the hashing routers, show the log)
    in place. :meth:`fail` takes an instance down between steps.
    """

    #: The log table's columns (subclasses show other views of the same exchange).
    columns: tuple[str, ...] = ("time", "client address", "sent to")
    #: The log table's title; ``{n}`` is the number of requests sent.
    log_title = "Requests routed: {n}"
    #: Relative widths of the log and the side view.
    width_ratios: tuple[float, float] = (1.0, 1.0)

    def __init__(self, router: Router, requests: Sequence[Request], pool: Pool, *, max_rows: int = 12):
        if not isinstance(router, Router):
            raise TypeError(f"router must be a stickylab Router, got {router!r}")
        if not isinstance(pool, Pool):
            raise TypeError(f"pool must be a stickylab Pool, got {pool!r}")
        self.requests = list(requests)
        if not all(isinstance(r, Request) for r in self.requests):
            raise TypeError("requests must be stickylab Request objects")
        if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
            raise ValueError(f"max_rows must be a positive integer, got max_rows={max_rows!r}")
        self.router, self.pool, self.max_rows = router, pool, max_rows
        self.browsers: dict[str, Browser] = {}
        self.apps = Apps()
        #: ``(request, instance)`` per request sent, in order.
        self.log: list[tuple[Request, str]] = []
        #: The response each request got (the application's cookies and the router's).
        self.responses: list[Response] = []
        self.fig, axes = viz.figure(1, 2, width=12.0, height=3.6, width_ratios=self.width_ratios)
        self.axes = list(axes)
        for ax in self.axes:
            ax._stickylab_live = True       # the tables are updated in place, step after step
        self.image = w.Image(format="png", layout={"max_width": "100%"})
        self.button = w.Button(description="Send the next request", icon="play")
        self.button.on_click(lambda _: self.step())
        self.victim = w.Dropdown(options=list(pool.healthy), description="instance", style=_STYLE,
                                 layout={"width": "180px"})
        self.fail_button = w.Button(description="Fail it", button_style="danger", icon="bolt")
        self.fail_button.on_click(lambda _: self.victim.value and self.fail(self.victim.value))
        self.redraw()

    def step(self) -> str | None:
        """Route the next request; return the instance chosen (None once every request is sent)."""
        if len(self.log) == len(self.requests):
            return None
        prepared = self.requests[len(self.log)]
        browser = self.browsers.get(prepared.client_ip)
        if browser is None:
            browser = self.browsers[prepared.client_ip] = Browser(prepared.client_ip)
        browser.jar.update(prepared.cookies)
        if prepared.headers:
            browser.headers = Headers({**browser.headers, **prepared.headers})
        request = browser.request(prepared.path, prepared.time)
        iid = self.router.route(request, self.pool)
        self._routed(request, iid)
        response = self.apps[iid].handle(request)
        self.router.on_response(request, iid, response)
        browser.receive(response, prepared.time)
        self.log.append((request, iid))
        self.responses.append(response)
        self.redraw()
        return iid

    def _routed(self, request: Request, iid: str) -> None:
        """Called with each routing decision before the instance answers (subclasses note details)."""

    def fail(self, instance: str) -> None:
        """Instance ``instance`` crashes: it leaves the healthy pool and its application loses its memory."""
        if instance not in self.pool.healthy:
            raise ValueError(f"instance {instance!r} is not healthy in the pool "
                             f"(healthy: {', '.join(self.pool.healthy) or 'none'})")
        self.pool.update(healthy=[i for i in self.pool.healthy if i != instance],
                         draining=self.pool.draining, members=self.pool.members)
        self.apps[instance].crash()
        self.victim.options = list(self.pool.healthy)
        self.redraw()

    # -- drawing ---------------------------------------------------------------------------------
    def rows(self) -> tuple[list[list[str]], list[list[str]]]:
        """The log table's rows and their cell colours (the instance cell in its colour)."""
        members = self.pool.members
        rows = [[f"{req.time:g} s", req.client_ip, iid] for req, iid in self.log]
        colours = [["white", "white", viz._colour_of(iid, members)] for _, iid in self.log]
        return rows, colours

    def side(self, ax) -> None:
        """The right-hand view: the router's affinity table, if it keeps one."""
        table = getattr(self.router, "table", None)
        if isinstance(table, AffinityTable):     # a hashing router's .table is its hash scheme
            viz.plot_affinity_table(ax, table, self.pool.members, max_rows=self.max_rows)
        else:
            ax.axis("off")

    def redraw(self) -> None:
        """Update the log and the side view in place, then render the figure."""
        rows, colours = self.rows()
        viz.plot_table(self.axes[0], self.columns, rows, self.log_title.format(n=len(self.log)),
                       colours, max_rows=self.max_rows)
        self.side(self.axes[1])
        self.button.disabled = len(self.log) == len(self.requests)
        self.image.value = _png(self.fig)

    @property
    def widget(self) -> w.Widget:
        """The buttons (send the next request; fail an instance) above the figure."""
        return w.VBox([w.HBox([self.button, self.victim, self.fail_button]), self.image])

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.widget)


def _short(value: str, width: int = 8) -> str:
    return value if len(value) <= width else value[: width - 2] + "…"


def _cookies_text(cookies: Mapping[str, str]) -> str:
    return "; ".join(f"{k}={_short(v)}" for k, v in cookies.items()) or "(none)"


#: The demo key of the cookie stepper's router: its cookie values are the same on every run.
DEMO_SECRET = b"stickylab cookie stepper demo key"


class CookieStepper(Stepper):
    """The cookie exchange, step by step: what each request carries, where it goes, what ``Set-Cookie`` says.

    The log shows per request the ``Cookie`` header the browser sent, the instance the
    router chose and the ``Set-Cookie`` instructions of the response (the application's
    ``SESSION`` and the balancer's affinity cookie); the side view shows every browser's
    cookie jar after the step. Values are shortened (``ab12cd34…``).

    Args:
        router: a cookie router (default: ``CookieInsert`` signed with a fixed demo key, so
            its cookie values are the same on every run).
        requests: the prepared requests (default: two browsers taking turns, then a third).
        pool: the instances (default ``i0``, ``i1``, ``i2``).
        max_rows: rows shown in each table.
    """

    columns = ("client", "Cookie sent", "sent to", "Set-Cookie")
    log_title = "The cookie exchange: {n} requests"
    width_ratios = (1.4, 1.0)

    def __init__(self, router: Router | None = None, requests: Sequence[Request] | None = None,
                 pool: Pool | None = None, *, max_rows: int = 10):
        router = CookieInsert(secret=DEMO_SECRET) if router is None else router
        if requests is None:
            clients = ["198.51.100.7", "203.0.113.20", "198.51.100.7", "203.0.113.20", "192.0.2.33",
                       "203.0.113.20", "198.51.100.7", "192.0.2.33"]
            requests = [Request(ip, time=float(t)) for t, ip in enumerate(clients)]
        pool = Pool(healthy=["i0", "i1", "i2"]) if pool is None else pool
        super().__init__(router, requests, pool, max_rows=max_rows)

    def rows(self):
        """Per request: the client, the cookies it carried, the instance, the cookies set (highlighted)."""
        members = self.pool.members
        rows, colours = [], []
        for (req, iid), response in zip(self.log, self.responses):
            set_cookie = "; ".join(f"{c.name}={_short(c.value) if c.max_age != 0 else '(deleted)'}"
                                   for c in response.cookies) or "-"
            rows.append([req.client_ip, _cookies_text(req.cookies), iid, set_cookie])
            colours.append(["white", "white", viz._colour_of(iid, members),
                            "#fff3cd" if response.cookies else "white"])
        return rows, colours

    def side(self, ax) -> None:
        """Each browser's cookie jar now."""
        rows = [[ip, _cookies_text(browser.jar)] for ip, browser in self.browsers.items()]
        viz.plot_table(ax, ["browser", "cookie jar"], rows, "The browsers' cookie jars",
                       max_rows=self.max_rows)


class IPHashStepper(Stepper):
    """IP hashing, step by step: the bytes of the address that are hashed, the hash, ``h % N``, the instance.

    With ``SourceIPHash(prefix24=True)`` (nginx ``ip_hash``, the default) only the first
    three octets of an IPv4 address count: ``h`` starts at 89 and takes ``h = (h * 113 +
    byte) % 6271`` per byte, and the server is ``h % N`` over every configured server; a
    dead one makes nginx hash again. With ``prefix24=False`` (HAProxy ``balance source``)
    the whole address is hashed, modulo the healthy instances. The side view shows which
    address block went where: every client of one /24 lands on one instance.

    Args:
        router: a :class:`~stickylab.routers.SourceIPHash` (default: nginx's ``ip_hash``).
        requests: the prepared requests (default: five addresses, two of them in one /24).
        pool: the instances (default ``i0``, ``i1``, ``i2``).
        max_rows: rows shown in each table.
    """

    columns = ("client address", "bytes hashed", "hash h", "h % N", "sent to")
    log_title = "IP hashing: {n} requests"
    width_ratios = (1.4, 1.0)

    def __init__(self, router: SourceIPHash | None = None, requests: Sequence[Request] | None = None,
                 pool: Pool | None = None, *, max_rows: int = 10):
        router = SourceIPHash(prefix24=True) if router is None else router
        if not isinstance(router, SourceIPHash):
            raise TypeError(f"IPHashStepper shows a SourceIPHash router, got {router!r}")
        if requests is None:
            # two clients of one /24 (same instance), and the /24 after it (the next hash value)
            clients = ["198.51.100.7", "172.16.5.4", "198.51.100.42", "100.64.1.10", "198.51.101.9",
                       "100.64.7.3"]
            requests = [Request(ip, time=float(t)) for t, ip in enumerate(clients)]
        pool = Pool(healthy=["i0", "i1", "i2"]) if pool is None else pool
        self.details: list[list[str]] = []
        super().__init__(router, requests, pool, max_rows=max_rows)

    def _routed(self, request: Request, iid: str) -> None:
        ip = request.client_ip
        if self.router.prefix24:
            n = len(self.pool.members)
            address = ipaddress.ip_address(ip)
            hashed = ".".join(ip.split(".")[:3]) if address.version == 4 else "all 16 bytes"
            tries, (index, h) = 0, nginx_ip_hash(ip, n)
            while self.pool.members[index] not in self.pool.healthy and tries < SourceIPHash.MAX_TRIES:
                tries += 1
                index, h = nginx_ip_hash(ip, n, tries)
            again = f", after {tries} rehash{'es' if tries > 1 else ''}" if tries else ""
            self.details.append([ip, hashed, str(h), f"{h} % {n} = {index}{again}"])
        else:
            n = len(self.pool.healthy)
            h = hashing.stable_hash(ip)
            self.details.append([ip, "whole address", f"{h:x}"[:8] + "…", f"h % {n} = {h % n}"])

    def rows(self):
        """Per request: the address, what is hashed, the hash, the modulo, the instance."""
        members = self.pool.members
        rows = [detail + [iid] for detail, (_, iid) in zip(self.details, self.log)]
        colours = [["white"] * 4 + [viz._colour_of(iid, members)] for _, iid in self.log]
        return rows, colours

    def side(self, ax) -> None:
        """Which address block went to which instance."""
        blocks: dict[str, str] = {}
        for request, iid in self.log:
            ip = request.client_ip
            block = ".".join(ip.split(".")[:3]) + ".0/24" if ip.count(".") == 3 else ip
            blocks[block if self.router.prefix24 else ip] = iid
        rows = [[block, iid] for block, iid in blocks.items()]
        colours = [["white", viz._colour_of(iid, self.pool.members)] for _, iid in rows]
        viz.plot_table(ax, ["address block" if self.router.prefix24 else "address", "instance"], rows,
                       "Where each block went", colours, max_rows=self.max_rows)


# -- sweeps --------------------------------------------------------------------------------------
def sweep(run: Callable, values: Sequence, description: str = "running",
          bar: w.IntProgress | None = None) -> list:
    """``[run(v) for v in values]`` with a progress bar, shown while it runs in a notebook.

    Pass ``bar`` to use (and inspect) your own ``ipywidgets.IntProgress``.
    """
    values = list(values)
    if not callable(run):
        raise TypeError(f"run must be callable, got {run!r}")
    if bar is None:
        bar = w.IntProgress(description=description, style=_STYLE)
        _show(bar)
    bar.min, bar.max, bar.value = 0, len(values), 0
    out = []
    for value in values:
        out.append(run(value))
        bar.value += 1
    bar.bar_style = "success"
    return out
