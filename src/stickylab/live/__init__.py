"""The live lab: the same routers in a real HTTP reverse proxy, in front of real backend processes.

``import stickylab.live`` (it needs aiohttp; ``import stickylab`` alone does not)::

    import stickylab as sl
    from stickylab import live

    with live.Lab(sl.routers.CookieInsert(), instances=3, store="sqlite") as lab:
        reply = lab.send(sl.Browser(), "/login")        # a real Set-Cookie and X-Instance header
        res = lab.run(sl.Scenario(users=100, instances=3, duration=60.0, seed=1), speed=10.0)
        res.summary()                                    # the simulator's metrics, measured for real

- :mod:`~stickylab.live.backend`: one process per instance, serving an
  :class:`~stickylab.App` over HTTP with a pluggable session store.
- :mod:`~stickylab.live.stores`: memory, SQLite, Redis, and stateless JWT sessions.
- :mod:`~stickylab.live.proxy`: the reverse proxy that asks a :class:`~stickylab.Router`,
  over :mod:`~stickylab.live.http1` (HTTP/1.1 on asyncio with httptools), calling the router
  through :mod:`~stickylab.live.guard` (off the event loop, within a time budget), HTTPS
  with :mod:`~stickylab.live.tls` (certificates made for the lab).
- :mod:`~stickylab.live.lab`: starts, kills, restarts, adds and drains them; always cleans up.
- :mod:`~stickylab.live.traffic`: replays a scenario's workload with :class:`~stickylab.Browser`
  clients from their own loopback addresses, and measures a :class:`~stickylab.Result`.
- :mod:`~stickylab.live.watch`: traffic without end and a dashboard that draws it as it arrives,
  with buttons that kill, stop, restart, drain and remove backends and switch the store.
- :mod:`~stickylab.live.haproxy`: the same backends behind a real HAProxy, as the reference.
"""

from .lab import Lab, Reply
from .proxy import Proxy
from .stores import STORES, redis_available
from .traffic import drive, loopback_address, many_loopback_addresses


def __getattr__(name: str):
    """The dashboard (:mod:`~stickylab.live.watch`), imported when first asked for.

    It loads Jupyter's widgets and matplotlib, which every backend process (``python -m
    stickylab.live.backend`` imports this package) would otherwise load as it starts.
    """
    if name in ("LiveDashboard", "Traffic"):
        from . import watch

        return getattr(watch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["STORES", "Lab", "LiveDashboard", "Proxy", "Reply", "Traffic", "drive", "loopback_address",
           "many_loopback_addresses", "redis_available"]
