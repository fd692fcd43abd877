"""Traffic through a running lab from a thread of its own, recording every request, for the tests
that act on the lab (a lock, an outage, a removal) while users keep coming.

Each user is a :class:`stickylab.Browser` on a loopback address of its own with a client of its
own (one connection). With ``visit=None`` a user logs in once and then sends ``/app`` until the
traffic stops; with ``visit=k`` a user's visits are a login, ``k`` pages and a logout, after
which the browser closes (its session cookies go) and a new visit starts. Every loop is bounded
by :data:`MOST` seconds, whatever the test does.
"""

import asyncio
import threading
import time
from dataclasses import dataclass

import numpy as np

import stickylab as sl
from stickylab.live import loopback_address, many_loopback_addresses
from stickylab.live.traffic import client, exchange, take

#: Seconds the traffic runs at most.
MOST = 90.0


@dataclass(frozen=True)
class Sent:
    """One request as its user saw it."""

    user: int
    path: str
    start: float          # time.monotonic() when sent
    end: float            # and when the answer (or the error) came
    status: int           # -1: no HTTP answer at all
    instance: str | None
    session: str | None   # the X-Session header
    text: str

    @property
    def latency(self) -> float:
        return self.end - self.start


class Traffic:
    """``users`` users sending requests to ``lab`` from a thread of their own until :meth:`stop`."""

    def __init__(self, lab, users: int = 9, *, visit: int | None = None, pause: float = 0.02, first: int = 0):
        self.lab, self.users, self.visit, self.pause = lab, users, visit, pause
        self.first = first
        self.sent: list[Sent] = []
        #: The instance each user logged in on last.
        self.homes: dict[int, str | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-traffic", daemon=True)

    def __enter__(self):
        self._thread.start()
        deadline = time.monotonic() + 30.0
        while len(self.homes) < self.users and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self) -> None:
        """Stop every user and wait for the thread (bounded)."""
        self._stop.set()
        self._thread.join(MOST)

    # -- what was seen ---------------------------------------------------------------------------------
    def during(self, start: float, end: float, users=None) -> list[Sent]:
        """The requests in flight at some moment of [start, end] (of ``users`` only, if given)."""
        return [s for s in self.sent
                if s.end >= start and s.start <= end and (users is None or s.user in users)]

    def baseline(self, until: float) -> tuple[float, float, int]:
        """p99 and worst latency of the requests answered before ``until``, and how many."""
        lat = [s.latency for s in self.sent if s.end < until and s.status == 200]
        return float(np.percentile(lat, 99)), max(lat), len(lat)

    # -- the users --------------------------------------------------------------------------------------
    def _run(self) -> None:
        async def main():
            await asyncio.wait_for(asyncio.gather(*(self._user(k) for k in range(self.users))), MOST + 15.0)
        asyncio.run(main())

    async def _user(self, k: int) -> None:
        spread = many_loopback_addresses()
        browser = sl.Browser(loopback_address(self.first + k) if spread else "127.0.0.1")
        session = client(browser.client_ip if spread else None, limit=1)
        deadline = time.monotonic() + MOST
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                reply = await self._send(k, browser, session, "/login")
                self.homes[k] = reply.instance if reply else None
                pages = 0
                while not self._stop.is_set() and time.monotonic() < deadline and (
                        self.visit is None or pages < self.visit):
                    await asyncio.sleep(self.pause)
                    await self._send(k, browser, session, "/app")
                    pages += 1
                if self.visit is not None:
                    await self._send(k, browser, session, "/logout")
                    browser.close()
                    await asyncio.sleep(self.pause)
        finally:
            await session.close()

    async def _send(self, k, browser, session, path):
        start = time.monotonic()
        try:
            reply = await exchange(session, self.lab.url + path, browser.request(path))
        except Exception as exc:        # noqa: BLE001 - every failure is recorded, none stops the user
            self.sent.append(Sent(k, path, start, time.monotonic(), -1, None, None, repr(exc)))
            return None
        take(browser, reply, 0.0, f"u{k}")
        self.sent.append(Sent(k, path, start, time.monotonic(), reply.status, reply.instance,
                              reply.header("X-Session"), reply.text[:200]))
        return reply
