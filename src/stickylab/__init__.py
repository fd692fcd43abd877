"""StickyLab: sticky sessions and session affinity, simulated, measured and graded.

``import stickylab as sl`` gives the whole public API::

    sc = sl.Scenario(users=2000, instances=4, duration=600.0, seed=7)
    res = sl.simulate(sc, sl.routers.CookieInsert(), events=[sl.Fail("i1", at=300.0)])
    res.summary()
"""

from . import hashing, routers
from .app import App, Apps
from .browser import Browser
from .engine import RouterError, simulate
from .events import Drain, Event, Fail, Recover, ScaleIn, ScaleOut
from .metrics import Result
from .model import Cookie, Cookies, Headers, NoHealthyInstance, Pool, Request, Response
from .routers import Router
from .scenario import Scenario
from .workload import Workload, generate

__all__ = [
    "App", "Apps", "Browser", "Cookie", "Cookies", "Drain", "Event", "Fail", "Headers",
    "NoHealthyInstance", "Pool", "Recover", "Request", "Response", "Result", "Router", "RouterError",
    "ScaleIn", "ScaleOut", "Scenario", "Workload", "generate", "hashing", "routers", "simulate",
]

__version__ = "0.1.0"
