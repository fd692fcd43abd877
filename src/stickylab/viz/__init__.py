"""Plots of simulation results: one idea per Axes, labelled, with units.

Every function draws on a Matplotlib ``Axes`` it is given and returns it, so a notebook
can lay figures out as it likes and a dashboard can redraw the same figure again and
again. Nothing here imports Jupyter; :mod:`stickylab.widgets` builds the controls on top.

Functions that compare routers take ``results``: a :class:`~stickylab.Result`, or a
dict ``{label: Result}`` (drawn in order, one colour each). Most also take a ``baseline``
(another run, or dict of runs) and draw it faintly, dashed on lines and as a black dash on
bars, so two runs compare at a glance. One meaning per label: "requests that lost their
session" counts requests, not users (a user can be logged out more than once); latency is
in milliseconds; log axes are ticked in plain numbers.

The modules, one concept each: :mod:`~stickylab.viz.style` (figure, colours, legends) and
:mod:`~stickylab.viz.scales` (axis tops and ticks); :mod:`~stickylab.viz.inplace` (the
contract by which a dashboard's plots update in place); :mod:`~stickylab.viz.baselines`
(ghosts of another run); the plots of load (:mod:`~stickylab.viz.load`), of time
(:mod:`~stickylab.viz.timelines`), of requests (:mod:`~stickylab.viz.requests`,
:mod:`~stickylab.viz.tables`), of metrics (:mod:`~stickylab.viz.metric`,
:mod:`~stickylab.viz.latency`, :mod:`~stickylab.viz.sweep`) and of hashing
(:mod:`~stickylab.viz.keys`, :mod:`~stickylab.viz.ring`); and
:mod:`~stickylab.viz.render`, which turns a figure into PNG frames.
"""

from .keys import plot_key_balance, plot_key_movement
from .latency import plot_latency_cdf
from .load import plot_instance_load, plot_per_instance, plot_users_per_instance
from .metric import METRIC_LABELS, metric_value, plot_metric, users_logged_out
from .requests import plot_request_sequence, row_labels
from .ring import plot_arc_shares, plot_ring
from .runs import as_results
from .scales import nice_ceiling, same_scale
from .style import figure, instance_color, router_color
from .sweep import plot_sweep
from .tables import plot_affinity_table, plot_routing_log, plot_table
from .timelines import (BASELINE_ZERO, LOSS_LABELS, mark_events, plot_hit_rate_over_time,
                        plot_load_over_time, plot_losses_over_time)

__all__ = [
    "BASELINE_ZERO", "LOSS_LABELS", "METRIC_LABELS", "as_results", "figure", "instance_color",
    "mark_events", "metric_value", "nice_ceiling", "plot_affinity_table", "plot_arc_shares",
    "plot_hit_rate_over_time", "plot_instance_load", "plot_key_balance", "plot_key_movement",
    "plot_latency_cdf", "plot_load_over_time", "plot_losses_over_time", "plot_metric",
    "plot_per_instance", "plot_request_sequence", "plot_ring", "plot_routing_log", "plot_sweep",
    "plot_table", "plot_users_per_instance", "router_color", "row_labels", "same_scale",
    "users_logged_out",
]
