"""How every plot looks: the figure, the colours of instances and routers, legends, tick labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["colour_of", "count_label", "figure", "instance_color", "legend", "percent_label",
           "router_color"]

_INSTANCE_PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3",
                     "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD")
_ROUTER_PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")


def figure(nrows: int = 1, ncols: int = 1, width: float = 10.0, height: float = 3.4,
           dpi: int = 80, width_ratios: Sequence[float] | None = None) -> tuple[Figure, np.ndarray]:
    """A figure made without pyplot (no global state, nothing shown by itself) and its axes.

    The margins are fixed rather than computed on every draw, and the figure keeps one Agg
    canvas, which keeps a redraw fast. ``width_ratios`` sets the columns' relative widths.
    """
    fig = Figure(figsize=(width, height * nrows), dpi=dpi)
    FigureCanvasAgg(fig)            # one canvas for the figure's life: redraws reuse it
    axes = fig.subplots(nrows, ncols, squeeze=False,
                        gridspec_kw=None if width_ratios is None else {"width_ratios": list(width_ratios)})
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.17 / nrows, top=1 - 0.12 / nrows,
                        wspace=0.28, hspace=0.55)
    return fig, axes.ravel()


def instance_color(index: int) -> str:
    """The colour of instance ``i<index>`` in every plot."""
    return _INSTANCE_PALETTE[index % len(_INSTANCE_PALETTE)]


def router_color(index: int) -> str:
    """The colour of the ``index``-th compared router or setting."""
    return _ROUTER_PALETTE[index % len(_ROUTER_PALETTE)]


def colour_of(iid: str, pool_ids: Sequence[str]) -> str:
    """The colour of instance ``iid`` by its place in ``pool_ids`` (a table cell's), white if absent."""
    ids = list(pool_ids)
    return instance_color(ids.index(iid)) if iid in ids else "white"


def legend(ax, **options):
    """A legend in an opaque, square box: it hides what lies under it, exactly.

    So a dashboard can keep the legend's pixels from one full draw and paste them back
    over new data (see :mod:`stickylab.viz.render`).
    """
    return ax.legend(**{"framealpha": 1.0, "fancybox": False, **options})


def count_label(value: float, _=None) -> str:
    """A count for a tick label, short enough for a fixed margin: ``800``, ``5000``, ``12k``."""
    return f"{value / 1000:g}k" if abs(value) >= 10_000 else f"{value:g}"


def percent_label(value: float, _=None) -> str:
    """A share for a tick label: ``40%``."""
    return f"{value:.0%}"
