"""Reading ``Cookie`` and ``Set-Cookie`` headers: the lab's own cookies strictly, others leniently.

RFC 6265: a cookie name is an HTTP token and a value is cookie-octets, optionally in
double quotes. The lab's own cookies (the session cookie, the router's affinity cookie)
must keep those rules: one that breaks them is refused with :class:`BadCookie` (which
carries the HTTP status to answer), never passed on half-read. A cookie of another
application on the same site is read as HAProxy and nginx read it, leniently:
``prefs={"a":1}`` is the value ``{"a":1}``, and one that cannot be read (a name that is not
a token, control or non-ASCII characters) is left out of the router's view. Either way the
``Cookie`` header reaches the backend as the client sent it. A header larger than a real
balancer accepts is refused whoever owns it.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from ..app import SESSION_COOKIE
from ..model import Cookie

__all__ = ["MAX_COOKIES", "MAX_COOKIE_BYTES", "BadCookie", "parse_cookie_header", "parse_set_cookie"]

#: Largest ``Cookie`` header accepted, in bytes: one browser cookie (4096 bytes) and room to spare,
#: under the 8190-byte header line aiohttp (like nginx's 8k buffers) refuses with a 400 itself.
MAX_COOKIE_BYTES = 6144
#: Most cookies one request may carry (RFC 6265 asks browsers to keep at least 50 per domain).
MAX_COOKIES = 100

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch
_OCTETS = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*").fullmatch
#: What a lenient reading keeps of another application's cookie value: printable ASCII.
_PRINTABLE = re.compile(r"[\x20-\x7e]*").fullmatch


class BadCookie(ValueError):
    """A ``Cookie`` header the proxy refuses; ``status`` is 400 (malformed) or 431 (too large)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _shown(text: str, most: int = 40) -> str:
    """``text`` quoted for an error message, cut to ``most`` characters."""
    return repr(text if len(text) <= most else text[:most] + "...")


def _pair(item: str, strict) -> tuple[str, str] | None:
    """One ``name=value`` of a Cookie header; None for an empty, nameless or unreadable other one."""
    name, eq, value = item.strip().partition("=")
    name, value = name.strip(), value.strip()
    if not eq or not name:
        return None
    if strict is not True and name not in strict:
        return _lenient(name, value)
    if not _TOKEN(name):
        raise BadCookie(f"malformed Cookie header: cookie name {_shown(name)} is not an RFC 6265 token")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not _OCTETS(value):
        raise BadCookie(f"malformed Cookie header: cookie {name!r} has value {_shown(value)}, which "
                        "holds characters a cookie value may not (spaces, quotes, commas, "
                        "semicolons, backslashes, control or non-ASCII characters)")
    return name, value


def _lenient(name: str, value: str) -> tuple[str, str] | None:
    """Another application's cookie as HAProxy reads it: any printable value; None if unreadable."""
    if not _TOKEN(name) or not _PRINTABLE(value):
        return None
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return name, value


def parse_cookie_header(headers: list[str],
                        strict: bool | Collection[str] = (SESSION_COOKIE,)) -> dict[str, str]:
    """The cookies of a request's ``Cookie`` header(s), name -> value (the first of a name wins).

    Args:
        headers: the values of the request's ``Cookie`` headers.
        strict: the names read by RFC 6265's rules (the lab's own cookies), or True for every
            cookie; any other cookie is read leniently, or left out if it cannot be read.

    Raises:
        BadCookie: 431 when the headers are too large or carry too many cookies, 400
            when a cookie read strictly breaks RFC 6265.
    """
    size = sum(len(h) for h in headers)
    if size > MAX_COOKIE_BYTES:
        raise BadCookie(f"Cookie header too large: {size} bytes, more than {MAX_COOKIE_BYTES}", 431)
    cookies: dict[str, str] = {}
    count = 0
    for header in headers:
        for item in header.split(";"):
            pair = _pair(item, strict)
            if pair is None:
                continue
            count += 1
            if count > MAX_COOKIES:
                raise BadCookie(f"too many cookies: more than {MAX_COOKIES} in one request", 431)
            cookies.setdefault(*pair)
    return cookies


def parse_set_cookie(header: str) -> Cookie | None:
    """The :class:`~stickylab.Cookie` a ``Set-Cookie`` header sets, or None if it is not one we model.

    Reads ``Max-Age``, ``HttpOnly``, ``Secure`` and ``SameSite``; a header with ``Expires``
    or a value the model refuses is None (the proxy then passes it on untouched).
    """
    first, *attrs = header.split(";")
    name, eq, value = first.strip().partition("=")
    options: dict = {"http_only": False, "same_site": ""}
    for attr in attrs:
        key, _, arg = attr.strip().partition("=")
        key = key.lower()
        if key == "max-age" and arg.strip().isdigit():
            options["max_age"] = int(arg)
        elif key == "httponly":
            options["http_only"] = True
        elif key == "secure":
            options["secure"] = True
        elif key == "samesite":
            options["same_site"] = arg.strip().capitalize()
        elif key not in ("path", ""):
            return None
    try:
        return Cookie(name.strip(), value.strip(), **options) if eq else None
    except (ValueError, TypeError):
        return None
