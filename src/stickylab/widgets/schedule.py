"""The events a learner schedules on a dashboard, as a model of its own: no widgets, no drawing.

A schedule holds *actions*, ``(kind, time, instance or None)`` with kind one of "fail",
"drain", "remove", "recover" and "add", and one failure-detection delay. :meth:`Schedule.events`
turns them into valid simulator events for a run that starts with a given number of
instances; an action that does not fit is refused when it is added, naming the instance
and its state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Real

from .. import events as ev

__all__ = ["AUTO", "Schedule", "describe_change", "events_text"]

#: Dashboard actions and the event each makes; an event's ``needs`` says which states an instance may be in.
ACTIONS = {"fail": ev.Fail, "drain": ev.Drain, "remove": ev.ScaleIn, "recover": ev.Recover}
_KINDS = {ev.Fail: "fail", ev.Drain: "drain", ev.ScaleIn: "remove", ev.Recover: "recover"}
_VERBS = {ev.Fail: "fails", ev.Drain: "drains", ev.ScaleIn: "removed", ev.Recover: "recovers"}
#: The instance picker's "whichever instance applies first".
AUTO = "lowest-numbered"


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


class Schedule:
    """Scheduled actions over a run of ``duration`` seconds, opening with ``events`` (simulator events).

    One detection delay applies to every failure (from ``events``: the last ``Fail``'s ``detect``).
    """

    def __init__(self, duration: float, events: Sequence[ev.Event] = ()):
        self.duration = duration
        #: The scheduled actions: ``(kind, time, instance or None)``.
        self.actions: list[tuple[str, float, str | None]]
        self.actions, self.detect = _actions_from(list(events))

    def events(self, instances: int) -> list[ev.Event]:
        """The actions, in time order, as valid simulator events for a run starting with ``instances``.

        An action naming no instance takes the lowest-numbered instance it applies to at
        that time (a healthy one to fail or drain, a failed or draining one to recover, any
        live one to remove) and is skipped when there is none; "add" scales out by one.
        An action naming an instance that is not in a state it applies to is a ValueError
        that names the instance and its state.
        """
        states = {f"i{k}": ev.HEALTHY for k in range(instances)}
        out: list[ev.Event] = []
        for kind, at, iid in sorted(self.actions, key=lambda a: a[1]):
            if kind == "add":
                event = ev.ScaleOut(at=at)
            else:
                cls = ACTIONS[kind]
                if iid is None:
                    fits = [i for i, state in states.items() if state in cls.needs]
                    if not fits:
                        continue
                    iid = fits[0]
                event = self._fail(iid, at) if kind == "fail" else cls(iid, at=at)
            event.apply(states)
            out.append(event)
        return out

    def _fail(self, iid: str, at: float) -> ev.Fail:
        if self.detect:
            return ev.Fail(iid, at=at, detect=self.detect)
        return ev.Fail(iid, at=at)

    def add(self, kind: str, at: float, instance: str | None, instances: int) -> None:
        """Schedule ``kind`` at ``at`` on ``instance`` (None: the lowest-numbered that fits).

        Refused (a TypeError or ValueError, the schedule unchanged) when ``instance`` is not
        an instance id, ``at`` is not a time of the run, or the action does not fit.
        """
        if instance is not None and not isinstance(instance, str):
            raise TypeError(f"instance must be an instance id such as 'i1', got instance={instance!r}")
        self.actions.append((kind, self.check_time(at), instance))
        try:
            self.events(instances)
        except ValueError:
            self.actions.pop()
            raise

    def clear(self) -> None:
        """Forget every action."""
        self.actions.clear()

    def check_time(self, at) -> float:
        """``at`` as a float, if it is a time of the run (a ValueError otherwise)."""
        if isinstance(at, bool) or not isinstance(at, Real) or not 0 <= at <= self.duration:
            raise ValueError(f"at must be a time in [0, {self.duration:g}] seconds, got at={at!r}")
        return float(at)

    @staticmethod
    def check_detect(seconds) -> None:
        """A ValueError unless ``seconds`` is a detection delay: a number of seconds >= 0."""
        if isinstance(seconds, bool) or not isinstance(seconds, Real) or not 0 <= seconds < 1e6:
            raise ValueError(f"detect must be a number of seconds >= 0, got detect={seconds!r}")

    def instance_options(self, instances: int) -> list[str]:
        """What an instance picker offers: :data:`AUTO`, then every instance the run can have."""
        count = instances + sum(kind == "add" for kind, _, _ in self.actions)
        return [AUTO] + [f"i{k}" for k in range(count)]


def describe_change(before: Mapping, after: Mapping) -> str:
    """What changed between two runs' settings: ``users 200 → 300, events none → i1 fails at 60 s``."""
    changed = [f"{k} {before[k]!r} → {after[k]!r}" for k in after
               if k in before and k != "events" and before[k] != after[k]]
    if before.get("events") != after.get("events"):
        changed.append(f"events {events_text(before.get('events'))} → {events_text(after.get('events'))}")
    return ", ".join(changed)


def events_text(events) -> str:
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
