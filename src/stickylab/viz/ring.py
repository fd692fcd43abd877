"""The hash ring drawn: nodes' points on a circle, the arcs they own, the keys and those that moved."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from matplotlib.collections import LineCollection

from ..hashing import hash_keys
from . import inplace
from .scales import steady_top
from .style import instance_color, legend, percent_label

__all__ = ["plot_arc_shares", "plot_ring"]

_RING_SLOTS = 12      # node labels made at once: up to this many nodes, a change of nodes is an update


def _angles(hashes) -> np.ndarray:
    """Positions on the circle, in radians clockwise from the top, of 64-bit hashes."""
    return np.asarray(hashes, dtype=np.uint64).astype(np.float64) / 2.0**64 * 2 * np.pi


def _on_circle(angles, radius: float) -> np.ndarray:
    return np.column_stack([radius * np.sin(angles), radius * np.cos(angles)])


def _key_hashes(keys) -> np.ndarray:
    if keys is None:
        return np.zeros(0, dtype=np.uint64)
    if isinstance(keys, np.ndarray) and keys.dtype == np.uint64:
        return keys
    return hash_keys(list(keys))


class _Picture(NamedTuple):
    """Everything the ring picture shows, computed from the ring and the keys."""

    colours: np.ndarray         # per node
    points: np.ndarray          # (x, y) per point of the ring
    point_owner: np.ndarray     # node index per point
    segments: np.ndarray        # the circle in short arcs
    arc_owner: np.ndarray       # node index per arc
    key_xy: np.ndarray          # (x, y) per key
    key_owner: np.ndarray       # node index per key
    moved: np.ndarray           # per key: changed node
    names: list                 # per node: "n0: 4 pts, 25%"
    heading: str
    footnote: str


def _arcs(ring, arcs: int):
    grid = np.linspace(0, 2 * np.pi, arcs + 1)
    edge = _on_circle(grid, 1.0)
    middle = ((grid[:-1] + grid[1:]) / 2) / (2 * np.pi) * 2.0**64
    return np.stack([edge[:-1], edge[1:]], axis=1), ring.index_many(middle.astype(np.uint64))


def _texts(ring, nodes, moved, hashes) -> tuple[list, str, str]:
    shares = ring.arc_shares()
    counts = np.bincount(ring.owner, minlength=len(nodes))
    names = [f"{n}: {counts[k]} pts, {shares[n]:.0%}" for k, n in enumerate(nodes)]
    busiest = max(shares.values()) * len(nodes)
    heading = (f"{len(nodes)} nodes, {len(ring.points)} points; share of the circle\n"
               f"(fair {1 / len(nodes):.0%}; busiest {busiest:.2f}x fair)")
    footnote = f"o = a key that moved: {int(moved.sum())} of {len(hashes)}" if len(hashes) else ""
    return names, heading, footnote


def _picture(ring, keys, moved, arcs: int) -> _Picture:
    nodes = list(ring.nodes)
    hashes = _key_hashes(keys)
    moved = np.zeros(len(hashes), bool) if moved is None else np.asarray(moved, dtype=bool)
    if len(moved) != len(hashes):
        raise ValueError(f"moved needs one flag per key ({len(hashes)}), got {len(moved)}")
    segments, arc_owner = _arcs(ring, arcs)
    key_owner = ring.index_many(hashes) if len(hashes) else np.zeros(0, dtype=int)
    return _Picture(np.array([instance_color(k) for k in range(len(nodes))]),
                    _on_circle(_angles(ring.points), 1.0), ring.owner, segments, arc_owner,
                    _on_circle(_angles(hashes), 0.86), key_owner, moved,
                    *_texts(ring, nodes, moved, hashes))


class _Ring(NamedTuple):
    """What the ring picture keeps: arcs, points, keys, rings round moved keys, texts, node labels."""

    arc_lines: object
    dots: object
    key_dots: object
    rings: object
    top: object
    foot: object
    labels: list


def _draw_ring(ax, pic: _Picture, slots: int) -> _Ring:
    arc_lines = LineCollection(pic.segments, linewidths=7, zorder=1)
    ax.add_collection(arc_lines)
    dots = ax.scatter(pic.points[:, 0], pic.points[:, 1], s=26, edgecolors="white", linewidths=0.8,
                      zorder=3)
    key_dots = ax.scatter(pic.key_xy[:, 0], pic.key_xy[:, 1], s=14, marker="o", zorder=2)
    rings = ax.scatter(pic.key_xy[pic.moved, 0], pic.key_xy[pic.moved, 1], s=70, facecolors="none",
                       edgecolors="k", linewidths=1.2, zorder=4)
    top = ax.annotate("", (-2.35, 1.1), fontsize=8, va="top")
    labels = [ax.annotate("", (-2.3, 0.8 - 0.15 * n), fontsize=8, va="top", fontweight="bold")
              for n in range(slots)]
    ax.annotate("0", (0, 1.0), xytext=(0, 8), textcoords="offset points", ha="center", fontsize=8,
                color="0.4")
    ax.annotate("hash space,\nclockwise", (0, 0), ha="center", va="center", fontsize=8, color="0.4")
    foot = ax.annotate("", (1.2, -1.12), ha="right", fontsize=8, color="0.2")
    ax.set_xlim(-2.4, 1.2)           # the node labels sit left of the circle
    ax.set_ylim(-1.15, 1.15)
    ax.set_aspect("equal", adjustable="box")
    ax.axis("off")
    return _Ring(arc_lines, dots, key_dots, rings, top, foot, labels)


def _update_ring(kept: _Ring, pic: _Picture) -> None:
    kept.arc_lines.set_color(pic.colours[pic.arc_owner])
    kept.dots.set_offsets(pic.points)
    kept.dots.set_color(pic.colours[pic.point_owner])
    kept.dots.set_edgecolor("white")
    kept.key_dots.set_offsets(pic.key_xy)
    kept.key_dots.set_color(pic.colours[pic.key_owner] if len(pic.key_xy) else "k")
    kept.rings.set_offsets(pic.key_xy[pic.moved].reshape(-1, 2))
    kept.top.set_text(pic.heading)
    kept.foot.set_text(pic.footnote)
    for n, label in enumerate(kept.labels):
        label.set_text(pic.names[n] if n < len(pic.names) else "")
        label.set_color(pic.colours[n] if n < len(pic.names) else "k")


@inplace.redraws_in_place
def plot_ring(ax, ring, keys=None, moved=None, title: str | None = None, arcs: int = 720):
    """The hash ring: each node's points (virtual nodes) on a circle, the arcs they own, and keys.

    ``ring`` is a :class:`~stickylab.hashing.Ring` (or ``BoundedLoad``). The circle is
    the 64-bit hash space read clockwise from the top; a point of node ``n`` is a dot in
    ``n``'s colour, and the arc before it (counter-clockwise, up to the previous point) is
    coloured ``n`` too: every key hashing onto that arc goes to ``n``. ``keys`` (a
    ``uint64`` hash array, or strings) are drawn as small dots inside the circle, in their
    node's colour; ``moved`` (booleans, one per key) rings the keys that changed node.
    Beside the circle, each node's points and share of the circle (of the keys), against
    the fair share 1/N. On a dashboard's Axes everything is updated in place, nodes added
    or removed included (up to 12 nodes).
    """
    if not hasattr(ring, "points") or not hasattr(ring, "owner"):
        raise TypeError(f"plot_ring draws a hashing.Ring (or BoundedLoad), got {ring!r}")
    pic = _picture(ring, keys, moved, arcs)
    key = ("ring", len(pic.key_xy), arcs, max(_RING_SLOTS, len(pic.names)))
    kept = inplace.reuse(ax, key)
    if kept is None:
        kept = _draw_ring(ax, pic, key[-1])
        inplace.keep(ax, key, kept)
    _update_ring(kept, pic)
    ax.set_title(title or "The hash ring")
    return ax


@inplace.redraws_in_place
def plot_arc_shares(ax, ring, title: str | None = None):
    """Bars: each node's share of the ring's circle (the keys it gets) against the fair share 1/N."""
    shares = ring.arc_shares()
    nodes, values = list(shares), list(shares.values())
    key = ("arc_shares", tuple(nodes))
    kept = inplace.reuse(ax, key)
    fair = 1 / len(nodes)
    top = max(2.2 * fair, max(values) * 1.15)
    if kept is not None:
        bars, notes, _ = kept
        for bar, note, v in zip(bars, notes, values):
            bar.set_height(v)
            note.set_text(f"{v:.0%}")
            note.xy = (bar.get_x() + bar.get_width() / 2, v)
            note.set_position(note.xy)      # the text itself, not only its anchor
        ax.set_ylim(0, steady_top(ax, top, True))
        ax.set_title(title or ax.get_title())
        return ax
    bars = ax.bar(nodes, values, color=[instance_color(k) for k in range(len(nodes))])
    notes = [ax.annotate(f"{v:.0%}", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom",
                         fontsize=8) for bar, v in zip(bars, values)]
    line = ax.axhline(fair, color="k", ls="--", lw=1, label=f"fair share 1/{len(nodes)}")
    ax.set_ylim(0, steady_top(ax, top, False))
    ax.yaxis.set_major_formatter(percent_label)
    ax.set_xlabel("node")
    ax.set_ylabel("share of the keys")
    ax.set_title(title or "Each node's share")
    legend(ax, loc="upper right", fontsize=8)
    inplace.keep(ax, key, (list(bars), notes, line))
    return ax
