"""Interactive dashboards for the course: ipywidgets controls driving :mod:`stickylab.viz` plots.

A :class:`Dashboard` owns one Matplotlib figure, made once and redrawn in place. Every
control change calls :meth:`Dashboard.update`, which runs the experiment again with the
controls' values and redraws the figure; a test or a benchmark calls the same method.
The figure is rendered to PNG into an ``ipywidgets.Image``, so the dashboard works the
same under any Matplotlib backend, and headless.
"""

from __future__ import annotations

import inspect
import io
import time
from collections.abc import Callable, Mapping, Sequence

import ipywidgets as w
import numpy as np
from matplotlib import image as mpl_image

from . import events as ev
from . import hashing
from . import viz
from .app import Apps
from .browser import Browser
from .engine import simulate
from .metrics import Result
from .model import Headers, Pool, Request
from .routers import AffinityTable, Router, make
from .scenario import Scenario

__all__ = [
    "Dashboard", "Stepper", "float_slider", "hashing_dashboard", "int_slider", "key_movement",
    "panel", "picker", "scenario_dashboard", "summary_html", "sweep",
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


def _png(fig) -> bytes:
    """The figure as PNG bytes, drawn on its own Agg canvas (faster than ``savefig``)."""
    buffer = io.BytesIO()
    fig.canvas.print_png(buffer)
    return buffer.getvalue()


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
def panel(plot: Callable, which: int | str | None = 0, **options) -> Callable:
    """Adapt a :mod:`stickylab.viz` function to a dashboard panel ``(ax, results) -> None``.

    ``which`` picks one result (by position or label) for plots of a single Result, and the
    title names it by its dashboard label; ``which=None`` passes every result, for plots that
    compare them. ``options`` go to ``plot``.
    """
    def draw(ax, results):
        if which is None:
            return plot(ax, results, **options)
        label = list(results)[which] if isinstance(which, int) else which
        res = results[label]
        plot(ax, res, **options)
        router = f"({res.router.label()})"          # name the router as the dashboard does
        ax.set_title(ax.get_title().replace(router, f"({label})"))
    draw.__name__ = getattr(plot, "__name__", "panel")
    draw._in_place = plot in viz._IN_PLACE      # it updates its own artists on a dashboard's Axes
    return draw


# -- the summary table ---------------------------------------------------------------------
_COLUMNS = (("logged out", "session_loss_rate", "{:.1%}"), ("cache hits", "cache_hit_rate", "{:.1%}"),
            ("failed", "failed_requests", "{:,}"), ("busiest / mean", "max_mean_load", "{:.2f}"),
            ("p99 latency", "p99_latency", "{:.0f} ms"), ("affinity", "affinity", "{:.1%}"),
            ("requests", "requests", "{:,}"))


def summary_html(results: Mapping[str, Result]) -> str:
    """The headline metrics of each result as a small HTML table, one row per router."""
    head = "".join(f"<th style='padding:0 10px'>{name}</th>" for name, _, _ in _COLUMNS)
    rows = []
    for label, res in results.items():
        s = res.summary()
        s["p99_latency"] *= 1000
        cells = "".join(f"<td style='padding:0 10px;text-align:right'>{fmt.format(s[key])}</td>"
                        for _, key, fmt in _COLUMNS)
        rows.append(f"<tr><td><b>{label}</b></td>{cells}</tr>")
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"


# -- the dashboard -------------------------------------------------------------------------
class Dashboard:
    """Controls, one figure, a summary table; :meth:`update` reruns and redraws.

    Args:
        run: ``run(**values) -> Result | {label: Result} | anything`` where ``values`` are the
            controls' values by name (plus ``events=[...]`` when ``events=True``).
        panels: one callable ``(ax, results)`` per Axes (see :func:`panel`); ``results`` is a
            ``{label: Result}`` dict when ``run`` returns Results, else what ``run`` returned.
        controls: ``{name: widget}``; each change calls :meth:`update`.
        events: add "fail an instance", "add an instance" and "clear" buttons and a time
            slider: the events they make are passed to ``run`` as ``events``.
        instances: how many instances the run starts with, when no control is named ``instances``
            (the fail button needs it to name the instance that fails).
        duration: the run's length in seconds, for the event time slider.
        columns: panels per row.
        summary: show the headline metrics table under the figure.
    """

    def __init__(self, run: Callable, panels: Sequence[Callable], controls: Mapping | None = None,
                 *, events: bool = False, instances: int = 4, duration: float = 600.0,
                 columns: int = 2, summary: bool = True, height: float = 3.4, width: float = 10.0):
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
        self.actions: list[tuple[str, float]] = []   # ("fail" | "add", time), turned into events
        self.with_events = events
        cols = min(columns, len(panels))
        rows = -(-len(panels) // cols)
        self.fig, axes = viz.figure(rows, cols, width=width, height=height)
        self.axes = list(axes[: len(panels)])
        for spare in axes[len(panels):]:
            spare.set_visible(False)
        self.image = w.Image(format="png", layout={"max_width": "100%"})
        self.table = w.HTML() if summary else None
        self.status = w.HTML()
        self.results = None
        self.seconds = 0.0
        self._background = self._signature = None
        self._buttons = self._make_buttons() if events else None
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        self.update()

    # -- state ------------------------------------------------------------------------------
    def values(self) -> dict:
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def _start_count(self) -> int:
        control = self.controls.get("instances")
        return int(control.value) if control is not None else self.instances

    def events(self) -> list[ev.Event]:
        """The events the buttons asked for, in time order, as valid simulator events.

        "Fail" takes down the lowest-numbered instance still healthy at that time (and is
        skipped when none is); "add" scales out by one.
        """
        n = self._start_count()
        healthy = [f"i{k}" for k in range(n)]
        out: list[ev.Event] = []
        for kind, at in sorted(self.actions, key=lambda a: a[1]):
            if kind == "add":
                out.append(ev.ScaleOut(at=at))
                healthy.append(f"i{n}")
                n += 1
            elif healthy:
                out.append(ev.Fail(healthy.pop(0), at=at))
        return out

    def fail_instance(self, at: float | None = None) -> None:
        """Fail one more instance at ``at`` (default: the time slider), then update."""
        self.actions.append(("fail", self._when(at)))
        self.update()

    def add_instance(self, at: float | None = None) -> None:
        """Add one instance at ``at`` (default: the time slider), then update."""
        self.actions.append(("add", self._when(at)))
        self.update()

    def clear_events(self) -> None:
        """Forget every failure and addition, then update."""
        self.actions.clear()
        self.update()

    def _when(self, at):
        if at is None:
            return float(self._buttons["at"].value) if self._buttons else self.duration / 2
        if isinstance(at, bool) or not isinstance(at, int | float) or not 0 <= at <= self.duration:
            raise ValueError(f"at must be a time in [0, {self.duration:g}] seconds, got at={at!r}")
        return float(at)

    # -- running and drawing ----------------------------------------------------------------------
    def _changed(self, change) -> None:
        self.update()

    def update(self):
        """Run the experiment with the current controls and events, redraw, return the results."""
        start = time.perf_counter()
        kwargs = self.values()
        if self.with_events:
            kwargs["events"] = self.events()
        try:
            raw = self.run(**kwargs)
        except (ValueError, TypeError) as exc:      # a bad combination of knobs: say so, keep the plot
            self.status.value = f"<span style='color:#C44E52'>Cannot run this: {exc}</span>"
            return self.results
        self.status.value = ""
        try:
            self.results = viz.as_results(raw)
        except TypeError:
            self.results = raw
        self.redraw()
        self.seconds = time.perf_counter() - start
        return self.results

    def redraw(self) -> None:
        """Redraw every panel on the same figure, then render it to the image.

        Panels made by :func:`panel` from a :mod:`stickylab.viz` plot update the artists they
        drew last time (lines, bars, dots) when they can; other panels get a cleared Axes.
        """
        for ax, draw in zip(self.axes, self.panels):
            if getattr(draw, "_in_place", False):
                ax._stickylab_live = True
            else:
                ax.clear()
                ax._stickylab_live, ax._stickylab_state = False, None
            draw(ax, self.results)
        if self.table is not None and isinstance(self.results, dict) and all(
                isinstance(r, Result) for r in self.results.values()):
            self.table.value = summary_html(self.results)
        self.image.value = self._render()

    def _render(self) -> bytes:
        """The figure as PNG bytes, redrawing only the data when nothing else changed.

        When every panel updates in place and no axis limits, title or scale moved since
        the last full draw, the figure's background (frame, ticks, labels) is restored from
        that draw and only the panels' data artists, notes and legends are drawn on it
        (Matplotlib's blitting); otherwise the whole figure is drawn.
        """
        fig, canvas = self.fig, self.fig.canvas
        live = all(getattr(ax, "_stickylab_state", None) is not None for ax in self.axes)
        if not live:
            self._background = None
            return _png(fig)
        front = []
        for ax in self.axes:        # what the plots drew; the frame, ticks and titles stay behind
            frame = {id(a) for a in (ax.patch, ax.xaxis, ax.yaxis, ax.title, ax._left_title,
                                     ax._right_title, *ax.spines.values())}
            front += sorted((a for a in ax.get_children() if id(a) not in frame),
                            key=lambda a: a.get_zorder())
        signature = (tuple(fig.get_size_inches()), fig.dpi, tuple(
            (ax._stickylab_state[0], ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(),
             ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) for ax in self.axes))
        renderer = None
        if self._background is not None and signature == self._signature:
            canvas.restore_region(self._background)
            renderer = canvas.get_renderer()
        else:
            for a in front:
                a.set_animated(True)
            try:
                canvas.draw()
                self._background = canvas.copy_from_bbox(fig.bbox)
                self._signature = signature
            finally:
                for a in front:
                    a.set_animated(False)       # a plain savefig of the figure draws them all
            renderer = canvas.get_renderer()
        for a in front:
            if a.get_visible():
                a.draw(renderer)
        buffer = io.BytesIO()
        mpl_image.imsave(buffer, np.asarray(canvas.buffer_rgba()), format="png", origin="upper",
                         dpi=fig.dpi)
        return buffer.getvalue()

    # -- the widget ------------------------------------------------------------------------------
    def _make_buttons(self) -> dict:
        at = float_slider("event at (s)", self.duration / 2, 0.0, self.duration,
                          step=self.duration / 60, readout_format=".0f")
        fail = w.Button(description="Fail an instance", button_style="danger", icon="bolt")
        add = w.Button(description="Add an instance", button_style="info", icon="plus")
        clear = w.Button(description="Clear events", icon="undo")
        fail.on_click(lambda _: self.fail_instance())
        add.on_click(lambda _: self.add_instance())
        clear.on_click(lambda _: self.clear_events())
        return {"at": at, "fail": fail, "add": add, "clear": clear}

    @property
    def widget(self) -> w.Widget:
        """The whole dashboard as one widget: controls, buttons, figure, metrics."""
        controls = list(self.controls.values())
        left = w.VBox(controls[: (len(controls) + 1) // 2])
        right = w.VBox(controls[(len(controls) + 1) // 2:])
        parts = [w.HBox([left, right])]
        if self._buttons:
            b = self._buttons
            parts.append(w.HBox([b["at"], b["fail"], b["add"], b["clear"]]))
        parts += [self.status, self.image]
        if self.table is not None:
            parts.append(self.table)
        return w.VBox(parts)

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.widget)


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
    accepted = inspect.signature(factory).parameters
    return factory(**{k: v for k, v in options.items() if k in accepted})


def scenario_dashboard(scenario: Scenario, routers: Mapping, knobs: Mapping | None = None,
                       panels: Sequence[Callable] | None = None, *, choose: bool = True,
                       events: bool = False, **options) -> Dashboard:
    """A :class:`Dashboard` over one scenario: knobs change its fields, and the router.

    Args:
        scenario: the defaults every run starts from.
        routers: ``{label: router}`` where each router is a name (``"CookieInsert"``), a
            Router (copied by the simulator on each run) or a factory whose keyword
            arguments are knobs (``lambda expire: StickTable("src", expire=expire)``).
        knobs: ``{name: widget}``; a name that is a Scenario field sets that field,
            any other name is passed to the router factories that take it.
        panels: dashboard panels (default: logouts over time and load per instance).
        choose: add a "router" drop-down and run the chosen one; ``False`` runs them all,
            side by side (slower: one simulation each).
        events: add the fail / add-an-instance buttons.
        options: passed on to :class:`Dashboard` (``columns``, ``height``...).
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

    cache = _Cache()

    def one(sc, label, options_, events):
        # a seeded scenario always gives the same run: rerun only what a control changed
        key = (sc, label, tuple(sorted(options_.items())), tuple(events or ()))
        return cache.get(key, lambda: simulate(sc, _build_router(routers[label], options_),
                                               events=events))

    def run(router=None, events=None, **values):
        sc = scenario.replace(**{k: v for k, v in values.items() if k in fields})
        options_ = {k: v for k, v in values.items() if k not in fields}
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
    hashes = hashing.mix64(np.arange(keys))
    position = {iid: k for k, iid in enumerate(before_ids)}
    same = np.array([position.get(iid, -1) for iid in after_ids])   # after's nodes, numbered as before
    moved, busiest = {}, {}
    for label, (scheme, options) in HASH_SCHEMES.items():
        options = dict(options, vnodes=vnodes) if scheme == "ring" else options
        before = hashing.build(scheme, before_ids, **options).index_many(hashes)
        after = hashing.build(scheme, after_ids, **options).index_many(hashes)
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


# -- routing by hand ---------------------------------------------------------------------------
class Stepper:
    """Send prepared requests through a router one at a time and watch its mapping table grow.

    Each prepared request is sent by its client (one :class:`~stickylab.browser.Browser`
    per address, so it carries the cookies its client was given) to the instance the
    router picks, whose application (an :class:`~stickylab.app.App`) answers: it starts a
    session and sets its session cookie for a client without one. The router sees that
    response, as a balancer would, and the client keeps the cookies it sets. A prepared
    request's own cookies go into its client's jar first. Each :meth:`step` redraws the
    log of requests beside the router's affinity table (a ``StickTable``'s or an
    ``AppCookieLearn``'s; routers without one, such as the hashing routers, show the log).
    """

    def __init__(self, router: Router, requests: Sequence[Request], pool: Pool):
        if not isinstance(router, Router):
            raise TypeError(f"router must be a stickylab Router, got {router!r}")
        if not isinstance(pool, Pool):
            raise TypeError(f"pool must be a stickylab Pool, got {pool!r}")
        self.requests = list(requests)
        if not all(isinstance(r, Request) for r in self.requests):
            raise TypeError("requests must be stickylab Request objects")
        self.router, self.pool = router, pool
        self.browsers: dict[str, Browser] = {}
        self.apps = Apps()
        self.log: list[tuple[Request, str]] = []
        self.fig, axes = viz.figure(1, 2, height=4.2)
        self.axes = list(axes)
        self.image = w.Image(format="png", layout={"max_width": "100%"})
        self.button = w.Button(description="Send the next request", icon="play")
        self.button.on_click(lambda _: self.step())
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
        response = self.apps[iid].handle(request)
        self.router.on_response(request, iid, response)
        browser.receive(response, prepared.time)
        self.log.append((request, iid))
        self.redraw()
        return iid

    def redraw(self) -> None:
        """Redraw the log and the table on the same figure."""
        for ax in self.axes:
            ax.clear()
        viz.plot_routing_log(self.axes[0], self.log, self.pool.members)
        table = getattr(self.router, "table", None)
        if isinstance(table, AffinityTable):     # a hashing router's .table is its hash scheme
            viz.plot_affinity_table(self.axes[1], table, self.pool.members)
        else:
            self.axes[1].axis("off")
        self.button.disabled = len(self.log) == len(self.requests)
        self.image.value = _png(self.fig)

    @property
    def widget(self) -> w.Widget:
        """The button above the figure."""
        return w.VBox([self.button, self.image])

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.widget)


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
