"""Interactive dashboards for the course: ipywidgets controls driving :mod:`stickylab.viz` plots.

A :class:`Dashboard` owns one Matplotlib figure, made once and redrawn in place. Every
control change calls :meth:`Dashboard.update`, which runs the experiment again with the
controls' values and redraws the figure; a test or a benchmark calls the same method.
The figure is rendered to PNG into an ``ipywidgets.Image``, so the dashboard works the
same under any Matplotlib backend, and headless.

A dashboard compares: the run before the last change (or a pinned one) is drawn as a
faint baseline and listed under the current numbers. Its event controls fail, drain,
remove, recover or add the instance the learner picks, with a failure-detection delay.
:func:`scenario_dashboard` builds one over a :class:`~stickylab.Scenario`;
:func:`consistent_hash_dashboard`, :func:`hashing_dashboard` and :func:`ring_dashboard`
are lesson 10's. The steppers (:class:`Stepper`, :class:`CookieStepper`,
:class:`IPHashStepper`) route prepared requests one click at a time.

The modules: :mod:`~stickylab.widgets.controls` (sliders, pickers),
:mod:`~stickylab.widgets.panels` (what draws on each Axes), :mod:`~stickylab.widgets.summary`
(the table of numbers), :mod:`~stickylab.widgets.schedule` (the events scheduled, a model
without widgets) and :mod:`~stickylab.widgets.event_controls` (its buttons),
:mod:`~stickylab.widgets.comparison` (the run and its baseline), :mod:`~stickylab.widgets.dashboard`,
:mod:`~stickylab.widgets.scenarios`, :mod:`~stickylab.widgets.hash_dashboards`,
:mod:`~stickylab.widgets.steppers` and :mod:`~stickylab.widgets.progress`.

Two views are anywidget modules, drawn by JavaScript shipped in ``static/``:
:class:`FlowView` (:mod:`~stickylab.widgets.flow`, its data from
:mod:`~stickylab.widgets.flow_data`) plays a run's requests as moving dots;
:class:`TouchRing` (:mod:`~stickylab.widgets.ring_touch`, its ring a :class:`RingEditor`) is a hash
ring the learner edits with the mouse.
"""

from .controls import float_slider, int_slider, picker
from .dashboard import Dashboard
from .flow import FlowView
from .flow_data import FlowFrames as FlowFrames
from .flow_data import flow_frames
from .ring_edits import RingEditor
from .ring_touch import TouchRing
from .hash_dashboards import CHANGES as CHANGES
from .hash_dashboards import HASH_SCHEMES as HASH_SCHEMES
from .hash_dashboards import USER_KEY as USER_KEY
from .hash_dashboards import consistent_hash_dashboard, hashing_dashboard, key_movement, ring_dashboard
from .panels import Panel as Panel
from .panels import panel
from .scenarios import MS_SUFFIX as MS_SUFFIX
from .scenarios import scenario_dashboard
from .schedule import AUTO as AUTO
from .steppers import DEMO_SECRET as DEMO_SECRET
from .steppers import CookieStepper, IPHashStepper, Stepper
from .summary import summary_html, users_logged_out
from .progress import sweep

__all__ = [
    "CookieStepper", "Dashboard", "FlowView", "IPHashStepper", "RingEditor", "Stepper", "TouchRing",
    "consistent_hash_dashboard", "float_slider", "flow_frames", "hashing_dashboard", "int_slider",
    "key_movement", "panel", "picker", "ring_dashboard", "scenario_dashboard", "summary_html", "sweep",
    "users_logged_out",
]
