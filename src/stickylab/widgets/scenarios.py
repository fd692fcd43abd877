"""A dashboard over one scenario: knobs change its fields and the routers' options; runs are cached.

A seeded scenario always gives the same run, so a dashboard reruns only what a control
changed, and a router only when a knob it takes changed; the last runs are kept in a
:func:`functools.lru_cache` (a knob often goes back and forth).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence

from .. import events as ev
from .. import viz
from ..engine import simulate
from ..routers import Router, make
from ..scenario import Scenario
from .controls import picker
from .dashboard import Dashboard
from .panels import panel

__all__ = ["MS_SUFFIX", "RUNS_KEPT", "scenario_dashboard"]

#: A knob named ``<field>_ms`` sets Scenario field ``<field>`` (seconds) from milliseconds.
MS_SUFFIX = "_ms"
#: How many runs a dashboard keeps for when a knob comes back to a value it had.
RUNS_KEPT = 16


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


def _scenario_changes(values: Mapping, fields: set) -> dict:
    changes = {}
    for name, value in values.items():
        if name in fields:
            changes[name] = value
        elif name.endswith(MS_SUFFIX) and name[: -len(MS_SUFFIX)] in fields:
            changes[name[: -len(MS_SUFFIX)]] = value / 1000.0
    return changes


def _is_field(name: str, fields: set) -> bool:
    return name in fields or (name.endswith(MS_SUFFIX) and name[: -len(MS_SUFFIX)] in fields)


def _runner(scenario: Scenario, routers: dict, choose: bool) -> Callable:
    """``run(router=None, events=None, **values)``: the runs of the routers chosen, cached."""
    fields = set(scenario.as_dict())
    takes = {label: _accepted(factory) for label, factory in routers.items()}

    @functools.lru_cache(maxsize=RUNS_KEPT)
    def simulated(sc, label, mine, events):
        return simulate(sc, _build_router(routers[label], dict(mine)), events=list(events) or None)

    def one(sc, label, options, events):
        if label not in routers:
            raise ValueError(f"unknown router {label!r}; choose from {', '.join(map(repr, routers))}")
        mine = tuple(sorted((k, v) for k, v in options.items() if k in takes[label]))
        try:
            hash((sc, mine, tuple(events or ())))
        except TypeError:                   # an unhashable knob value: no caching
            return simulate(sc, _build_router(routers[label], dict(mine)), events=events)
        return simulated(sc, label, mine, tuple(events or ()))

    def run(router=None, events=None, **values):
        sc = scenario.replace(**_scenario_changes(values, fields))
        options = {k: v for k, v in values.items() if not _is_field(k, fields)}
        chosen = [router] if choose else list(routers)
        return {label: one(sc, label, options, events) for label in chosen}
    return run


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
    controls = {"router": picker("router", list(routers))} if choose else {}
    controls.update(knobs or {})
    if panels is None:
        panels = [panel(viz.plot_losses_over_time, which=None), panel(viz.plot_instance_load)]
    options.setdefault("instances", scenario.instances)
    options.setdefault("duration", scenario.duration)
    return Dashboard(_runner(scenario, routers, choose), panels, controls, events=events, **options)
