"""HAProxy as the reference: CookieInsert in our proxy behaves as ``cookie SRV insert indirect nocache``.

Both balancers run in front of the same kind of backends (real processes, sessions in
memory) with ``option redispatch`` and one retry, and the same client script runs
against each; what a client can observe must match:

- the affinity cookie comes on the first response only, HttpOnly, with SameSite;
- every later request carrying it lands on the same instance;
- when that instance is killed, the next request is redispatched to a live instance
  (the session was in the dead one's memory: a 401) and comes back with a new cookie,
  and the client sticks to its new instance from then on.
"""

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

import stickylab as sl
from stickylab import live
from stickylab.live import haproxy
from stickylab.live.traffic import client, exchange, take

pytestmark = pytest.mark.skipif(
    not haproxy.available(), reason="haproxy is not installed (apt install haproxy): no reference to compare")


def script(lab, url):
    """The client's observations through the balancer at ``url``: one dict per step."""
    browser = sl.Browser()

    async def send(path):
        async with client(None) as session:
            reply = await exchange(session, url + path, browser.request(path))
        take(browser, reply, 0.0, "u")
        return reply

    def step(path):
        reply = lab._call(send(path))
        srv = [c for c in reply.cookies if c.name == "SRV"]
        return {"status": reply.status, "instance": reply.instance, "srv": srv[0] if srv else None,
                "jar": browser.jar.get("SRV")}

    seen = [step("/login")] + [step("/app") for _ in range(4)]
    lab.kill(seen[0]["instance"])
    seen += [step("/app")] + [step("/app") for _ in range(3)]
    return seen


def check(seen):
    first, sticky, moved, after = seen[0], seen[1:5], seen[5], seen[6:]
    assert first["status"] == 200 and first["srv"] is not None, "cookie on the first response"
    assert first["srv"].http_only and first["srv"].same_site == "Lax"
    assert all(s["srv"] is None and s["instance"] == first["instance"] and s["status"] == 200 for s in sticky)
    assert moved["instance"] != first["instance"] and moved["status"] == 401, "redispatched; session gone"
    assert moved["srv"] is not None and moved["jar"] != first["jar"], "a new cookie for the new instance"
    assert all(s["srv"] is None and s["instance"] == moved["instance"] for s in after), "sticks again"


@pytest.mark.parametrize("balancer", ["haproxy", "stickylab"])
def test_cookie_insert_behaves_as_haproxy(balancer):
    with live.Lab(sl.routers.CookieInsert("SRV"), instances=3) as lab:
        if balancer == "stickylab":
            check(script(lab, lab.url))
        else:
            with haproxy.HAProxy(lab.backends()) as hap:
                check(script(lab, hap.url))


def test_haproxy_config_is_the_sticky_reference():
    text = haproxy.config({"i0": "127.0.0.1:1"}, 2)
    for line in ("cookie SRV insert indirect nocache", "option redispatch", "retries 1",
                 "server i0 127.0.0.1:1 cookie i0 check", "bind 127.0.0.1:2"):
        assert line in text
