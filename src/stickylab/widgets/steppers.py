"""Routing by hand: prepared requests sent through a router one click at a time, the exchange shown as tables.

:class:`Stepper` shows the requests routed beside the router's affinity table;
:class:`CookieStepper` the cookies each request carries and each response sets;
:class:`IPHashStepper` the arithmetic of IP hashing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

import ipywidgets as w

from .. import hashing, viz
from ..app import Apps
from ..browser import Browser
from ..model import Headers, Pool, Request, Response
from ..routers import AffinityTable, CookieInsert, Router, SourceIPHash, nginx_ip_hash
from ..viz import inplace
from ..viz.render import png
from ..viz.style import colour_of
from .controls import STYLE

__all__ = ["DEMO_SECRET", "CookieStepper", "IPHashStepper", "Stepper"]


class Stepper:
    """Send prepared requests through a router one at a time and watch its mapping table grow.

    Each prepared request is sent by its client (one :class:`~stickylab.browser.Browser`
    per address, so it carries the cookies its client was given) to the instance the
    router picks, whose application (an :class:`~stickylab.app.App`) answers: it starts a
    session and sets its session cookie for a client without one. The router sees that
    response, as a balancer would, and the client keeps the cookies it sets. A prepared
    request's own cookies go into its client's jar first. Each :meth:`step` updates the
    log of requests beside the router's affinity table (a ``StickTable``'s or an
    ``AppCookieLearn``'s; routers without one, such as the hashing routers, show the log)
    in place. :meth:`fail` takes an instance down between steps.
    """

    #: The log table's columns (subclasses show other views of the same exchange).
    columns: tuple[str, ...] = ("time", "client address", "sent to")
    #: The log table's title; ``{n}`` is the number of requests sent.
    log_title = "Requests routed: {n}"
    #: Relative widths of the log and the side view.
    width_ratios: tuple[float, float] = (1.0, 1.0)
    #: True to put the side view under the log (a wide log), each ``size[1]`` inches high.
    stacked = False
    #: The figure's width and each row's height, in inches (at 80 dpi: 800 px wide, about what
    #: a notebook shows unscaled, so the tables' text stays readable).
    size: tuple[float, float] = (10.0, 3.6)

    def __init__(self, router: Router, requests: Sequence[Request], pool: Pool, *, max_rows: int = 12):
        if not isinstance(router, Router):
            raise TypeError(f"router must be a stickylab Router, got {router!r}")
        if not isinstance(pool, Pool):
            raise TypeError(f"pool must be a stickylab Pool, got {pool!r}")
        self.requests = list(requests)
        if not all(isinstance(r, Request) for r in self.requests):
            raise TypeError("requests must be stickylab Request objects")
        if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
            raise ValueError(f"max_rows must be a positive integer, got max_rows={max_rows!r}")
        self.router, self.pool, self.max_rows = router, pool, max_rows
        self.browsers: dict[str, Browser] = {}
        self.apps = Apps()
        #: ``(request, instance)`` per request sent, in order.
        self.log: list[tuple[Request, str]] = []
        #: The response each request got (the application's cookies and the router's).
        self.responses: list[Response] = []
        shape = (2, 1) if self.stacked else (1, 2)
        self.fig, axes = viz.figure(*shape, width=self.size[0], height=self.size[1],
                                    width_ratios=None if self.stacked else self.width_ratios)
        self.axes = list(axes)
        self.live = inplace.LiveAxes(self.axes)     # the tables are updated in place, step after step
        self.image = w.Image(format="png", layout={"max_width": "100%"})
        self.button = w.Button(description="Send the next request", icon="play")
        self.button.on_click(lambda _: self.step())
        self.victim = w.Dropdown(options=list(pool.healthy), description="instance", style=STYLE,
                                 layout={"width": "180px"})
        self.fail_button = w.Button(description="Fail it", button_style="danger", icon="bolt")
        self.fail_button.on_click(lambda _: self.victim.value and self.fail(self.victim.value))
        self.redraw()

    def step(self) -> str | None:
        """Route the next request; return the instance chosen (None once every request is sent)."""
        if len(self.log) == len(self.requests):
            return None
        prepared = self.requests[len(self.log)]
        browser = self.browsers.get(prepared.client_ip)
        if browser is None:
            browser = self.browsers[prepared.client_ip] = Browser(prepared.client_ip)
        browser.jar.update(prepared.cookies)
        if prepared.headers:
            browser.headers = Headers({**browser.headers, **prepared.headers})
        request = browser.request(prepared.path, prepared.time)
        iid = self.router.route(request, self.pool)
        self._routed(request, iid)
        response = self.apps[iid].handle(request)
        self.router.on_response(request, iid, response)
        browser.receive(response, prepared.time)
        self.log.append((request, iid))
        self.responses.append(response)
        self.redraw()
        return iid

    def _routed(self, request: Request, iid: str) -> None:
        """Called with each routing decision before the instance answers (subclasses note details)."""

    def fail(self, instance: str) -> None:
        """Instance ``instance`` crashes: it leaves the healthy pool and its application loses its memory."""
        if instance not in self.pool.healthy:
            raise ValueError(f"instance {instance!r} is not healthy in the pool "
                             f"(healthy: {', '.join(self.pool.healthy) or 'none'})")
        self.pool.update(healthy=[i for i in self.pool.healthy if i != instance],
                         draining=self.pool.draining, members=self.pool.members)
        self.apps[instance].crash()
        self.victim.options = list(self.pool.healthy)
        self.redraw()

    # -- drawing ---------------------------------------------------------------------------------
    def rows(self) -> tuple[list[list[str]], list[list[str]]]:
        """The log table's rows and their cell colours (the instance cell in its colour)."""
        members = self.pool.members
        rows = [[f"{req.time:g} s", req.client_ip, iid] for req, iid in self.log]
        colours = [["white", "white", colour_of(iid, members)] for _, iid in self.log]
        return rows, colours

    def side(self, ax) -> None:
        """The right-hand view: the router's affinity table, if it keeps one."""
        table = getattr(self.router, "table", None)
        if isinstance(table, AffinityTable):     # a hashing router's .table is its hash scheme
            viz.plot_affinity_table(ax, table, self.pool.members, max_rows=self.max_rows)
        else:
            ax.axis("off")

    def redraw(self) -> None:
        """Update the log and the side view in place, then render the figure."""
        rows, colours = self.rows()
        viz.plot_table(self.axes[0], self.columns, rows, self.log_title.format(n=len(self.log)),
                       colours, max_rows=self.max_rows)
        self.side(self.axes[1])
        self.button.disabled = len(self.log) == len(self.requests)
        self.image.value = png(self.fig)

    @property
    def widget(self) -> w.Widget:
        """The buttons (send the next request; fail an instance) above the figure."""
        return w.VBox([w.HBox([self.button, self.victim, self.fail_button]), self.image])

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.widget)


def _short(value: str, width: int = 8) -> str:
    return value if len(value) <= width else value[: width - 2] + "…"


def _cookies_text(cookies: Mapping[str, str]) -> str:
    return "; ".join(f"{k}={_short(v)}" for k, v in cookies.items()) or "(none)"


#: The demo key of the cookie stepper's router: its cookie values are the same on every run.
DEMO_SECRET = b"stickylab cookie stepper demo key"


class CookieStepper(Stepper):
    """The cookie exchange, step by step: what each request carries, where it goes, what ``Set-Cookie`` says.

    The log shows per request the ``Cookie`` header the browser sent, the instance the
    router chose and the ``Set-Cookie`` instructions of the response (the application's
    ``SESSION`` and the balancer's affinity cookie); the side view shows every browser's
    cookie jar after the step. Values are shortened (``ab12cd34…``).

    Args:
        router: a cookie router (default: ``CookieInsert`` signed with a fixed demo key, so
            its cookie values are the same on every run).
        requests: the prepared requests (default: two browsers taking turns, then a third).
        pool: the instances (default ``i0``, ``i1``, ``i2``).
        max_rows: rows shown in each table.
    """

    columns = ("client", "Cookie sent", "sent to", "Set-Cookie")
    log_title = "The cookie exchange: {n} requests"
    stacked = True
    size = (10.0, 3.0)

    def __init__(self, router: Router | None = None, requests: Sequence[Request] | None = None,
                 pool: Pool | None = None, *, max_rows: int = 10):
        router = CookieInsert(secret=DEMO_SECRET) if router is None else router
        if requests is None:
            clients = ["198.51.100.7", "203.0.113.20", "198.51.100.7", "203.0.113.20", "192.0.2.33",
                       "203.0.113.20", "198.51.100.7", "192.0.2.33"]
            requests = [Request(ip, time=float(t)) for t, ip in enumerate(clients)]
        pool = Pool(healthy=["i0", "i1", "i2"]) if pool is None else pool
        super().__init__(router, requests, pool, max_rows=max_rows)

    def rows(self):
        """Per request: the client, the cookies it carried, the instance, the cookies set (highlighted)."""
        members = self.pool.members
        rows, colours = [], []
        for (req, iid), response in zip(self.log, self.responses):
            set_cookie = "; ".join(f"{c.name}={_short(c.value) if c.max_age != 0 else '(deleted)'}"
                                   for c in response.cookies) or "-"
            rows.append([req.client_ip, _cookies_text(req.cookies), iid, set_cookie])
            colours.append(["white", "white", colour_of(iid, members),
                            "#fff3cd" if response.cookies else "white"])
        return rows, colours

    def side(self, ax) -> None:
        """Each browser's cookie jar now."""
        rows = [[ip, _cookies_text(browser.jar)] for ip, browser in self.browsers.items()]
        viz.plot_table(ax, ["browser", "cookie jar"], rows, "The browsers' cookie jars",
                       max_rows=self.max_rows)


class IPHashStepper(Stepper):
    """IP hashing, step by step: the bytes of the address that are hashed, the hash, ``h % N``, the instance.

    With ``SourceIPHash(prefix24=True)`` (nginx ``ip_hash``, the default) only the first
    three octets of an IPv4 address count: ``h`` starts at 89 and takes ``h = (h * 113 +
    byte) % 6271`` per byte, and the server is ``h % N`` over every configured server; a
    dead one makes nginx hash again. With ``prefix24=False`` (HAProxy ``balance source``)
    the whole address is hashed, modulo the healthy instances. The side view shows which
    address block went where: every client of one /24 lands on one instance.

    Args:
        router: a :class:`~stickylab.routers.SourceIPHash` (default: nginx's ``ip_hash``).
        requests: the prepared requests (default: five addresses, two of them in one /24).
        pool: the instances (default ``i0``, ``i1``, ``i2``).
        max_rows: rows shown in each table.
    """

    columns = ("client address", "bytes hashed", "hash h", "h % N", "sent to")
    log_title = "IP hashing: {n} requests"
    width_ratios = (1.4, 1.0)

    def __init__(self, router: SourceIPHash | None = None, requests: Sequence[Request] | None = None,
                 pool: Pool | None = None, *, max_rows: int = 10):
        router = SourceIPHash(prefix24=True) if router is None else router
        if not isinstance(router, SourceIPHash):
            raise TypeError(f"IPHashStepper shows a SourceIPHash router, got {router!r}")
        if requests is None:
            # two clients of one /24 (same instance), and the /24 after it (the next hash value)
            clients = ["198.51.100.7", "172.16.5.4", "198.51.100.42", "100.64.1.10", "198.51.101.9",
                       "100.64.7.3"]
            requests = [Request(ip, time=float(t)) for t, ip in enumerate(clients)]
        pool = Pool(healthy=["i0", "i1", "i2"]) if pool is None else pool
        self.details: list[list[str]] = []
        super().__init__(router, requests, pool, max_rows=max_rows)

    def _routed(self, request: Request, iid: str) -> None:
        ip = request.client_ip
        if self.router.prefix24:
            n = len(self.pool.members)
            address = ipaddress.ip_address(ip)
            hashed = ".".join(ip.split(".")[:3]) if address.version == 4 else "all 16 bytes"
            tries, (index, h) = 0, nginx_ip_hash(ip, n)
            while self.pool.members[index] not in self.pool.healthy and tries < SourceIPHash.MAX_TRIES:
                tries += 1
                index, h = nginx_ip_hash(ip, n, tries)
            again = f", after {tries} rehash{'es' if tries > 1 else ''}" if tries else ""
            self.details.append([ip, hashed, str(h), f"{h} % {n} = {index}{again}"])
        else:
            n = len(self.pool.healthy)
            h = hashing.stable_hash(ip)
            self.details.append([ip, "whole address", f"{h:x}"[:8] + "…", f"h % {n} = {h % n}"])

    def rows(self):
        """Per request: the address, what is hashed, the hash, the modulo, the instance."""
        members = self.pool.members
        rows = [detail + [iid] for detail, (_, iid) in zip(self.details, self.log)]
        colours = [["white"] * 4 + [colour_of(iid, members)] for _, iid in self.log]
        return rows, colours

    def side(self, ax) -> None:
        """Which address block went to which instance."""
        blocks: dict[str, str] = {}
        for request, iid in self.log:
            ip = request.client_ip
            block = ".".join(ip.split(".")[:3]) + ".0/24" if ip.count(".") == 3 else ip
            blocks[block if self.router.prefix24 else ip] = iid
        rows = [[block, iid] for block, iid in blocks.items()]
        colours = [["white", colour_of(iid, self.pool.members)] for _, iid in rows]
        viz.plot_table(ax, ["address block" if self.router.prefix24 else "address", "instance"], rows,
                       "Where each block went", colours, max_rows=self.max_rows)
