"""Under load and faults: concurrent clients while a backend is killed and restarted.

40 clients, each from its own loopback address with its own cookie jar, log in, put an
item in their cart, then send rounds of GETs; a backend is SIGKILLed during one round
and restarted during a later one. What must hold:

- with an external store (SQLite, Redis, or stateless JWT): no session lost, no cart
  emptied, no request failed (every request is a GET, which the proxy retries once on a
  live backend: the retry policy hides the crash);
- with sessions in memory: exactly the dead backend's users lose their session, once
  each (their next request is redispatched, finds nothing, and starts a new session),
  and their carts are empty; nobody else loses anything, and still no request fails.
"""

import asyncio

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

import stickylab as sl
from stickylab import live
from stickylab.live.traffic import client, exchange, loopback_address, take

from live_helpers import redis_server

USERS, ROUNDS, KILL, RESTART = 40, 8, 2, 5


async def clients_under_faults(lab):
    """Per user: their first instance, losses, failures and final cart; the backend killed."""
    spread = live.many_loopback_addresses()
    browsers = [sl.Browser(loopback_address(500 + k) if spread else "127.0.0.1") for k in range(USERS)]
    sessions = [client(b.client_ip if spread else None, limit=1) for b in browsers]
    seen = [{"lost": 0, "failed": 0} for _ in browsers]

    async def send(k, path, method="GET"):
        reply = await exchange(sessions[k], lab.url + path, browsers[k].request(path), method)
        take(browsers[k], reply, 0.0, f"u{k}")
        seen[k]["lost"] += reply.header("X-Session") == "missing"
        seen[k]["failed"] += reply.status >= 500 or reply.instance is None
        return reply

    try:
        homes = [r.instance for r in await asyncio.gather(*(send(k, "/login") for k in range(USERS)))]
        await asyncio.gather(*(send(k, f"/cart?item=book{k}", "POST") for k in range(USERS)))
        victim = max(set(homes), key=homes.count)
        for n in range(ROUNDS):
            fault = {KILL: lab._kill, RESTART: lab._restart}.get(n)
            faults = [fault(victim)] if fault else []
            await asyncio.gather(*(send(k, "/app") for k in range(USERS)), *faults)
        carts = [(await send(k, "/cart")).text.strip() for k in range(USERS)]
    finally:
        await asyncio.gather(*(s.close() for s in sessions))
    return homes, seen, carts, victim


def run(store, **options):
    with live.Lab(sl.routers.CookieInsert(), instances=3, store=store, **options) as lab:
        return lab._call(clients_under_faults(lab), timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite", "jwt", "redis"])
def test_an_external_store_loses_nothing(store, tmp_path):
    if store == "redis" and not live.redis_available():
        pytest.skip("redis-server is not installed (apt install redis-server): the Redis store is not tested")
    if store == "redis":
        with redis_server(tmp_path) as url:
            homes, seen, carts, victim = run(store, redis_url=url)
    else:
        homes, seen, carts, victim = run(store)
    assert homes.count(victim) >= 5, "the crash hits a good share of users"
    assert sum(s["lost"] for s in seen) == 0
    assert sum(s["failed"] for s in seen) == 0
    assert carts == [f"cart: book{k}" for k in range(USERS)]


@pytest.mark.slow
def test_memory_loses_exactly_the_dead_backends_users():
    homes, seen, carts, victim = run("memory")
    on_victim = [k for k, home in enumerate(homes) if home == victim]
    assert len(on_victim) >= 5
    assert [s["lost"] for s in seen] == [1 if k in on_victim else 0 for k in range(USERS)]
    assert sum(s["failed"] for s in seen) == 0
    assert carts == ["cart:" if k in on_victim else f"cart: book{k}" for k in range(USERS)]
