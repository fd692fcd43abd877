"""Touch the ring: a consistent-hash ring the learner edits with the mouse, keys that move lit up.

Click the circle to add a node there, drag a point to move it, or switch to "remove" and
click a point to take its node off; "Start again" puts the ring back as it was made. The
browser (``static/ring_touch.js``, an anywidget module) only sends the action; Python applies
it to a :class:`~stickylab.widgets.ring_edits.RingEditor`, which computes with the package's
own ring (:mod:`stickylab.hashing`), and sends back where every point and key is, which keys
moved and the share that moved. A refused action (a place already taken, the last node) is
shown in the widget, not raised in the kernel.
"""

from __future__ import annotations

import anywidget
import traitlets

from ..viz import instance_color
from .flow import asset
from .ring_edits import RingChange, RingEditor

__all__ = ["TouchRing"]


def _fraction(h: int) -> float:
    return h / 2.0**64


class TouchRing(anywidget.AnyWidget):
    """A consistent-hash ring to act on directly: add, remove or move nodes and see which keys move.

    Args:
        nodes: nodes on the ring to begin with (``n0``, ``n1``, ...), where the ring hashes them.
        vnodes: points per node (1: a node is one point you can drag).
        keys: user keys drawn inside the circle (``mix64(0..keys-1)``).

    Attributes:
        editor: the :class:`~stickylab.widgets.ring_edits.RingEditor` the widget shows.
        picture: what the browser draws (synchronised): nodes, their points and shares, keys,
            their owners, the keys the last change moved, a summary of that change.
        error: why the last action from the browser was refused ("" if it was not).
    """

    _esm = asset("ring_touch.js")
    _css = asset("ring_touch.css")
    picture = traitlets.Dict().tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, nodes: int = 4, vnodes: int = 1, keys: int = 60):
        self.editor = RingEditor(nodes=nodes, vnodes=vnodes, keys=keys)
        self._start = {"nodes": nodes, "vnodes": vnodes, "keys": keys}
        super().__init__()
        self.on_msg(self._on_message)
        self._draw()

    # -- what Python and the browser both call ----------------------------------------------------
    def add(self, at=None, node: str | None = None) -> RingChange:
        """Add a node (see :meth:`RingEditor.add`) and redraw."""
        return self._done(self.editor.add(at=at, node=node))

    def remove(self, node: str) -> RingChange:
        """Remove ``node`` (see :meth:`RingEditor.remove`) and redraw."""
        return self._done(self.editor.remove(node))

    def move(self, node: str, to, point: int = 0) -> RingChange:
        """Move a point of ``node`` (see :meth:`RingEditor.move`) and redraw."""
        return self._done(self.editor.move(node, to, point=point))

    def reset(self) -> None:
        """Put the ring back as it was made ("Start again")."""
        self.editor = RingEditor(**self._start)
        self.error = ""
        self._draw()

    def _done(self, change: RingChange) -> RingChange:
        self.error = ""
        self._draw()
        return change

    def _on_message(self, widget, content, buffers) -> None:
        """An action from the browser: ``{"action": "add", "at": 0.25}`` and so on."""
        if not isinstance(content, dict):
            self.error = f"not an action: {content!r:.80}"
            return
        if content.get("action") == "reset":
            self.reset()
            return
        args = {k: v for k, v in content.items() if k != "action"}
        try:
            self.editor.act(content.get("action"), **args)
        except ValueError as exc:
            self.error = ""         # the same refusal twice still reaches the browser
            self.error = str(exc)
            self._draw()            # the browser put back what it moved
            return
        self._done(self.editor.last)

    # -- the picture ----------------------------------------------------------------------------------
    def _draw(self) -> None:
        editor = self.editor
        ring = editor.ring
        shares = ring.arc_shares()
        owners = ring.index_many(editor.keys).tolist() if len(editor.keys) else []
        colours = {n: instance_color(int(n[1:]) if n[1:].isdigit() else k)
                   for k, n in enumerate(editor.points)}
        self.picture = {
            "nodes": [{"id": n, "color": colours[n], "share": shares[n],
                       "points": [_fraction(p) for p in ps]} for n, ps in editor.points.items()],
            "keys": [_fraction(int(h)) for h in editor.keys],
            "owner": owners,
            "moved": [] if editor.last is None else editor.last.moved.tolist(),
            "last": None if editor.last is None else _summary(editor.last),
        }


def _summary(change: RingChange) -> dict:
    moved = int(change.moved.sum())
    went = sorted(set(change.after[change.moved].tolist()))
    return {"action": change.action, "node": change.node, "at": change.at, "moved": moved,
            "keys": len(change.moved), "share": change.share, "circle": change.circle, "to": went}
