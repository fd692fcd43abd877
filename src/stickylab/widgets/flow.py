"""Watch requests move: a run played back, each request a dot from its client through the balancer.

The learner plays, pauses and scrubs a run (:class:`FlowView`): sampled users sit on the left,
coloured by the instance they are pinned to; each request flies to the balancer and on to the
instance that served it, and lands green (its session was there), red (it needed a session
and found none: the user is logged out), blue (a login) or, failing, drops into the
balancer's bin. Each instance shows its state, the requests in flight there (its queue) and
the users it served lately: a hot instance's queue grows, a failure's users turn up elsewhere
in red, a draining instance empties. The data come from :mod:`~stickylab.widgets.flow_data`;
the drawing is ``static/flow.js``, an `anywidget <https://anywidget.dev>`_ module.
"""

from __future__ import annotations

from importlib import resources

import anywidget
import traitlets

from ..metrics import Result
from .flow_data import FlowFrames, flow_frames, wire_bytes

__all__ = ["SPEEDS", "FlowView"]

#: Playback speeds offered (seconds of the run per second of playback).
SPEEDS = (1, 5, 10, 30, 60)


def asset(name: str) -> str:
    """The text of ``static/<name>``, a file shipped in the package (the widgets' JavaScript and CSS)."""
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def _runs(runs) -> dict:
    if isinstance(runs, Result):
        return {"run": runs}
    if not isinstance(runs, dict) or not runs:
        raise TypeError(f"runs must be a Result or a non-empty dict {{name: Result}}, got {runs!r:.80}")
    for name in runs:
        if not isinstance(name, str) or not name:
            raise TypeError(f"run names must be non-empty strings, got {name!r}")
    return dict(runs)


class FlowView(anywidget.AnyWidget):
    """A run's requests as moving dots, with play/pause, a time slider, a speed and a run picker.

    Args:
        runs: a :class:`~stickylab.Result`, or ``{name: Result}`` to pick from.
        show: the name of the run it opens on (default: the first).
        window, max_users, max_dots, frames: see :func:`~stickylab.widgets.flow_data.flow_frames`;
            they apply to every run, and every run is checked before anything is shown.

    Attributes (synchronised with the browser):
        choice: the run shown.
        time: seconds into the run; the browser sets it when paused or scrubbed, Python may set it.
        playing: True while it plays.
        speed: seconds of the run per second of playback (one of :data:`SPEEDS`).
        run: the chosen run's :meth:`FlowFrames.wire` (typed arrays sent as binary buffers).
    """

    _esm = asset("flow.js")
    _css = asset("flow.css")
    names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    choice = traitlets.Unicode().tag(sync=True)
    run = traitlets.Dict().tag(sync=True)
    time = traitlets.Float(0.0).tag(sync=True)
    playing = traitlets.Bool(False).tag(sync=True)
    speed = traitlets.Float(10.0).tag(sync=True)
    speeds = traitlets.List(traitlets.Float(), list(map(float, SPEEDS))).tag(sync=True)

    def __init__(self, runs, show: str | None = None, window=None, max_users: int = 400,
                 max_dots: int = 20_000, frames: int = 600):
        runs = _runs(runs)
        self.frames: dict[str, FlowFrames] = {
            name: flow_frames(res, window=window, max_users=max_users, max_dots=max_dots, frames=frames)
            for name, res in runs.items()}
        if show is None:
            show = next(iter(runs))
        if show not in runs:
            raise ValueError(f"show={show!r} is not one of the runs: {', '.join(map(repr, runs))}")
        super().__init__(names=list(runs), choice=show)
        self._show(show)

    @traitlets.validate("choice")
    def _check_choice(self, proposal):
        if proposal["value"] not in self.frames:
            raise traitlets.TraitError(f"choice={proposal['value']!r} is not one of the runs: "
                                       f"{', '.join(map(repr, self.frames))}")
        return proposal["value"]

    @traitlets.validate("speed")
    def _check_speed(self, proposal):
        if proposal["value"] not in self.speeds:
            raise traitlets.TraitError(f"speed={proposal['value']!r} is not one of {list(SPEEDS)}")
        return proposal["value"]

    @traitlets.validate("time")
    def _check_time(self, proposal):
        shown = self.shown
        if shown is not None and not shown.start <= proposal["value"] <= shown.end:
            raise traitlets.TraitError(f"time={proposal['value']!r} is outside the window "
                                       f"[{shown.start:g}, {shown.end:g}] s")
        return proposal["value"]

    @traitlets.observe("choice")
    def _on_choice(self, change):
        self._show(change["new"])

    def _show(self, name: str) -> None:
        frames = self.frames[name]
        self.playing = False
        self.run = frames.wire()
        self.time = frames.start

    @property
    def shown(self) -> FlowFrames | None:
        """The :class:`FlowFrames` of the run shown."""
        return self.frames.get(self.choice)

    @property
    def sent_bytes(self) -> int:
        """Bytes of typed arrays sent to the browser for the run shown."""
        return wire_bytes(self.run)
