"""What the request-flow view plays: a run's trace cut to a window, its dots and per-frame series.

Everything here is computed in Python from a :class:`~stickylab.Result` (no Jupyter), and
what the browser receives is bounded whatever the run's size:

- **dots**: the requests of a sample of users inside the window, at most ``max_dots`` of
  them (whole users are kept or left out, so a user's requests read as one story: pinned,
  moved, logged out). The busiest tenth of ``max_users`` come first (a skewed run's hot
  instance is their doing), then users in a fixed order (by :func:`~stickylab.hashing.mix64`
  of their number), the same for every run of a scenario, while both budgets allow.
- **frames**: ``frames + 1`` evenly spaced instants of the window, with, per instance, its
  state (healthy, draining, failed, removed, not yet there), the requests in flight there
  (arrived, not yet answered) and the users it served over the last ``recent`` seconds; and
  the window's requests, lost sessions and failed requests so far. These count *every*
  request, not only the sampled users'.

:meth:`FlowFrames.wire` packs both as typed arrays (little-endian bytes) for the browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from .. import events as ev
from ..hashing import mix64
from ..metrics import Result
from ..trace import FAILED, LOST, NEEDED
from ..viz import instance_color

__all__ = ["STATES", "FlowFrames", "flow_frames", "wire_bytes"]

#: The states an instance can be in at a frame, by their code in :attr:`FlowFrames.state`.
STATES = ("not yet", ev.HEALTHY, ev.DRAINING, ev.FAILED, ev.REMOVED)
_CODE = {name: k for k, name in enumerate(STATES)}
_VERBS = {"Fail": "fails", "Drain": "drains", "ScaleIn": "is removed", "Recover": "recovers",
          "ScaleOut": "joins"}
MAX_FRAMES = 5_000


@dataclass(frozen=True, eq=False)
class FlowFrames:
    """One run as the flow view plays it (arrays are read-only; times in seconds of the run).

    Attributes:
        start, end: the window shown.
        instance_ids: every instance of the run, in creation order.
        router: the router's display name.
        users_total: users with a request in the window; ``users`` the ones drawn as dots.
        users: the sampled users' numbers, in slot order (a dot's ``slot`` indexes it).
        time, slot, instance, flags: per dot (a sampled user's request in the window, in time
            order): its time, its user's slot, the index of the instance that served it (-1 if
            it failed) and its outcome flags (:mod:`stickylab.trace`).
        frame_times: the frames' instants, ``start`` to ``end``.
        state: (instances x frames) codes into :data:`STATES`.
        in_flight: (instances x frames) requests arrived and not yet answered.
        recent: (instances x frames) distinct users served over the last ``recent_span`` seconds.
        requests, lost, failed: per frame, the window's requests so far, those that lost their
            session (as ``Result.lost``) and those that failed (as ``Result.failed``).
        events: ``(time, text)`` of each event of the run inside the window.
    """

    start: float
    end: float
    instance_ids: list
    router: str
    users_total: int
    users: np.ndarray
    time: np.ndarray
    slot: np.ndarray
    instance: np.ndarray
    flags: np.ndarray
    frame_times: np.ndarray
    state: np.ndarray
    in_flight: np.ndarray
    recent: np.ndarray
    recent_span: float
    requests: np.ndarray
    lost: np.ndarray
    failed: np.ndarray
    events: list

    def __repr__(self) -> str:
        return (f"<FlowFrames {self.router}: {self.start:g}-{self.end:g} s, {len(self.time):,} dots of "
                f"{len(self.users)} of {self.users_total} users, {len(self.frame_times)} frames>")

    def wire(self) -> dict:
        """The compact form the browser gets: numbers, short lists, and typed arrays as bytes."""
        def raw(values, dtype) -> bytes:
            return np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()

        return {
            "start": self.start, "end": self.end, "ids": list(self.instance_ids), "router": self.router,
            "colors": [instance_color(k) for k in range(len(self.instance_ids))],
            "states": list(STATES), "users_total": self.users_total, "users_shown": len(self.users),
            "recent_span": self.recent_span, "frames": len(self.frame_times) - 1,
            "events": [{"at": at, "text": text} for at, text in self.events],
            "flags": {"needed": NEEDED, "lost": LOST, "failed": FAILED},
            "dots": {"t": raw(self.time - self.start, "f4"), "u": raw(self.slot, "u2"),
                     "i": raw(self.instance, "i2"), "f": raw(self.flags, "u1")},
            "series": {"state": raw(self.state, "u1"), "in_flight": raw(self.in_flight, "i4"),
                       "recent": raw(self.recent, "i4"), "requests": raw(self.requests, "i4"),
                       "lost": raw(self.lost, "i4"), "failed": raw(self.failed, "i4")},
        }


def wire_bytes(wire: dict) -> int:
    """How many bytes of typed arrays a :meth:`FlowFrames.wire` holds (the bulk of what is sent)."""
    return sum(len(v) for part in ("dots", "series") for v in wire[part].values())


# -- checking what is asked ------------------------------------------------------------------------
def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_result(res) -> Result:
    if not isinstance(res, Result):
        raise TypeError(f"the flow view plays a run: a stickylab Result from sl.simulate(...), "
                        f"got {type(res).__name__} {_short(res)}")
    if not len(res.times):
        raise ValueError(f"the run {_short(res)} has no requests: there is nothing to play")
    return res


def _check_window(window, duration: float) -> tuple[float, float]:
    if window is None:
        return 0.0, float(duration)
    try:
        start, end = window
    except (TypeError, ValueError):
        raise ValueError(f"window must be (start, end) in seconds, got window={_short(window)}") from None
    for v in (start, end):
        if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v):
            raise ValueError(f"window must be two finite numbers of seconds, got window={_short(window)}")
    if not 0 <= start < end <= duration:
        raise ValueError(f"window must satisfy 0 <= start < end <= {duration:g} (the run's duration), "
                         f"got window={_short(window)}")
    return float(start), float(end)


def _check_count(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low:,} to {high:,}, got {name}={_short(value)}")
    return int(value)


# -- the parts -------------------------------------------------------------------------------------
def _sample(users: np.ndarray, max_users: int, max_dots: int) -> np.ndarray:
    """The users to draw, in slot order: whole users, the busiest tenth first, within both budgets."""
    present, counts = np.unique(users, return_counts=True)
    spread = np.argsort(mix64(present.astype(np.uint64)), kind="stable")
    busiest = np.argsort(-counts, kind="stable")[:max(1, max_users // 10)]
    order = np.concatenate([busiest, spread[~np.isin(spread, busiest)]])
    fits = np.cumsum(counts[order]) <= max_dots      # a prefix of the order: counts are positive
    return np.sort(present[order[fits][:max_users]])


def _states(res: Result, at: np.ndarray) -> np.ndarray:
    """(instances x frames) state codes: what each instance really was at each instant."""
    n = len(res.instance_ids)
    codes = np.zeros((n, len(at)), dtype=np.uint8)
    codes[:res.scenario.instances] = _CODE[ev.HEALTHY]
    for event, _, states in ev.plan(res.events, res.scenario.instances, res.scenario.duration):
        later = at >= event.at
        for iid, state in states.items():
            codes[int(iid[1:]), later] = _CODE[state]
    return codes


def _in_flight(res: Result, at: np.ndarray) -> np.ndarray:
    """(instances x frames) requests that had arrived at each instance and were not yet answered."""
    served = res.served
    out = np.zeros((len(res.instance_ids), len(at)), dtype=np.int64)
    for k in range(len(res.instance_ids)):
        mine = served & (res.instance == k)
        arrive = np.sort(res.times[mine])
        leave = np.sort(res.times[mine] + res.latency[mine])
        out[k] = np.searchsorted(arrive, at, side="right") - np.searchsorted(leave, at, side="right")
    return out


def _recent(res: Result, at: np.ndarray, span: float) -> np.ndarray:
    """(instances x frames) distinct users each instance served in ``(t - span, t]``.

    A request counts its user from its own time until the user's next request there, or
    ``span`` later, whichever comes first: so each user counts once, by their latest request.
    """
    out = np.zeros((len(res.instance_ids), len(at)), dtype=np.int64)
    for k in range(len(res.instance_ids)):
        mine = res.served & (res.instance == k)
        times, users = res.times[mine], res.users[mine]
        order = np.lexsort((times, users))
        t, u = times[order], users[order]
        following = np.append(np.where(u[1:] == u[:-1], t[1:], np.inf), np.inf)
        until = np.minimum(following, t + span)
        out[k] = (np.searchsorted(np.sort(t), at, side="right")
                  - np.searchsorted(np.sort(until), at, side="right"))
    return out


def _so_far(times: np.ndarray, mask: np.ndarray, at: np.ndarray) -> np.ndarray:
    return np.searchsorted(times[mask], at, side="right")


def _event_notes(res: Result, start: float, end: float) -> list:
    notes = []
    for event, touched, _ in ev.plan(res.events, res.scenario.instances, res.scenario.duration):
        if start <= event.at <= end:
            verb = _VERBS.get(type(event).__name__, type(event).__name__)
            notes.append((float(event.at), f"{', '.join(touched)} {verb}"))
    return notes


def flow_frames(res: Result, window=None, max_users: int = 400, max_dots: int = 20_000,
                frames: int = 600) -> FlowFrames:
    """The flow view's data for run ``res``: dots of sampled users and per-frame series, in ``window``.

    Args:
        res: a run, from :func:`stickylab.simulate`.
        window: ``(start, end)`` in seconds of the run (default: the whole run).
        max_users: most users drawn as dots (clients on the left of the picture).
        max_dots: most dots (requests) sent; whole users are left out to stay within it.
        frames: instants sampled for the per-instance series (queues, states, counters).
    """
    res = _check_result(res)
    start, end = _check_window(window, res.scenario.duration)
    max_users = _check_count("max_users", max_users, 1, 65_535)
    max_dots = _check_count("max_dots", max_dots, 1, 1_000_000)
    frames = _check_count("frames", frames, 1, MAX_FRAMES)
    times = res.times
    inside = (times >= start) & (times <= end)
    if not inside.any():
        raise ValueError(f"no request falls in window=({start:g}, {end:g}): the run's requests span "
                         f"{times.min():g} to {times.max():g} s")
    users = _sample(res.users[inside], max_users, max_dots)
    dots = np.flatnonzero(inside & np.isin(res.users, users))
    dots = dots[np.argsort(times[dots], kind="stable")]
    at = np.linspace(start, end, frames + 1)
    span = float(3 * res.scenario.think_time)
    order = np.argsort(times, kind="stable")
    t_sorted, in_sorted = times[order], inside[order]
    arrays = dict(
        users=users, time=times[dots], slot=np.searchsorted(users, res.users[dots]),
        instance=res.instance[dots], flags=res.outcome[dots].astype(np.uint8), frame_times=at,
        state=_states(res, at), in_flight=_in_flight(res, at), recent=_recent(res, at, span),
        requests=_so_far(t_sorted, in_sorted, at), lost=_so_far(t_sorted, in_sorted & res.lost[order], at),
        failed=_so_far(t_sorted, in_sorted & res.failed[order], at))
    for values in arrays.values():
        values.flags.writeable = False
    label = res.router.label() if hasattr(res.router, "label") else type(res.router).__name__
    return FlowFrames(start=start, end=end, instance_ids=list(res.instance_ids), router=label,
                      users_total=int(np.unique(res.users[inside]).size), recent_span=span,
                      events=_event_notes(res, start, end), **arrays)
