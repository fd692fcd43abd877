"""A hash ring a learner edits point by point: add a node, remove one, move a point; which keys move.

The ring is the package's own :class:`~stickylab.hashing.Ring`: a node's points start where the
ring hashes them (``stable_hash(f"{node}-{i}")``, ketama style), and lookups, arc shares and
the keys that move are the ring's own computations. What a learner adds is a position: a
point placed where they click or drag it, as Cassandra places a node at the token it is
given (``initial_token``, ``nodetool move``) instead of at a hash of its name.
:class:`RingEditor` keeps the points, applies one change at a time and reports it as a
:class:`RingChange`; :class:`~stickylab.widgets.ring_touch.TouchRing` draws it in the browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from .. import hashing

__all__ = ["ACTIONS", "PlacedRing", "RingChange", "RingEditor", "position"]

#: What a learner can do to the ring.
ACTIONS = ("add", "remove", "move")
_FULL = 2**64


def position(at) -> int:
    """The 64-bit ring position of ``at``, a fraction of the circle in ``[0, 1)`` clockwise from the top."""
    if isinstance(at, bool) or not isinstance(at, Real) or not (math.isfinite(at) and 0 <= at < 1):
        raise ValueError(f"a place on the ring is a fraction of the circle in [0, 1), got {at!r}")
    return min(int(float(at) * _FULL), _FULL - 1)


class PlacedRing(hashing.Ring):
    """A :class:`~stickylab.hashing.Ring` whose points sit at given positions (node id -> 64-bit positions).

    Built from the points a hashed ``Ring`` makes, it answers exactly as that ring does;
    lookups, ``index_many`` and ``arc_shares`` are the ring's own.
    """

    def __init__(self, points: dict[str, list[int]]):
        hashing.HashScheme.__init__(self, list(points))
        counts = [len(p) for p in points.values()]
        if min(counts) < 1:
            raise ValueError(f"every node needs a point on the ring: {points!r}")
        owner = np.repeat(np.arange(len(self.nodes)), counts)
        placed = np.array([p for ps in points.values() for p in ps], dtype=np.uint64)
        order = np.lexsort((owner, placed))
        self.points, self.owner = placed[order], owner[order]
        self.vnodes, self.weights = max(counts), None

    def _index(self, h: int) -> int:
        return int(self._index_many(np.array([h], dtype=np.uint64))[0])

    def __repr__(self) -> str:
        return f"PlacedRing({list(self.nodes)!r}, points={len(self.points)})"


@dataclass(frozen=True)
class RingChange:
    """One change of the ring and the keys it moved.

    Attributes:
        action: "add", "remove" or "move".
        node: the node added, removed or moved.
        at: where the point went (a fraction of the circle), for "add" with a place and "move".
        moved: per key, True if its node changed.
        before, after: per key, its node id before and after.
        circle: the share of the circle (of every possible key) whose node changed: the new
            node's arcs after an add, the removed node's before a remove, the arc a moved
            point swept. The share of the keys that moved is close to it, not equal.
    """

    action: str
    node: str
    at: float | None
    moved: np.ndarray
    before: np.ndarray
    after: np.ndarray
    circle: float

    @property
    def share(self) -> float:
        """The share of the keys that moved."""
        return float(self.moved.mean()) if len(self.moved) else 0.0


def _check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {name}={value!r}")
    return int(value)


class RingEditor:
    """A ring of ``nodes`` nodes with ``vnodes`` points each, and ``keys`` user keys on it, to edit.

    The keys are ``mix64(0..keys-1)``, the same as :func:`~stickylab.widgets.ring_dashboard`'s.
    Every change is checked before the ring changes; a refused one raises ``ValueError``
    naming what was wrong and leaves the ring as it was.
    """

    MAX_NODES = 16

    def __init__(self, nodes: int = 4, vnodes: int = 1, keys: int = 60):
        nodes = _check_int("nodes", nodes, 1, self.MAX_NODES)
        self.vnodes = _check_int("vnodes", vnodes, 1, 64)
        self.keys = hashing.mix64(np.arange(_check_int("keys", keys, 0, 2000)))
        ring = hashing.Ring([f"n{k}" for k in range(nodes)], vnodes=self.vnodes)
        self.points = {n: ring.points[ring.owner == k].tolist() for k, n in enumerate(ring.nodes)}
        self.last: RingChange | None = None

    @property
    def ring(self) -> PlacedRing:
        """The ring as it is now."""
        return PlacedRing(self.points)

    def owners(self) -> np.ndarray:
        """Per key, the node it goes to now."""
        return self.ring.lookup_many(self.keys) if len(self.keys) else np.zeros(0, dtype=str)

    def _apply(self, action: str, node: str, at, points: dict) -> RingChange:
        before_ring, after_ring = self.ring, PlacedRing(points)
        before, after = (r.lookup_many(self.keys) if len(self.keys) else np.zeros(0, dtype=str)
                         for r in (before_ring, after_ring))
        self.points = points
        self.last = RingChange(action, node, at, before != after, before, after,
                               _changed_arcs(before_ring, after_ring))
        return self.last

    def _node(self, node) -> str:
        if node not in self.points:
            raise ValueError(f"there is no node {node!r} on the ring (nodes: {', '.join(self.points)})")
        return node

    def _free(self, place: int) -> int:
        if any(place in ps for ps in self.points.values()):
            raise ValueError(f"a point already sits at {place / _FULL * 360:.2f}° on the ring: "
                             "choose another place")
        return place

    def add(self, at=None, node: str | None = None) -> RingChange:
        """Add ``node`` (default: the next free ``n<k>``) with its points where the ring hashes them.

        ``at`` (a fraction of the circle) places its first point there instead.
        """
        if node is None:
            node = next(f"n{k}" for k in range(len(self.points) + 1) if f"n{k}" not in self.points)
        if not isinstance(node, str) or not node or node in self.points:
            raise ValueError(f"a new node needs a name not on the ring yet, got node={node!r}")
        if len(self.points) >= self.MAX_NODES:
            raise ValueError(f"the ring holds at most {self.MAX_NODES} nodes: remove one first")
        hashed = hashing.Ring([node], vnodes=self.vnodes).points.tolist()
        placed = hashed if at is None else [self._free(position(at)), *sorted(hashed)[1:]]
        return self._apply("add", node, at, {**self.points, node: placed})

    def remove(self, node: str) -> RingChange:
        """Take ``node`` and its points off the ring: its keys go to the next points clockwise."""
        self._node(node)
        if len(self.points) == 1:
            raise ValueError(f"cannot remove {node!r}: it is the only node on the ring")
        return self._apply("remove", node, None, {n: p for n, p in self.points.items() if n != node})

    def move(self, node: str, to, point: int = 0) -> RingChange:
        """Move point number ``point`` of ``node`` to ``to`` (a fraction of the circle)."""
        placed = list(self.points[self._node(node)])
        point = _check_int("point", point, 0, len(placed) - 1)
        placed[point] = self._free(position(to))
        return self._apply("move", node, to, {**self.points, node: placed})

    def act(self, action: str, **args) -> RingChange:
        """One of :data:`ACTIONS` with its arguments, as the browser sends it."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}: choose from {', '.join(ACTIONS)}")
        try:
            return getattr(self, action)(**args)
        except TypeError as exc:
            raise ValueError(f"bad arguments {args!r} for {action!r}: {exc}") from None


def _changed_arcs(before: PlacedRing, after: PlacedRing) -> float:
    """The share of the circle whose node differs between two rings (from both rings' points).

    Between two consecutive points of either ring, each ring sends every hash to one node:
    the node of the arc's end point.
    """
    cuts = np.unique(np.concatenate([before.points, after.points]))
    ends = cuts.astype(np.float64)
    lengths = np.diff(ends, prepend=ends[-1] - 2.0**64)        # the arc ending at each cut
    changed = before.lookup_many(cuts) != after.lookup_many(cuts)
    return float(lengths[changed].sum() / 2.0**64)
