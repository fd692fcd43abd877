"""Output caps of the execution step: bytes per cell and per notebook, counted as output arrives.

Runs on the host, as part of :class:`~stickylab.grade.execute.SandboxedExecute` (a mixin of
nbclient's ``NotebookClient`` hooks): every output message of the learner's kernel, display
updates, metadata and errors included, is counted against the limits before it is kept;
a stream is cut to what fits, anything else past the limit is dropped and counted as cut.
Widget messages are never kept.
"""

from __future__ import annotations

import json

from traitlets import HasTraits, Integer

__all__ = ["CappedOutputs"]


class CappedOutputs(HasTraits):
    """nbclient output hooks that keep outputs within ``max_cell_output`` and ``max_notebook_output``.

    The class using it sets ``_cell_bytes``, ``_cut`` (cell index -> bytes) and
    ``_notebook_bytes`` before each notebook.
    """

    max_cell_output = Integer(64_000, help="Bytes of output kept per learner cell (a default-size "
                              "matplotlib plot is about 40 kB)").tag(config=True)
    max_notebook_output = Integer(200_000, help="Bytes of output kept per notebook").tag(config=True)

    def output(self, outs, msg, display_id, cell_index):
        """Keep an output only while the cell and the notebook are under their byte limits."""
        content = msg.get("content", {})
        if not self._room(content, cell_index, msg.get("msg_type") == "stream"):
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _room(self, content: dict, cell_index: int, stream: bool) -> bool:
        """Count ``content`` against the byte limits; False (and counted as cut) if it does not fit.

        A stream's text is cut to what fits instead.
        """
        size = _size(content)
        room = min(self.max_cell_output - self._cell_bytes.get(cell_index, 0),
                   self.max_notebook_output - self._notebook_bytes)
        if size > room:
            if stream and room > 0:
                content["text"] = content.get("text", "")[:room]
                self._cut[cell_index] = self._cut.get(cell_index, 0) + size - room
                size = room
            else:
                self._cut[cell_index] = self._cut.get(cell_index, 0) + size
                return False
        self._cell_bytes[cell_index] = self._cell_bytes.get(cell_index, 0) + size
        self._notebook_bytes += size
        return True

    def _update_display_id(self, display_id, msg):
        """An update of earlier displays: what it writes into each counts against the notebook's limit."""
        places = sum(len(ix) for ix in self._display_id_map.get(display_id, {}).values())
        size = _size(msg.get("content", {})) * places
        if self._notebook_bytes + size > self.max_notebook_output:
            self._cut[-1] = self._cut.get(-1, 0) + size
            return
        self._notebook_bytes += size
        super()._update_display_id(display_id, msg)

    def handle_comm_msg(self, outs, msg, cell_index):
        """Widget messages are not kept: a graded notebook keeps no widget state, and none can fail it."""

    def set_widgets_metadata(self):
        """No widget state in a graded notebook (see :meth:`handle_comm_msg`)."""


def _size(content: dict) -> int:
    """Bytes an output message would add to the notebook (all of it: text, data, metadata, error)."""
    try:
        return len(json.dumps(content, default=str))
    except (TypeError, ValueError, RecursionError):
        return 1 << 40          # cannot even be measured: never fits
