"""Lesson 10's dashboards: keys that move when nodes change, the ring drawn, consistent hashing simulated."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from .. import events as ev
from .. import hashing, viz
from ..routers import ConsistentHash, CookieInsert, HeaderHash
from ..scenario import Scenario
from .controls import float_slider, int_slider, picker
from .dashboard import Dashboard
from .panels import Panel, panel
from .scenarios import scenario_dashboard

__all__ = ["CHANGES", "HASH_SCHEMES", "USER_KEY", "consistent_hash_dashboard", "hashing_dashboard",
           "key_movement", "node_of_each_key", "ring_dashboard"]

#: The hashing schemes compared in the course, with the options real balancers use.
HASH_SCHEMES = {"mod N": ("modn", {}), "ring": ("ring", {}), "rendezvous": ("rendezvous", {}),
                "jump": ("jump", {}), "maglev": ("maglev", {"table_size": 65537})}
#: The changes of node set :func:`key_movement` measures.
CHANGES = ("add a node", "remove the last node", "remove the first node")
#: The request key the consistent-hash dashboard hashes (as lesson 10 does): the user id header.
USER_KEY = "header:X-User-Id"


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
def node_of_each_key(scheme: str, nodes: tuple, options: tuple, keys: int) -> np.ndarray:
    """Per key ``0..keys-1``, the position of its node in ``nodes``, remembered (read-only).

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
        before = node_of_each_key(scheme, tuple(before_ids), options, keys)
        after = node_of_each_key(scheme, tuple(after_ids), options, keys)
        moved[label] = float(np.mean(before != same[after]))
        busiest[label] = float(np.bincount(before).max() / keys * nodes)
    least = 1 / len(after_ids) if change == "add a node" else 1 / nodes
    return {"moved": moved, "busiest": busiest, "least": least}


def hashing_dashboard(keys: int = 50_000) -> Dashboard:
    """Key movement and balance of mod-N and consistent hashing, as the node count changes."""
    @functools.lru_cache(maxsize=16)
    def measured(nodes, change, vnodes):
        return key_movement(nodes, change, keys=keys, vnodes=vnodes)

    def run(nodes, change, vnodes):
        found = measured(nodes, change, vnodes)
        return {k: dict(v) if isinstance(v, dict) else v for k, v in found.items()}

    def moved(ax, r):
        viz.plot_key_movement(ax, list(r["moved"]), list(r["moved"].values()),
                              ideal=[r["least"]] * len(r["moved"]))

    def balance(ax, r):
        viz.plot_key_balance(ax, list(r["busiest"]), list(r["busiest"].values()))

    controls = {"nodes": int_slider("nodes before", 4, 1, 30),
                "change": picker("change", CHANGES),
                "vnodes": int_slider("ring points per node", 160, 1, 500)}
    # each panel is one viz plot that updates in place
    return Dashboard(run, [Panel(moved, in_place=True), Panel(balance, in_place=True)], controls,
                     summary=False)


def _ring_runner():
    """``run(nodes, vnodes, keys)``: the ring, the keys' hashes, and which keys moved since the last run."""
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
    return run


def ring_dashboard(nodes: int = 4, vnodes: int = 4, keys: int = 60) -> Dashboard:
    """The hash ring drawn: nodes' points on a circle, the arcs they own, keys, and the keys that moved.

    Move "nodes" to add or remove a node (the last one) and watch which keys change node:
    only those on the arcs the change hands over. "points per node" shows why real
    balancers use many points: with few, the arcs (and the keys) are shared unevenly.
    """
    for name, value, low in (("nodes", nodes, 1), ("vnodes", vnodes, 1), ("keys", keys, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {name}={value!r}")

    def circle(ax, r):
        viz.plot_ring(ax, r["ring"], r["keys"], r["moved"])

    controls = {"nodes": int_slider("nodes", nodes, 1, 12),
                "vnodes": int_slider("points per node", vnodes, 1, 64),
                "keys": int_slider("keys", keys, 0, 300, 10)}
    return Dashboard(_ring_runner(), [Panel(circle, in_place=True)], controls, summary=False, width=8.0,
                     height=4.4, ghost=False)


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
