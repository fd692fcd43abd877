"""Figures to PNG frames, fast: the one module that relies on Matplotlib's internals.

A dashboard shows its figure as PNG bytes. :class:`FrameRenderer` makes each frame, and
when only the data moved it redraws only the data (Matplotlib's blitting): the figure's
background (frame, ticks, labels) is restored from the last full draw, the plots' data
artists are drawn over it, and each legend's pixels from that draw are pasted back.

What it relies on beyond Matplotlib's documented API, pinned by ``tests/viz/test_viz_render.py``:

- ``Axes._left_title`` and ``Axes._right_title``, the Axes' two side titles, are among
  its children and belong to its frame (there is no public accessor);
- ``Legend._loc`` is ``0`` for ``loc="best"`` (a legend that moves with the data) and a
  fixed code otherwise;
- an artist ``set_animated(True)`` is skipped by ``canvas.draw()``;
- ``canvas.copy_from_bbox`` / ``restore_region`` and ``canvas.buffer_rgba()`` of the Agg
  canvas.
"""

from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.patches import BoxStyle
from matplotlib.transforms import Bbox
from PIL import Image

from . import inplace

__all__ = ["FrameRenderer", "encode", "frame_artists", "png"]


def encode(canvas) -> bytes:
    """What the canvas holds, as PNG bytes.

    zlib's fastest level: a dashboard's flat colours compress almost as well as at the
    default level 6, in half the time.
    """
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(canvas.buffer_rgba())).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def png(fig: Figure) -> bytes:
    """The whole figure drawn on its own Agg canvas, as PNG bytes."""
    fig.canvas.draw()
    return encode(fig.canvas)


def frame_artists(ax) -> list:
    """The artists of ``ax``'s frame: background, axes, the three titles, spines."""
    return [ax.patch, ax.xaxis, ax.yaxis, ax.title, ax._left_title, ax._right_title,
            *ax.spines.values()]


def _fixed_place(artist) -> bool:
    """True for a legend whose pixels can be pasted back: opaque, square, not placed "best"."""
    return (isinstance(artist, Legend) and artist._loc != 0 and artist.get_frame().get_alpha() == 1.0
            and isinstance(artist.get_frame().get_boxstyle(), BoxStyle.Square))


def _outer(box) -> Bbox:
    """``box`` grown to whole pixels plus one: a legend's frame line, antialiased, reaches that far."""
    return Bbox.from_extents(math.floor(box.x0) - 1, math.floor(box.y0) - 1, math.ceil(box.x1) + 1,
                             math.ceil(box.y1) + 1)


def _fixed_ticks(axis) -> tuple:
    """Tick labels set by hand (not computed from the limits), for the redraw check."""
    formatter = axis.get_major_formatter()
    return tuple(getattr(formatter, "seq", ()))


class FrameRenderer:
    """PNG frames of one figure whose ``axes`` are redrawn in place, drawing only what moved.

    Args:
        fig: the figure, with its own Agg canvas (:func:`stickylab.viz.figure` makes one).
        axes: the Axes the plots draw on (the figure's others are hidden).
    """

    def __init__(self, fig: Figure, axes):
        self.fig, self.axes = fig, list(axes)
        self._background = self._signature = None
        self._legend_pixels: dict = {}

    def frame(self) -> bytes:
        """The figure as PNG bytes, redrawing only the data when nothing else changed.

        When every Axes holds a drawing kept in place (:mod:`stickylab.viz.inplace`) and no
        axis limits, ticks, titles, scales or legend texts moved since the last full draw,
        the background is restored, the data artists drawn, and the legends' saved pixels
        pasted over them (the plots' legends are opaque boxes, so their pixels do not depend
        on the data under them). Otherwise the whole figure is drawn. The plots keep their
        axis limits at round numbers while the data fits, so most updates take the short path.
        """
        drawings = [inplace.drawing(ax) for ax in self.axes]
        if any(d is None for d in drawings):
            self._background = None
            return png(self.fig)
        front, legends = self._layers()
        signature = self._signature_of(drawings, legends)
        canvas = self.fig.canvas
        if self._background is not None and signature == self._signature:
            canvas.restore_region(self._background)
            self._draw_front(canvas.get_renderer(), front, legends, self._legend_pixels)
            return encode(canvas)
        self._draw_all(front, legends, signature)
        return encode(canvas)

    def _draw_all(self, front, legends, signature) -> None:
        """Draw the background alone and keep it, then the data and legends, keeping the legends' pixels."""
        canvas = self.fig.canvas
        for a in front + legends:
            a.set_animated(True)
        try:
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._signature = signature
        finally:
            for a in front + legends:
                a.set_animated(False)       # a plain savefig of the figure draws them all
        renderer = canvas.get_renderer()
        self._draw_front(renderer, front, legends, None)
        self._legend_pixels = {id(legend): canvas.copy_from_bbox(_outer(legend.get_window_extent(renderer)))
                               for legend in legends}

    def _draw_front(self, renderer, front, legends, pixels) -> None:
        """Draw the data artists in z order, legends as saved ``pixels`` (or drawn, when None)."""
        canvas = self.fig.canvas
        for a in sorted(front + legends, key=lambda a: a.get_zorder()):
            if not a.get_visible():
                continue
            if pixels is not None and id(a) in pixels:
                canvas.restore_region(pixels[id(a)])
            else:
                a.draw(renderer)

    def _layers(self) -> tuple[list, list]:
        """The artists the plots update (drawn on every update) and their fixed-place legends."""
        front, legends = [], []
        for ax in self.axes:        # what the plots drew; the frame, ticks and titles stay behind
            frame = {id(a) for a in frame_artists(ax)}
            for a in ax.get_children():
                if id(a) in frame:
                    continue
                (legends if _fixed_place(a) else front).append(a)
        return front, legends

    def _signature_of(self, drawings, legends) -> tuple:
        """What the background and the legends' saved pixels depend on."""
        return (tuple(self.fig.get_size_inches()), self.fig.dpi, tuple(
            (d.key, ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(),
             ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), _fixed_ticks(ax.xaxis),
             _fixed_ticks(ax.yaxis)) for ax, d in zip(self.axes, drawings)),
            tuple((id(legend), tuple(t.get_text() for t in legend.get_texts())) for legend in legends))
