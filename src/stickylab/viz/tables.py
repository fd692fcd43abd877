"""Small tables drawn as plots: a balancer's mapping table, the requests routed, the steppers' logs."""

from __future__ import annotations

from collections.abc import Sequence

from . import inplace
from .style import colour_of

__all__ = ["TABLE_FONTSIZE", "plot_affinity_table", "plot_routing_log", "plot_table"]

#: Points: about 15 px at the figures' 80 dpi, readable when a notebook scales a wide figure down.
TABLE_FONTSIZE = 11


def _check_rows(max_rows) -> None:
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ValueError(f"max_rows must be a positive integer, got max_rows={max_rows!r}")


def _draw_table(ax, header, rows, colours, title, max_rows):
    """A table of ``max_rows`` rows under ``header``, the unused ones hidden; updated in place when live.

    Every cell exists from the first draw, so a dashboard or stepper changes texts and
    colours instead of building a new table per step.
    """
    key = ("table", tuple(header), max_rows)
    table = inplace.reuse(ax, key)
    if table is None:
        ax.axis("off")
        blank = [[""] * len(header) for _ in range(max_rows)]
        table = ax.table(cellText=blank, colLabels=header, loc="upper left", cellLoc="left")
        table.auto_set_font_size(False)
        table.set_fontsize(TABLE_FONTSIZE)
        table.scale(1, 1.35)            # rows tall enough for the font (they are made for 10 pt)
        inplace.keep(ax, key, table)
    cells = table.get_celld()
    for r in range(1, max_rows + 1):
        shown = r <= len(rows)
        for c in range(len(header)):
            cell = cells[(r, c)]
            cell.set_visible(shown)
            cell.get_text().set_text(rows[r - 1][c] if shown else "")
            cell.set_facecolor(colours[r - 1][c] if shown else "white")
    for c in range(len(header)):
        cells[(0, c)].set_visible(bool(rows))
    table.auto_set_column_width(list(range(len(header))))     # widths follow the texts at draw
    ax.set_title(title)
    return table


@inplace.redraws_in_place
def plot_affinity_table(ax, table, pool_ids: Sequence[str], max_rows: int = 12):
    """A balancer's mapping table (key -> instance) drawn as a table, oldest entry first.

    ``table`` is an :class:`~stickylab.routers.AffinityTable` (the ``.table`` of a
    ``StickTable`` or ``AppCookieLearn``) or a ``{key: instance}`` dict; ``pool_ids`` fixes
    the instance colours.
    """
    _check_rows(max_rows)
    snap = table.snapshot() if hasattr(table, "snapshot") else dict(table)
    rows = [[str(k), v] for k, v in list(snap.items())[:max_rows]]
    colours = [["white", colour_of(v, pool_ids)] for _, v in rows]
    more = f" (first {max_rows} shown)" if len(snap) > max_rows else ""
    _draw_table(ax, ["key", "instance"], rows, colours,
                f"Mapping table: {len(snap)} entr{'y' if len(snap) == 1 else 'ies'}{more}", max_rows)
    return ax


@inplace.redraws_in_place
def plot_routing_log(ax, log: Sequence[tuple], pool_ids: Sequence[str], max_rows: int = 12):
    """The last requests routed by hand, as a table: time, client address, instance chosen.

    ``log`` holds ``(request, instance)`` pairs in the order they were routed.
    """
    _check_rows(max_rows)
    shown = list(log)[-max_rows:]
    rows = [[f"{req.time:g} s", req.client_ip, iid] for req, iid in shown]
    colours = [["white", "white", colour_of(iid, pool_ids)] for _, iid in shown]
    _draw_table(ax, ["time", "client address", "sent to"], rows, colours,
                f"Requests routed: {len(log)}", max_rows)
    return ax


@inplace.redraws_in_place
def plot_table(ax, header: Sequence[str], rows: Sequence[Sequence[str]], title: str,
               colours: Sequence[Sequence[str]] | None = None, max_rows: int = 12):
    """Any small table (the steppers' exchange logs): the last ``max_rows`` rows under ``header``.

    ``colours`` gives each cell's background (default white); on a live Axes the cells are
    updated in place.
    """
    _check_rows(max_rows)
    rows = [[str(v) for v in row] for row in rows][-max_rows:]
    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"every row needs {len(header)} cells (one per header), got {rows!r}")
    colours = (list(colours)[-max_rows:] if colours is not None
               else [["white"] * len(header) for _ in rows])
    _draw_table(ax, list(header), rows, colours, title, max_rows)
    return ax
