"""A session store that stalls or goes away is not a dead backend.

SQLite locked by a long transaction, or Redis gone: the backend's ``/health`` still answers at
once (200, the store's state in its JSON), so the proxy keeps every backend in the pool; the
requests that need the store get a 503 naming it within the store's timeout, and are served
again once it is back.
"""

import asyncio
import contextlib
import sqlite3
import threading
import time

import aiohttp
import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

from aiohttp import web

import stickylab as sl
from stickylab import live
from stickylab.live.backend import BACKEND, make_app
from stickylab.live import procs
from stickylab.live.stores import PING_TIMEOUT, STORE_TIMEOUT, MemoryStore, RedisStore, SqliteStore

from background_traffic import Traffic

LOCK = 12.0


@contextlib.asynccontextmanager
async def backend(store):
    """One backend in this loop keeping sessions in ``store``; yields its URL."""
    app = make_app("i0", store)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
        app[BACKEND].close()


async def timed(session, url, cookie=None):
    """(seconds, status, body) of one GET."""
    start = time.monotonic()
    async with session.get(url, headers={"Cookie": cookie} if cookie else {}) as reply:
        body = await (reply.json() if reply.content_type == "application/json" else reply.text())
        return time.monotonic() - start, reply.status, body


@contextlib.contextmanager
def locked(path):
    """An exclusive transaction on the SQLite database at ``path`` from a connection of its own."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


def test_health_counts_the_live_sessions_a_memory_backend_holds():
    async def go():
        async with backend(MemoryStore()) as url, aiohttp.ClientSession() as s:
            assert (await timed(s, url + "/health"))[2]["sessions"] == 0
            async with s.get(url + "/login") as reply:
                cookie = f"SESSION={reply.cookies['SESSION'].value}"
            _, status, body = await timed(s, url + "/health")
            assert status == 200 and body["sessions"] == 1 and body["store"]["state"] == "ok"
            await timed(s, url + "/logout", cookie)
            assert (await timed(s, url + "/health"))[2]["sessions"] == 0
    asyncio.run(asyncio.wait_for(go(), 30))


def test_a_locked_sqlite_store_is_a_503_naming_it_and_health_answers_at_once(tmp_path):
    path = str(tmp_path / "s.db")

    async def go():
        async with backend(SqliteStore(path)) as url, aiohttp.ClientSession() as s:
            assert (await timed(s, url + "/login"))[1] == 200
            with locked(path):
                login = asyncio.ensure_future(timed(s, url + "/login"))
                await asyncio.sleep(0.05)
                seconds, status, body = await timed(s, url + "/health")
                assert status == 200 and seconds < 4 * PING_TIMEOUT, "answered while a request waits"
                assert body["store"]["state"] == "unreachable" and "locked" in body["store"]["reason"]
                seconds, status, text = await login
                assert status == 503 and "session store (sqlite)" in text and seconds <= STORE_TIMEOUT + 0.5
            assert (await timed(s, url + "/login"))[1] == 200
            assert (await timed(s, url + "/health"))[2]["store"]["state"] == "ok"
    asyncio.run(asyncio.wait_for(go(), 30))


def test_a_redis_nobody_listens_for_is_a_503_naming_it_at_once():
    pytest.importorskip("redis", reason="the Redis store needs redis-py (requirements.txt)")
    url = f"redis://127.0.0.1:{procs.free_port()}/0"

    async def go():
        async with backend(RedisStore(url)) as base, aiohttp.ClientSession() as s:
            seconds, status, text = await timed(s, base + "/login")
            assert status == 503 and "session store (redis)" in text and seconds < STORE_TIMEOUT
            seconds, status, body = await timed(s, base + "/health")
            assert status == 200 and seconds < 4 * PING_TIMEOUT
            assert body["store"]["state"] == "unreachable" and "ConnectionError" in body["store"]["reason"]
    asyncio.run(asyncio.wait_for(go(), 30))


class HealthWatch:
    """Asks every backend's /health, and the lab's status, every 0.2 s from a thread of its own."""

    def __init__(self, lab):
        self.lab, self.seen, self.states = lab, [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._watch()), daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(30)

    async def _watch(self):
        deadline = time.monotonic() + 60.0
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
            while not self._stop.is_set() and time.monotonic() < deadline:
                await asyncio.gather(*(self._ask(s, address) for address in self.lab.backends().values()))
                self.states.append(self.lab.status())
                await asyncio.sleep(0.2)

    async def _ask(self, s, address):
        start = time.monotonic()
        seconds, status, body = await timed(s, f"http://{address}/health")
        self.seen.append((start, seconds, status, body["store"]["state"], body["store"]["reason"]))

    def during(self, start, end):
        return [h for h in self.seen if start <= h[0] <= end]


@pytest.mark.slow
def test_a_12_second_sqlite_lock_under_traffic_marks_no_backend_down():
    with live.Lab(sl.routers.CookieInsert(), instances=3, store="sqlite") as lab, \
            Traffic(lab, users=9, first=600) as traffic, HealthWatch(lab) as watch:
        time.sleep(1.0)
        with locked(lab.store_address):
            start = time.monotonic()
            time.sleep(3.0)
            reported = lab.health()
            time.sleep(LOCK - (time.monotonic() - start))
        end = time.monotonic()
        time.sleep(1.5)
        traffic.stop()
    told = {iid: (h["process"], h["store"]["state"], "locked" in h["store"]["reason"])
            for iid, h in reported.items()}
    assert told == {iid: ("up", "unreachable", True) for iid in ("i0", "i1", "i2")}, "lab.health() says why"
    health = watch.during(start, end)
    assert len(health) >= 3 * 15, "every backend asked all along"
    assert max(h[1] for h in health) < 2.0, "health answers promptly while the store is locked"
    assert all(h[2] == 200 for h in health)
    assert {h[3] for h in health if start + 3 < h[0] < end - 0.5} == {"unreachable"}, "and says so"
    assert all(state == "up" for states in watch.states for state in states.values()), "no backend down"
    during = traffic.during(start + 3, end)
    assert during and all(s.status in (200, 503) for s in during)
    assert all("session store (sqlite)" in s.text for s in during if s.status == 503)
    assert max(s.latency for s in during) <= STORE_TIMEOUT + 2.0, "each waits within the store's bound"
    after = [s for s in traffic.sent if s.start > end + 0.5]
    assert after and all(s.status == 200 for s in after), "served again once the lock is gone"
    assert watch.seen[-1][3] == "ok"


@pytest.mark.slow
@pytest.mark.skipif(not live.redis_available(),
                    reason="redis-server is not installed (apt install redis-server): no outage tried")
def test_a_redis_outage_is_a_503_naming_it_and_its_restart_empties_every_session():
    with live.Lab(sl.routers.CookieInsert(), instances=3, store="redis") as lab, \
            Traffic(lab, users=9, first=700) as traffic, HealthWatch(lab) as watch:
        time.sleep(1.0)
        lab.kill("redis")
        start = time.monotonic()
        time.sleep(3.0)
        end = time.monotonic()
        lab.restart("redis")
        deadline = time.monotonic() + 30.0      # every user is answered again (a busy machine is slow)
        while len({s.user for s in traffic.sent if s.start > end and s.status != 503}) < 9:
            assert time.monotonic() < deadline, "not every user was answered after Redis came back"
            time.sleep(0.05)
        traffic.stop()
        # Each backend pings its store on a thread of its own: /health says "ok" again soon after.
        deadline = time.monotonic() + 15.0
        while not (len(watch.seen) >= 3 and all(h[3] == "ok" for h in watch.seen[-3:])):
            assert time.monotonic() < deadline, f"the store's health never recovered: {watch.seen[-3:]}"
            time.sleep(0.1)
    health = watch.during(start, end)
    assert health and max(h[1] for h in health) < 2.0 and all(h[2] == 200 for h in health)
    assert {h[3] for h in health if start + 1 < h[0] < end - 0.5} == {"unreachable"}
    assert all(state == "up" for states in watch.states for state in states.values()), "no backend down"
    down = [s for s in traffic.during(start + 0.5, end) if s.start >= start + 0.5]    # sent in the outage
    assert down and all(s.status == 503 and "session store (redis)" in s.text for s in down)
    assert max(s.latency for s in down) <= STORE_TIMEOUT + 2.0
    after = [s for s in traffic.sent if s.start > end and s.status != 503]
    first = {}
    for s in after:
        first.setdefault(s.user, s)
    assert len(first) == 9 and all(s.session == "missing" for s in first.values()), (
        "Redis kept nothing on disk (--save \"\"): every user is logged out")


def test_a_backend_starting_while_another_holds_the_new_databases_lock_waits_for_it(tmp_path):
    """Backends started together: one switching the new file to WAL locks it for the others."""
    path = str(tmp_path / "sessions.db")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(1.5, lambda: holder.execute("ROLLBACK"))  # longer than a request waits
    release.start()
    try:
        store = SqliteStore(path)
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    finally:
        release.join()
        holder.close()
