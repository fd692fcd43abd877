"""The one interface every router implements, in the simulator, the exercises and the live lab."""

from __future__ import annotations

from ..model import NoHealthyInstance, Pool, Request, Response

__all__ = ["Router", "pick_healthy"]


class Router:
    """Decides which instance serves a request.

    Subclasses implement :meth:`route`; :meth:`on_response` is a no-op unless the router
    needs to see the response (to set an affinity cookie, or learn the application's one).
    A router sees only what a real balancer sees: the request and the pool.
    """

    #: Short human name, shown in plots and error messages (defaults to the class name).
    name: str | None = None

    def route(self, request: Request, pool: Pool) -> str:
        """Return the id of the instance that serves ``request``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement route()")

    def on_response(self, request: Request, instance: str, response: Response) -> None:
        """Look at (and possibly add cookies to) the response ``instance`` gave to ``request``."""

    def label(self) -> str:
        """The router's display name."""
        return self.name or type(self).__name__

    def __repr__(self) -> str:
        params = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        inner = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"{type(self).__name__}({inner})"


def pick_healthy(pool: Pool) -> tuple[str, ...]:
    """The instances that may take a new session, or :class:`NoHealthyInstance` if there are none."""
    healthy = pool.healthy
    if not healthy:
        raise NoHealthyInstance("no healthy instance in the pool")
    return healthy
