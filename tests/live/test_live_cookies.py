"""The lab reads its own cookies strictly and other applications' cookies as real balancers do.

HAProxy and nginx pass an RFC-invalid cookie of another application (``prefs={"a":1}``)
through untouched; refusing it would lock every user of that site out of the lesson.
"""

import asyncio

import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

import stickylab as sl
from stickylab.live.cookies import BadCookie, parse_cookie_header

from live_helpers import get, stack


def test_another_applications_invalid_cookie_is_read_leniently():
    got = parse_cookie_header(['prefs={"a":1}; SESSION=abc; theme=dark mode; b@d=1; na\u00efve=x; q="x"'])
    assert got == {"prefs": '{"a":1}', "SESSION": "abc", "theme": "dark mode", "q": "x"}


@pytest.mark.parametrize("header", ['SESSION={"a":1}', "SESSION=a b", "SESSION=caf\u00e9", 'SERVERID="x'])
def test_the_labs_own_cookies_are_still_read_strictly(header):
    with pytest.raises(BadCookie) as err:
        parse_cookie_header([header], strict={"SESSION", "SERVERID"})
    assert err.value.status == 400


def test_size_limits_hold_for_every_cookie():
    with pytest.raises(BadCookie) as err:
        parse_cookie_header(["prefs=" + "x" * 7000])
    assert err.value.status == 431


def test_an_unrelated_invalid_cookie_passes_through_the_proxy_and_the_backend():
    async def go():
        async with stack(sl.routers.CookieInsert(), 2) as proxy:
            status, headers, _ = await get(proxy.url, "/login", Cookie='prefs={"a":1}; lang=en')
            assert status == 200
            affinity = headers["Set-Cookie"].split(";")[0]
            status, _, body = await get(proxy.url, "/app", Cookie=f'prefs={{"a":1}}; {affinity}')
            assert status in (200, 401), body        # served (a 401 is the backend's: no session)
            bad_own = await get(proxy.url, "/app", Cookie='SERVERID={"a":1}')
            assert bad_own[0] == 400 and "SERVERID" in bad_own[2]
    asyncio.run(asyncio.wait_for(go(), 20.0))
