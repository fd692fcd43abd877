"""Things that happen to instances during a run: failures, recoveries, scaling, draining."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

from .rules import check_fields, ruled
from .scenario import MAX_INSTANCES

__all__ = ["Drain", "Event", "Fail", "Recover", "ScaleIn", "ScaleOut", "plan"]

HEALTHY, DRAINING, FAILED, REMOVED = "healthy", "draining", "failed", "removed"


def _seconds_at(name: str, at) -> float:
    if isinstance(at, bool) or not isinstance(at, Real) or not math.isfinite(at):
        raise ValueError(f"'{name}' must be a finite number of seconds, got {name}={at!r}")
    if not isinstance(at, int | float):         # a numpy number: keep the Python one
        return int(at) if isinstance(at, Integral) else float(at)
    return at


def _instance_id(name: str, iid) -> str:
    if not isinstance(iid, str):
        raise TypeError(f"instance ids are strings like 'i1', got {iid!r}")
    return iid


def _detect(name: str, detect) -> float:
    if isinstance(detect, bool) or not isinstance(detect, Real) or not 0 <= detect < math.inf:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {name}={detect!r}")
    return detect if isinstance(detect, int | float) else float(detect)    # a numpy number: the Python one


def _count(name: str, count) -> int:
    if isinstance(count, bool) or not isinstance(count, Integral) or count < 1:
        raise ValueError(f"{name} must be a positive integer, got {name}={count!r}")
    if count > MAX_INSTANCES:
        raise ValueError(f"{name}={count!r} is more instances than a run may have ({MAX_INSTANCES:,})")
    return int(count)


class Event:
    """Base class: something that happens to the pool at time ``at``."""

    at: float

    def apply(self, states: dict[str, str]) -> list[str]:
        """Check the event against instance states (id -> state), update them, return ids touched."""
        raise NotImplementedError

    def _need(self, states, iid, allowed) -> None:
        state = states.get(iid)
        if state is None:
            known = ", ".join(states) or "none"
            raise ValueError(f"{self!r}: there is no instance {iid!r} at t={self.at:g} "
                             f"(instances then: {known})")
        if state not in allowed:
            raise ValueError(f"{self!r}: instance {iid!r} is {state} at t={self.at:g}; "
                             f"{type(self).__name__} needs it {' or '.join(allowed)}")


@dataclass(frozen=True)
class _InstanceEvent(Event):
    """An event that moves one instance ``id`` from one of ``needs`` states to ``becomes``."""

    id: str = ruled(_instance_id)
    at: float = ruled(_seconds_at)
    needs = ()
    becomes = ""

    def __post_init__(self):
        check_fields(self, repr(self))

    def apply(self, states):
        """Check the instance's state, then change it."""
        self._need(states, self.id, self.needs)
        states[self.id] = self.becomes
        return [self.id]


@dataclass(frozen=True, repr=False)
class Fail(_InstanceEvent):
    """Instance ``id`` crashes at ``at``: its in-memory sessions and cache are gone.

    ``detect`` is how long the balancer takes to notice (seconds, default 0: at once).
    Until ``at + detect`` the instance stays in the pool as it was, routers keep sending
    it requests, and those requests fail. Health checks set that window: HAProxy's
    default ``inter 2s fall 3`` marks a server DOWN after three failed checks. A process
    that refuses connections fails each check at once, so that takes 4 to 6 s (the first
    failing check comes 0 to 2 s after the crash). A host that goes silent makes each check
    wait out its timeout (``inter``, 2 s, unless ``timeout check`` is set) before the next
    starts ``inter`` later: about 10 to 12 s [HAProxy configuration.txt, "inter", "fall"
    and "timeout check"].
    """

    detect: float = ruled(_detect, 0.0)
    needs, becomes = (HEALTHY, DRAINING), FAILED

    def __repr__(self) -> str:
        more = f", detect={self.detect!r}" if self.detect else ""
        return f"Fail(id={self.id!r}, at={self.at!r}{more})"


class Recover(_InstanceEvent):
    """Instance ``id`` takes new sessions again at ``at``.

    A failed instance comes back with empty memory; a draining one returns to service with the
    sessions and cache it kept.
    """

    needs, becomes = (FAILED, DRAINING), HEALTHY


class ScaleIn(_InstanceEvent):
    """Instance ``id`` is terminated at ``at`` and leaves the pool for good (sessions lost)."""

    needs, becomes = (HEALTHY, DRAINING, FAILED), REMOVED


class Drain(_InstanceEvent):
    """From ``at``, instance ``id`` takes no new sessions; its sticky users stay until they end.

    HAProxy ``set server ... state drain`` (or ``weight 0``) [HAProxy management.txt,
    configuration.txt]. An AWS ALB target being deregistered is *not* this: it takes no new
    requests, sticky users included, and the deregistration delay only lets requests in
    flight finish [ELB user guide, "Deregistration delay"]: its users move, as with
    :class:`ScaleIn`.
    """

    needs, becomes = (HEALTHY,), DRAINING


@dataclass(frozen=True)
class ScaleOut(Event):
    """``count`` new, empty instances join the pool at ``at`` (ids continue the sequence)."""

    at: float = ruled(_seconds_at)
    count: int = ruled(_count, 1)

    def __post_init__(self):
        check_fields(self, repr(self))

    def apply(self, states):
        """Add the new instances."""
        start = len(states)
        new = [f"i{start + k}" for k in range(self.count)]
        for iid in new:
            states[iid] = HEALTHY
        return new


def plan(events, instances: int, duration: float) -> list[tuple[Event, list[str], dict[str, str]]]:
    """Check a run's events before it starts; return (event, ids touched, states after) per event.

    Events must be :class:`Event` objects in time order, inside ``[0, duration]``, naming
    instances that exist and are in a state the event applies to.
    """
    if events is None:
        return []
    if isinstance(events, Event):
        events = [events]
    try:
        events = list(events)
    except TypeError:
        raise TypeError(f"events must be a list of events, got {events!r}") from None
    states = {f"i{k}": HEALTHY for k in range(instances)}
    out, last = [], 0.0
    for event in events:
        if not isinstance(event, Event):
            raise TypeError(f"not an event: {event!r} (use sl.Fail, sl.Recover, sl.ScaleOut, "
                            "sl.ScaleIn or sl.Drain)")
        if not 0 <= event.at <= duration:
            raise ValueError(f"{event!r} is outside the run: 'at' must be in [0, {duration:g}]")
        if event.at < last:
            raise ValueError(f"{event!r} is out of order: it comes after an event at t={last:g}; "
                             "list events in time order")
        last = event.at
        if isinstance(event, ScaleOut) and len(states) + event.count > MAX_INSTANCES:
            raise ValueError(f"{event!r} would make {len(states) + event.count:,} instances, more "
                             f"than a run may have ({MAX_INSTANCES:,})")
        touched = event.apply(states)
        out.append((event, touched, dict(states)))
    return out
