"""The dashboard: controls, one figure redrawn in place, the numbers; every change reruns the experiment.

A :class:`Dashboard` puts together parts that each do one job: the experiment (``run``),
the :class:`~stickylab.widgets.comparison.Comparison` of the current run with a baseline,
the :class:`~stickylab.widgets.schedule.Schedule` of events and its
:class:`~stickylab.widgets.event_controls.EventControls`, the panels
(:mod:`~stickylab.widgets.panels`) and the :class:`~stickylab.viz.render.FrameRenderer`
that turns the figure into PNG frames, so the dashboard works the same under any Matplotlib
backend, and headless.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Mapping, Sequence

import ipywidgets as w

from .. import events as ev
from .. import viz
from ..metrics import Result
from ..viz import inplace
from ..viz.render import FrameRenderer
from .comparison import Comparison
from .event_controls import EventControls
from .panels import Panel
from .schedule import Schedule
from .summary import summary_html

__all__ = ["Dashboard"]


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

    Attributes:
        event_controls: the :class:`~stickylab.widgets.event_controls.EventControls` by name
            (``dash.event_controls["fail"].click()``), or None without events.
    """

    def __init__(self, run: Callable, panels: Sequence[Callable], controls: Mapping | None = None,
                 *, events: bool | Sequence[ev.Event] = False, instances: int = 4,
                 duration: float = 600.0, columns: int = 2, summary: bool = True,
                 height: float = 3.4, width: float = 10.0, ghost: bool = True,
                 compare: Mapping | None = None):
        panels = list(panels)
        self._check(run, panels, controls, columns)
        self.run, self.panels = run, [Panel.of(p) for p in panels]
        self.controls = dict(controls or {})
        self.instances, self.duration, self.ghost = instances, duration, ghost
        self.with_events = not isinstance(events, bool) or events
        self.schedule = Schedule(duration, () if isinstance(events, bool) else events)
        self.comparison = Comparison()
        self._layout_figure(columns, width, height, summary)
        self.seconds = 0.0
        self.event_controls = self._make_event_controls() if self.with_events else None
        self.pin_button = w.ToggleButton(description="Pin as baseline", icon="thumb-tack",
                                         value=False, layout={"width": "auto"})
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        if self.with_events:
            self.events()               # opening events that do not fit are refused here
        if compare is not None:
            self._compare_with(dict(compare))
        self.pin_button.observe(self._pin_toggled, names="value")
        self.update()

    @staticmethod
    def _check(run, panels, controls, columns) -> None:
        if not callable(run):
            raise TypeError(f"run must be callable, got {run!r}")
        if not panels or not all(callable(p) for p in panels):
            raise TypeError(f"panels must be a non-empty list of callables (ax, results), got {panels!r}")
        if not isinstance(columns, int) or columns < 1:
            raise ValueError(f"columns must be a positive integer, got columns={columns!r}")
        for name, control in (controls or {}).items():
            if not isinstance(control, w.ValueWidget):
                raise TypeError(f"control {name!r} must be an ipywidgets value widget, got {control!r}")

    def _layout_figure(self, columns: int, width: float, height: float, summary: bool) -> None:
        cols = min(columns, len(self.panels))
        rows = -(-len(self.panels) // cols)
        self.fig, axes = viz.figure(rows, cols, width=width, height=height)
        self.axes = list(axes[: len(self.panels)])
        for spare in axes[len(self.panels):]:
            spare.set_visible(False)
        #: The Axes redrawn in place (those of panels that update in place).
        self.live = inplace.LiveAxes()
        self.renderer = FrameRenderer(self.fig, self.axes)
        self.image = w.Image(format="png", layout={"max_width": "100%"})
        self.table = w.HTML() if summary else None
        self.status = w.HTML()
        self.note = w.HTML()

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
        self.comparison.pin_to(_as_results(self.run(**kwargs)), kwargs)
        self.pin_button.value = True

    # -- state ------------------------------------------------------------------------------
    @property
    def results(self):
        """The current run's results: ``{label: Result}``, or what ``run`` returned."""
        return self.comparison.results

    @property
    def baseline(self):
        """The run compared with: the previous one, or the pinned one (None before there is one)."""
        return self.comparison.baseline

    @property
    def pinned(self) -> bool:
        """True while a baseline is pinned."""
        return self.comparison.pinned

    @property
    def actions(self) -> list[tuple[str, float, str | None]]:
        """The scheduled actions: ``(kind, time, instance or None)``.

        Kind is one of "fail", "drain", "remove", "recover", "add"; :meth:`events` turns
        them into events.
        """
        return self.schedule.actions

    @property
    def detect(self) -> float:
        """Seconds before a failure is noticed (one delay for every failure)."""
        return self.schedule.detect

    def values(self) -> dict:
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def _start_count(self) -> int:
        control = self.controls.get("instances")
        return int(control.value) if control is not None else self.instances

    def events(self) -> list[ev.Event]:
        """The scheduled actions, in time order, as valid simulator events.

        An action naming no instance takes the lowest-numbered instance it applies to at
        that time (a healthy one to fail or drain, a failed or draining one to recover, any
        live one to remove) and is skipped when there is none; "add" scales out by one.
        An action naming an instance that is not in a state it applies to is a ValueError
        that names the instance and its state.
        """
        return self.schedule.events(self._start_count())

    # -- events ----------------------------------------------------------------------------------
    def _schedule(self, kind: str, at, instance) -> None:
        if at is None:
            at = float(self.event_controls["at"].value) if self.event_controls else self.duration / 2
        self.schedule.add(kind, at, instance, self._start_count())
        self.update()

    def _picked(self, instance):
        if instance is not None or self.event_controls is None:
            return instance
        return self.event_controls.picked()

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
        self.schedule.clear()
        self.update()

    def set_detect(self, seconds: float) -> None:
        """Failures are noticed ``seconds`` after they happen; requests sent there meanwhile fail.

        HAProxy's default health check (``inter 2s fall 3``) takes 4 to 6 s.
        """
        Schedule.check_detect(seconds)
        slider = self.event_controls["detect"] if self.event_controls is not None else None
        if slider is not None and seconds > slider.max:
            raise ValueError(f"detect must be at most {slider.max:g} s on this dashboard "
                             f"(its slider's end), got detect={seconds!r}")
        if slider is not None and slider.value != seconds:
            slider.value = seconds        # its observer calls back here
            return
        self.schedule.detect = float(seconds)
        self.update()

    def _act(self, kind: str) -> None:
        {"fail": self.fail_instance, "drain": self.drain_instance, "remove": self.remove_instance,
         "recover": self.recover_instance, "add": self.add_instance, "clear": self.clear_events}[kind]()

    def _make_event_controls(self) -> EventControls:
        return EventControls(self.duration, self.detect, self.schedule.instance_options(self._start_count()),
                             act=self._act, on_detect=self.set_detect, say=self._say)

    # -- the baseline -----------------------------------------------------------------------------
    def pin(self) -> None:
        """Keep the current run as the baseline (the ghost) until :meth:`unpin`."""
        self.comparison.pin()
        self._sync_pin()
        self.redraw()

    def unpin(self) -> None:
        """Go back to comparing each run with the one before it."""
        self.comparison.unpin()
        self._sync_pin()
        self.redraw()

    def _pin_toggled(self, change) -> None:
        self.pin() if change["new"] else self.unpin()

    def _sync_pin(self) -> None:
        if self.pin_button.value != self.pinned:
            self.pin_button.unobserve(self._pin_toggled, names="value")
            self.pin_button.value = self.pinned
            self.pin_button.observe(self._pin_toggled, names="value")

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
        self.comparison.advance(_as_results(raw), kwargs)
        if self.event_controls is not None:
            self.event_controls.offer(self.schedule.instance_options(self._start_count()))
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
        baseline = self.comparison.ghost() if self.ghost else None
        for ax, draw in zip(self.axes, self.panels):
            if draw.in_place:
                self.live.add(ax)
            else:
                ax.clear()
                self.live.release(ax)
            draw(ax, self.results, baseline)
        results_ok = isinstance(self.results, dict) and all(
            isinstance(r, Result) for r in self.results.values())
        if self.table is not None and results_ok:
            self.table.value = summary_html(self.results, baseline,
                                            "baseline" if self.pinned else "previous")
        self.note.value = self.comparison.note() if baseline is not None else ""
        self.image.value = self.renderer.frame()

    # -- the widget ------------------------------------------------------------------------------
    @property
    def widget(self) -> w.Widget:
        """The whole dashboard as one widget: controls, buttons, figure, metrics."""
        controls = list(self.controls.values())
        left = w.VBox(controls[: (len(controls) + 1) // 2])
        right = w.VBox(controls[(len(controls) + 1) // 2:])
        parts = [w.HBox([left, right])]
        if self.event_controls:
            parts += self.event_controls.rows()
        parts += [self.status, self.image]
        parts.append(w.HBox([self.pin_button, self.note]) if self.ghost else self.note)
        if self.table is not None:
            parts.append(self.table)
        return w.VBox(parts)

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.widget)


def _as_results(raw):
    """``{label: Result}`` from what a run returned, or what it returned if that is something else."""
    try:
        return viz.as_results(raw)
    except TypeError:
        return raw
