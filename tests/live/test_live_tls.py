"""HTTPS on the proxy with certificates made for the lab: real Secure cookies, real X-Forwarded-Proto."""

import asyncio
import ssl

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")
pytest.importorskip("trustme", reason="HTTPS in the lab needs trustme (requirements.txt)")

import aiohttp
from aiohttp import web
from yarl import URL

import stickylab as sl
from stickylab.live.tls import lab_certificates

from live_helpers import behind_proxy, stack


def run(coro, within=20.0):
    return asyncio.run(asyncio.wait_for(coro, within))


@pytest.fixture(scope="module")
def tls():
    return lab_certificates()


async def _echo(request: web.Request) -> web.Response:
    return web.Response(text=f"proto={request.headers.get('X-Forwarded-Proto')}")


async def fetch(url, path="/", ssl_context=None, **headers):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as s:
        async with s.get(url + path, headers=headers, ssl=ssl_context) as r:
            return r.status, await r.text()


def test_the_backend_learns_https_from_the_proxy_and_a_client_cannot_claim_it(tls):
    async def go():
        async with behind_proxy(_echo, tls=tls.server) as proxy:
            assert proxy.url.startswith("https://127.0.0.1:")
            assert await fetch(proxy.url, ssl_context=tls.client) == (200, "proto=https")
            localhost = proxy.url.replace("127.0.0.1", "localhost")
            assert (await fetch(localhost, ssl_context=tls.client))[0] == 200, "the certificate names it"
        async with behind_proxy(_echo) as proxy:
            assert await fetch(proxy.url, **{"X-Forwarded-Proto": "https"}) == (200, "proto=http")
    run(go())


def test_a_client_that_does_not_trust_the_labs_ca_refuses_the_certificate(tls):
    async def go():
        async with behind_proxy(_echo, tls=tls.server) as proxy:
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await fetch(proxy.url, ssl_context=ssl.create_default_context())
            other = lab_certificates()         # another lab's CA signed another certificate
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await fetch(proxy.url, ssl_context=other.client)
            assert (await fetch(proxy.url, ssl_context=tls.client))[0] == 200
    run(go())


def test_plain_http_on_the_https_port_is_refused_and_the_proxy_lives_on(tls):
    async def go():
        async with behind_proxy(_echo, tls=tls.server) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            assert b"proto=" not in await asyncio.wait_for(reader.read(), 5.0)
            writer.close()
            assert (await fetch(proxy.url, ssl_context=tls.client))[0] == 200
    run(go())


def test_a_secure_affinity_cookie_is_set_and_sent_back_over_https_only(tls):
    async def go():
        router = sl.routers.CookieInsert(secure=True)
        async with stack(router, 2, tls=tls.server) as proxy:
            jar = aiohttp.CookieJar(unsafe=True)          # a browser's jar: it honours Secure
            async with aiohttp.ClientSession(cookie_jar=jar) as browser:
                async with browser.get(proxy.url + "/login", ssl=tls.client) as r:
                    first = r.headers["X-Instance"]
                    affinity = next(c for c in r.headers.getall("Set-Cookie") if c.startswith("SERVERID="))
                    assert "; Secure" in affinity and "; HttpOnly" in affinity
                for _ in range(4):
                    async with browser.get(proxy.url + "/app", ssl=tls.client) as r:
                        assert r.status == 200 and r.headers["X-Instance"] == first
                        assert not any("SERVERID" in c for c in r.headers.getall("Set-Cookie", []))
                plain = proxy.url.replace("https://", "http://")
                assert "SERVERID" not in str(jar.filter_cookies(URL(plain))), "never sent over plain HTTP"
    run(go())


def test_lab_certificates_refuses_no_names():
    with pytest.raises(ValueError, match="names"):
        lab_certificates(())


def test_only_a_trusted_labs_origin_gets_its_context(tls):
    from stickylab.live.tls import client_context, forget, trust

    trust("https://127.0.0.1:4443", tls.client)
    try:
        assert client_context("https://127.0.0.1:4443/app?x=1") is tls.client
        assert client_context("https://127.0.0.1:4444/app") is True, "another port: the system's CAs"
        assert client_context("http://127.0.0.1:4443/app") is True
    finally:
        forget("https://127.0.0.1:4443")
    assert client_context("https://127.0.0.1:4443/app") is True


@pytest.mark.slow
def test_a_lab_with_tls_serves_its_traffic_over_https(tmp_path):
    from stickylab import live

    with live.Lab(sl.routers.CookieInsert(secure=True), instances=2, tls=True) as lab:
        assert lab.url.startswith("https://")
        browser = sl.Browser()
        first = lab.send(browser, "/login")
        assert first.status == 200 and any("Secure" in c for c in first.set_cookies)
        assert [lab.send(browser, "/app").instance for _ in range(3)] == [first.instance] * 3
        res = lab.run(sl.Scenario(users=10, instances=2, duration=5.0, seed=3), speed=10.0)
        assert res.summary()["failed_requests"] == 0
        ca = lab.tls.write_ca(tmp_path / "ca.pem")
        assert ca.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")

        async def untrusted():
            async with aiohttp.ClientSession() as s:
                await s.get(lab.url + "/login")
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            asyncio.run(untrusted())


def test_the_browser_keeps_a_secure_cookie_off_plain_http():
    https = sl.Browser()
    https.store([sl.Cookie("SESSION", "abc", secure=True), sl.Cookie("theme", "dark")], 0.0)
    assert dict(https.request("/app").cookies) == {"SESSION": "abc", "theme": "dark"}
    assert dict(https.request("/app", https=False).cookies) == {"theme": "dark"}, "Secure: HTTPS only"
    assert "SESSION" in https.jar, "kept in the jar, for the next HTTPS request"
    https.store([sl.Cookie("SESSION", "plain")], 1.0)                  # replaced by a non-Secure one
    assert dict(https.request("/app", https=False).cookies)["SESSION"] == "plain"
    plain = sl.Browser()
    plain.store([sl.Cookie("SESSION", "abc", secure=True)], 0.0, https=False)
    assert plain.jar == {}, "a Secure cookie set over plain HTTP is refused"


@pytest.mark.slow
def test_behind_https_the_applications_session_cookie_is_secure_and_a_client_cannot_fake_it():
    from stickylab import live

    with live.Lab(sl.routers.CookieInsert(secure=True), instances=1, store="jwt", tls=True) as lab:
        browser = sl.Browser("127.0.0.1")
        reply = lab.send(browser, "/login")
        session = next(c for c in reply.set_cookies if c.startswith("SESSION="))
        assert "; Secure" in session and "; HttpOnly" in session
        cart = lab.send(browser, "/cart?item=book", method="POST")      # a stateless token, reissued
        assert cart.header("X-Session") == "reissued"
        assert [c for c in cart.set_cookies if c.startswith("SESSION=")][0].endswith("; Secure; SameSite=Lax")
    with live.Lab("CookieInsert", instances=1) as lab:            # plain HTTP: a client's claim is dropped
        liar = sl.Browser("127.0.0.1", headers={"X-Forwarded-Proto": "https"})
        reply = lab.send(liar, "/login")
        session = next(c for c in reply.set_cookies if c.startswith("SESSION="))
        assert "Secure" not in session
        assert all("Secure" not in c for c in reply.set_cookies)
