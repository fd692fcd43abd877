"""Watch the live lab under traffic: users that browse without end, and a dashboard to break things.

:class:`Traffic` keeps ``users`` real browsers busy against a running :class:`~stickylab.live.Lab`:
each logs in once, then asks for ``/app`` again and again after a short, seeded think time, from a
loopback address of its own. Every answer is recorded: which backend served it, and whether the
session was found, lost (``X-Session: missing``: the user was logged out) or the request failed.

:class:`LiveDashboard` runs that traffic and draws, once a second, the requests each backend
served and the logouts and failures of the last ``window`` seconds, beside buttons that kill,
stop (``SIGSTOP``), continue, restart, drain and remove a backend, add one, and switch the
session store (which starts a new lab). The buttons do their work on a thread of their own, so
the picture keeps moving while a backend restarts.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import html
import os
import signal
import time

import aiohttp
import ipywidgets as w
import numpy as np
from matplotlib.ticker import MaxNLocator

from .. import viz
from ..browser import Browser
from ..viz import nice_ceiling, render
from ..viz.style import legend
from .lab import Lab
from .stores import STORES, redis_available
from .traffic import client, exchange, loopback_address, many_loopback_addresses, take

__all__ = ["LiveDashboard", "Traffic"]

OK, LOST, FAILED = "ok", "lost", "failed"
_HEADROOM = 1.6        # a y axis this many times the data's peak: the top band holds the legend and labels
_LABELS_AT = 0.84      # the presses' labels hang from here (axes fraction), under the legend, over the data


class Traffic:
    """``users`` browsers sending real requests through ``lab`` until :meth:`stop`.

    Args:
        lab: a started :class:`Lab`.
        users: how many browsers, each from its own loopback address where the system allows.
        think: mean seconds a browser waits between two requests (exponential, seeded).
        seed: the think times' seed.
        keep: how many answers to remember (the oldest are dropped first).

    ``records`` holds ``(seconds since start, user, backend or None, outcome)`` per answer,
    outcome one of ``"ok"``, ``"lost"``, ``"failed"``.
    """

    def __init__(self, lab: Lab, users: int = 24, think: float = 0.2, seed: int = 0, keep: int = 50_000):
        if not isinstance(lab, Lab):
            raise TypeError(f"lab must be a stickylab.live.Lab, got {lab!r}")
        if isinstance(users, bool) or not isinstance(users, int) or not 1 <= users <= 500:
            raise ValueError(f"users must be an integer from 1 to 500, got users={users!r}")
        if not isinstance(think, (int, float)) or not 0.001 <= think <= 60:
            raise ValueError(f"think must be from 0.001 to 60 seconds, got think={think!r}")
        self.lab, self.users, self.think, self.seed = lab, users, float(think), seed
        self.records: collections.deque = collections.deque(maxlen=keep)
        self.t0 = time.monotonic()
        self._running = False
        self._future: concurrent.futures.Future | None = None

    def now(self) -> float:
        """Seconds since the traffic started."""
        return time.monotonic() - self.t0

    def start(self) -> Traffic:
        """Start the browsers on the lab's own loop; return self."""
        if self._future is None or self._future.done():
            if self._future is None:
                self.t0 = time.monotonic()         # the clock starts with the first start
            self._running = True
            self._future = asyncio.run_coroutine_threadsafe(self._run(), self.lab._loop)
        return self

    def stop(self, timeout: float = 20.0) -> None:
        """Stop every browser and wait (at most ``timeout`` s) for their last requests."""
        self._running = False
        if self._future is not None:
            try:
                self._future.result(timeout)
            except concurrent.futures.TimeoutError:
                self._future.cancel()

    async def _run(self) -> None:
        spread = many_loopback_addresses()
        clients = {}
        try:
            for k in range(self.users):
                address = loopback_address(200 + k) if spread else None
                clients[k] = client(address)
            await asyncio.gather(*(self._browse(k, clients[k], spread) for k in range(self.users)))
        finally:
            await asyncio.gather(*(c.close() for c in clients.values()))

    async def _browse(self, k: int, session: aiohttp.ClientSession, spread: bool) -> None:
        rng = np.random.default_rng([self.seed, k])
        browser = Browser(loopback_address(200 + k) if spread else "127.0.0.1")
        path, query = "/login", f"?user=u{k}"
        while self._running:
            t = self.now()
            try:
                reply = await exchange(session, self.lab.url + path + query, browser.request(path, t))
            except (TimeoutError, aiohttp.ClientError, OSError):
                reply = None
            if reply is None or reply.instance is None or reply.status >= 500:
                self.records.append((t, k, None, FAILED))
            else:
                take(browser, reply, t, f"u{k}")
                lost = reply.header("X-Session") == "missing"
                self.records.append((t, k, reply.instance, LOST if lost else OK))
                path, query = "/app", ""
            await asyncio.sleep(float(rng.exponential(self.think)))

    def since(self, t: float) -> list[tuple]:
        """The records from time ``t`` on."""
        return [r for r in list(self.records) if r[0] >= t]

    def per_second(self, window: float, instances) -> tuple[np.ndarray, dict, np.ndarray, np.ndarray]:
        """Whole seconds of the last ``window`` s, requests served per backend, logouts, failures."""
        end = int(self.now())
        seconds = np.arange(max(0, end - int(window)), end)
        served = {iid: np.zeros(len(seconds)) for iid in instances}
        lost, failed = np.zeros(len(seconds)), np.zeros(len(seconds))
        start = seconds[0] if len(seconds) else end
        for t, _, iid, outcome in self.since(start):
            k = int(t) - start
            if not 0 <= k < len(seconds):
                continue
            if outcome == FAILED:
                failed[k] += 1
                continue
            if iid in served:
                served[iid][k] += 1
            if outcome == LOST:
                lost[k] += 1
        return seconds, served, lost, failed


class LiveDashboard:
    """Real traffic through a lab, drawn as it arrives, with buttons that break it.

    Args:
        router: the router the proxy asks (a name or a Router).
        instances: backends to start.
        store: ``"memory"``, ``"sqlite"``, ``"redis"`` or ``"jwt"``; the dashboard can switch it.
        users, think, seed: the :class:`Traffic`.
        window: seconds of history drawn.
        drain_timeout: seconds **Remove** drains a backend before it stops it (these browsers
            never log out, so a drain with sessions in memory always lasts that long).

    One dashboard runs at a time: opening one closes the one opened before, so a notebook cell
    run again does not leave the last one's browsers and backends running behind it.
    """

    _latest: LiveDashboard | None = None

    ACTIONS = ("kill", "stop", "continue", "restart", "drain", "remove")

    def __init__(self, router="CookieInsert", instances: int = 3, store: str = "memory", *,
                 users: int = 24, think: float = 0.2, seed: int = 0, window: float = 30.0,
                 drain_timeout: float = 5.0):
        if not isinstance(window, (int, float)) or not 5 <= window <= 600:
            raise ValueError(f"window must be from 5 to 600 seconds, got window={window!r}")
        if not isinstance(drain_timeout, (int, float)) or not 0 <= drain_timeout <= 300:
            raise ValueError(f"drain_timeout must be from 0 to 300 s, got drain_timeout={drain_timeout!r}")
        self.router, self.instances, self.window = router, instances, float(window)
        self.drain_timeout = float(drain_timeout)
        self._traffic_args = {"users": users, "think": think, "seed": seed}
        self.lab = Lab(router, instances, store=store)                 # both check their arguments
        self.traffic = Traffic(self.lab, **self._traffic_args)
        if LiveDashboard._latest is not None:
            LiveDashboard._latest.close()
        self.lab.start()
        self.traffic.start()
        LiveDashboard._latest = self
        self.actions: list[tuple[float, str, str]] = []     # (time, action, backend)
        self._worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="stickylab-watch")
        self._task: asyncio.Task | None = None
        self.error: str | None = None          # what the last button press raised, if anything
        self._doing: str | None = None         # the press under way, if any
        self._closed = False
        self._store_asked = store
        self._build()
        self.refresh()

    # -- the widgets ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.fig, axes = viz.figure(1, 2, width=11, height=3.2)
        self.ax_load, self.ax_bad = axes
        self.image = w.Image(format="png")
        self.backend = w.Dropdown(description="backend", options=self.lab.ever, layout={"width": "14em"})
        self.buttons = {name: w.Button(description=name.capitalize(), layout={"width": "7em"})
                        for name in (*self.ACTIONS, "add")}
        for name, button in self.buttons.items():
            button.on_click(lambda _, name=name: self.press(name))
        stores = [s for s in STORES if s != "redis" or redis_available()]
        self.store = w.Dropdown(description="store", options=stores, value=self.lab.store,
                                layout={"width": "14em"})
        self.store.observe(self._store_picked, names="value")
        self.status = w.HTML()
        self.status.add_class("sl-live-status")
        self.widget = w.VBox([w.HBox([self.backend, *self.buttons.values()]),
                              w.HBox([self.store, self.status]), self.image])

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.widget)
        self.auto_refresh()

    # -- the picture ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Draw the last ``window`` seconds, and the backends' states with what a button is doing or said."""
        seconds, served, lost, failed = self.traffic.per_second(self.window, self.lab.ever)
        seconds = seconds + 1         # each second's count at its end: what a press causes comes after it
        end = max(float(seconds[-1]) if seconds.size else 0.0, self.window)
        span = (end - self.window, end)              # the axis holds still: the data fill it from the left
        self.ax_load.clear()
        for k, (iid, counts) in enumerate(served.items()):
            self.ax_load.plot(seconds, counts, color=viz.instance_color(k), label=iid, marker=".", zorder=3)
        peak = max((float(c.max(initial=0)) for c in served.values()), default=0.0)
        self._frame(self.ax_load, "Requests served per second, by backend", span, peak, len(served))
        self.ax_bad.clear()
        bad = self.ax_bad
        bad.plot(seconds, lost, color="tab:red", marker="o", label="logged out (session lost)", zorder=3)
        bad.plot(seconds, failed, color="black", marker="x", label="failed (no answer, 5xx)", zorder=3)
        peak = max(lost.max(initial=0), failed.max(initial=0))
        self._frame(bad, "Per second: logouts and failures", span, peak, 2)
        self._mark_actions(span[0])
        self.image.value = render.png(self.fig)
        self._sync_backends()
        self.status.value = self._status_line()

    @staticmethod
    def _frame(ax, title: str, span: tuple[float, float], peak: float, columns: int) -> None:
        """Title, labels, whole-number axes, room above the data for the legend (one row of ``columns``)."""
        top = nice_ceiling(max(peak, 1.0) * _HEADROOM)
        ax.set(title=title, xlabel="seconds", ylabel="requests", xlim=span, ylim=(0, top))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        if columns:
            legend(ax, loc="upper left", fontsize=8, ncols=columns)

    def _mark_actions(self, start: float) -> None:
        """A dotted line at each button press since ``start``, labelled under the legend, above the data."""
        shown = [(t, f"{name} {iid}".strip()) for t, name, iid in self.actions if t >= start]
        for ax in (self.ax_load, self.ax_bad):
            last, row = -np.inf, 0
            for t, text in shown:
                row = (row + 1) % 2 if t - last < self.window / 6 else 0   # close presses: two rows
                last = t
                ax.axvline(t, color="grey", linestyle=":", zorder=1)
                ax.annotate(text, (t, _LABELS_AT), xycoords=("data", "axes fraction"), va="top",
                            xytext=(3, -11 * row), textcoords="offset points", fontsize=8,
                            color="dimgrey", zorder=1.9,
                            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})

    def _sync_backends(self) -> None:
        """The backend drop-down lists the lab's backends; the one picked stays picked while it exists."""
        if self.lab._loop is None:            # a new lab is starting
            return
        known = self.lab.status()
        options = tuple(i for i in self.lab.ever if i in known)
        if options != tuple(self.backend.options):
            picked = self.backend.value
            self.backend.options = options
            if picked in options:
                self.backend.value = picked

    def _status_line(self) -> str:
        """Each backend's state, then what the button pressed is doing, or what it failed with."""
        states = self.lab.status() if self.lab._loop is not None else {}
        line = " · ".join(f"<b>{iid}</b> {state}" for iid, state in states.items())
        if self._doing:
            line += f" &nbsp; <i>{html.escape(self._doing)}…</i>"
        if self.error:
            line += f"<br><span style='color:#b00'>{html.escape(self.error)}</span>"
        return line

    def auto_refresh(self, every: float = 1.0) -> None:
        """Redraw every ``every`` seconds on the notebook's own loop (only inside a running kernel)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            try:
                loop = asyncio.get_event_loop()
            except RuntimeError:
                return
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._tick(every))

    async def _tick(self, every: float) -> None:
        while not self._closed:            # a new lab (another store) is drawn as the old one was
            await asyncio.sleep(every)
            try:
                self.refresh()
            except Exception as error:     # shown, and the next second draws again
                self.error = f"redraw failed: {type(error).__name__}: {error}"

    def wait(self, seconds: float, until=None) -> bool:
        """Let the traffic run ``seconds`` (at most 120), or until ``until()`` is true; redraw.

        For a cell that must block. With ``until`` (a function of no arguments), it returns
        as soon as that holds, and says whether it did: a busy machine is slow, not wrong, so a
        cell waits for what it needs rather than a fixed time.
        """
        if not isinstance(seconds, (int, float)) or not 0 <= seconds <= 120:
            raise ValueError(f"seconds must be from 0 to 120, got seconds={seconds!r}")
        if until is not None and not callable(until):
            raise TypeError(f"until must be a function of no arguments, got until={until!r}")
        deadline = time.monotonic() + seconds
        held = False
        while not (held := until is not None and bool(until())) and time.monotonic() < deadline:
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        self.refresh()
        return held

    # -- the buttons ---------------------------------------------------------------------------------
    def press(self, action: str, value: str | None = None) -> concurrent.futures.Future:
        """Do ``action`` to the chosen backend (or switch the store to ``value``) on the worker thread."""
        if action not in (*self.ACTIONS, "add", "store"):
            raise ValueError(f"action must be one of {', '.join(self.ACTIONS)}, add or store, got {action!r}")
        iid = value if action == "store" else self.backend.value
        if action == "store":
            if value not in STORES:
                raise ValueError(f"store must be one of {', '.join(STORES)}, got {value!r}")
            self._store_asked = value
            self.store.value = value               # the drop-down shows it (and does not ask again)
        self.actions.append((self.traffic.now(), action, iid or ""))
        self._doing = f"{action} {iid or ''}".strip()
        self.status.value = self._status_line()
        done = self._worker.submit(self._do, action, iid)
        done.add_done_callback(lambda done, what=self._doing: self._report(done, what))
        return done

    def _store_picked(self, change) -> None:
        if change["new"] != self._store_asked:
            self.press("store", change["new"])

    def _report(self, done: concurrent.futures.Future, what: str) -> None:
        """The press is done: its error (if any) stays on the status line until the next press ends."""
        error = done.exception()
        self.error = None if error is None else f"{what} failed: {type(error).__name__}: {error}"
        self._doing = None
        self.status.value = self._status_line()

    def _do(self, action: str, iid: str) -> None:
        lab = self.lab
        if action == "kill":
            lab.kill(iid)
        elif action in ("stop", "continue"):
            if iid not in lab.pids():
                raise ValueError(f"backend {iid} is not running (Restart starts it)")
            os.kill(lab.pids()[iid], signal.SIGSTOP if action == "stop" else signal.SIGCONT)
        elif action == "restart":
            lab.restart(iid)
        elif action == "drain":
            lab.drain(iid)
        elif action == "remove":
            lab.remove(iid, drain_timeout=self.drain_timeout)
        elif action == "add":
            lab.add()
        else:
            self._switch_store(iid)
        self._sync_backends()

    def _switch_store(self, store: str) -> None:
        self.traffic.stop()
        self.lab.close()
        self.lab = Lab(self.router, self.instances, store=store).start()
        self.traffic = Traffic(self.lab, **self._traffic_args).start()
        self.actions = [(0.0, "store", store)]

    def close(self) -> None:
        """Stop the traffic and the lab; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if LiveDashboard._latest is self:
            LiveDashboard._latest = None
        if self._task is not None:
            self._task.cancel()
        self.traffic.stop()
        self._worker.shutdown(wait=True)
        self.lab.close()                 # a backend stopped with Stop ends at once too (children.stop)
        self.status.value = "<i>closed: its browsers and its lab are stopped</i>"

    def __enter__(self) -> LiveDashboard:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
