"""What a load balancer sees and touches: requests, responses and the pool of instances.

A router gets a :class:`Request` and the :class:`Pool`, answers an instance id, and may
then look at the :class:`Response` (to set a cookie, say). Nothing here knows who the
user "really" is: that ground truth lives in the workload and the metrics only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from numbers import Real

__all__ = ["Cookie", "Cookies", "Headers", "NoHealthyInstance", "Pool", "Request", "Response"]


class NoHealthyInstance(LookupError):
    """Raised by a router when the pool has no instance it may send a request to.

    The simulator counts such a request as failed (a real balancer answers 503) instead
    of treating it as a broken router.
    """


class Headers(dict):
    """HTTP headers: a dict whose keys are stored lower-case and looked up case-insensitively."""

    __slots__ = ()

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()):
        pairs = items.items() if type(items) is dict or isinstance(items, Mapping) else items
        super().__init__({(k if type(k) is str else str(k)).lower(): v for k, v in pairs})

    @classmethod
    def _lowered(cls, items: dict[str, str]) -> Headers:
        """Headers from a dict whose names are already lower-case (the simulator's, at every login)."""
        headers = cls.__new__(cls)
        dict.update(headers, items)
        return headers

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default=None):
        """The header's value, or ``default`` when the request does not carry it."""
        return super().get(name.lower(), default)

    def __reduce__(self):       # copy and pickle rebuild through __init__, not item assignment
        return (Headers, (dict(self),))

    def _read_only(self, *args, **kwargs):
        raise TypeError("request headers are read-only")

    __setitem__ = __delitem__ = __ior__ = _read_only
    update = pop = popitem = setdefault = clear = _read_only


class Cookies(dict):
    """The cookies a request carries, name -> value: a read-only dict.

    A router reads them; it speaks to the client only through the response
    (``response.set_cookie`` in ``on_response``), as a real balancer does. Writing
    here raises a TypeError that says so, so a write can never leak into what
    another request carries.
    """

    __slots__ = ()

    def __reduce__(self):       # copy and pickle rebuild through __init__, not item assignment
        return (Cookies, (dict(self),))

    def _read_only(self, *args, **kwargs):
        raise TypeError("request cookies are read-only: to give the client a cookie, call "
                        "response.set_cookie(name, value) in on_response; the client sends it back "
                        "with its next requests")

    __setitem__ = __delitem__ = __ior__ = _read_only
    update = pop = popitem = setdefault = clear = _read_only


#: What a request without cookies carries (one shared object: it cannot change).
NO_COOKIES = Cookies()


def _cookie_pairs(cookies) -> dict:
    """``cookies`` as a dict of name -> value; anything that is not a mapping is a TypeError naming it."""
    if not isinstance(cookies, Mapping):
        raise TypeError(f"cookies must be a mapping of name -> value, got cookies={cookies!r}")
    return dict(cookies)


class Request:
    """One HTTP request as a load balancer sees it.

    Attributes:
        client_ip: the source address of the connection (a NAT's address for users behind one).
        headers: :class:`Headers`, case-insensitive.
        cookies: name -> value, as the client sent them: a read-only :class:`Cookies`
            (a mapping passed here is copied into one), so a router can change nothing
            the client or another request holds.
        path: the request path, e.g. ``"/login"``.
        time: seconds since the start of the run (wall-clock seconds in the live lab).
    """

    __slots__ = ("client_ip", "headers", "cookies", "path", "time")

    def __init__(self, client_ip: str, headers: Headers | Mapping[str, str] | None = None,
                 cookies: Mapping[str, str] | None = None, path: str = "/", time: float = 0.0):
        self.client_ip = client_ip
        self.headers = headers if type(headers) is Headers else Headers(headers or {})
        self.cookies = (cookies if type(cookies) is Cookies else
                        NO_COOKIES if not cookies else Cookies(_cookie_pairs(cookies)))
        self.path = path
        self.time = time

    def __repr__(self) -> str:
        return (f"Request(client_ip={self.client_ip!r}, path={self.path!r}, time={self.time:.3f}, "
                f"cookies={dict(self.cookies)!r}, headers={dict(self.headers)!r})")


# RFC 6265: a cookie name is an HTTP token; a value is cookie-octets (printable ASCII but
# space, double quote, comma, semicolon and backslash).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch
_COOKIE_OCTETS = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*").fullmatch
_SAME_SITE = ("Strict", "Lax", "None", "")
_new, _set = object.__new__, object.__setattr__


@dataclass(frozen=True, slots=True)
class Cookie:
    """A ``Set-Cookie`` instruction, checked when made (RFC 6265 names and values).

    ``max_age`` is seconds (``None``: a session cookie, gone when the browser closes;
    ``0``: delete it). ``same_site`` is ``"Strict"``, ``"Lax"``, ``"None"`` or ``""`` (not sent).
    """

    name: str
    value: str
    max_age: float | None = None
    http_only: bool = True
    secure: bool = False
    same_site: str = "Lax"

    def __post_init__(self):
        # Each check tries the common case first (letters and digits, a plain int or float):
        # the simulator makes a cookie at every login.
        name, value, max_age = self.name, self.value, self.max_age
        if type(name) is not str or not (name.isascii() and name.isalnum() or _TOKEN(name)):
            raise ValueError(f"invalid cookie name {name!r}: use letters, digits and !#$%&'*+-.^_`|~")
        if type(value) is not str or not (value.isascii() and value.isalnum() or _COOKIE_OCTETS(value)):
            raise ValueError(f"invalid cookie value {value!r} for cookie {name!r}: printable "
                             "ASCII only, without spaces, double quotes, commas, semicolons or backslashes")
        if max_age is not None and not (type(max_age) in (int, float) and 0 <= max_age < math.inf) and (
                isinstance(max_age, bool) or not isinstance(max_age, Real) or not 0 <= max_age < math.inf):
            raise ValueError(f"max_age must be None or a finite number of seconds >= 0, "
                             f"got max_age={max_age!r} for cookie {name!r}")
        if self.http_only is not True and self.http_only is not False:
            raise TypeError(f"http_only must be True or False, got http_only={self.http_only!r}")
        if self.secure is not True and self.secure is not False:
            raise TypeError(f"secure must be True or False, got secure={self.secure!r}")
        if type(self.same_site) is not str or self.same_site not in _SAME_SITE:
            raise ValueError(f"same_site must be one of {', '.join(map(repr, _SAME_SITE))}, "
                             f"got same_site={self.same_site!r}")

    @classmethod
    def _session(cls, name: str, value: str) -> Cookie:
        """A session cookie (no ``Max-Age``, ``HttpOnly``, ``SameSite=Lax``) made without the checks.

        Only for a name and value this package made and knows to be valid: the simulator
        makes one at every login.
        """
        cookie = _new(cls)
        _set(cookie, "name", name)
        _set(cookie, "value", value)
        _set(cookie, "max_age", None)
        _set(cookie, "http_only", True)
        _set(cookie, "secure", False)
        _set(cookie, "same_site", "Lax")
        return cookie

    def header(self) -> str:
        """The ``Set-Cookie`` header value, as a real server would send it.

        ``Max-Age`` is whole seconds: a fraction is rounded up, so a cookie meant to last
        never goes out as ``Max-Age=0``, which deletes it.
        """
        parts = [f"{self.name}={self.value}", "Path=/"]
        if self.max_age is not None:
            parts.append(f"Max-Age={math.ceil(self.max_age)}")
        if self.http_only:
            parts.append("HttpOnly")
        if self.secure:
            parts.append("Secure")
        if self.same_site:
            parts.append(f"SameSite={self.same_site}")
        return "; ".join(parts)


class Response:
    """The response on its way back through the balancer.

    ``cookies`` holds every cookie set so far, by the application (its session cookie at
    login) and by the balancer (an affinity cookie), in order; ``headers`` the rest.
    """

    __slots__ = ("status", "headers", "cookies")

    def __init__(self, status: int = 200, headers: Mapping[str, str] | None = None,
                 cookies: Iterable[Cookie] = ()):
        self.status = status
        self.headers = {} if headers is None else dict(headers)
        self.cookies = list(cookies) if cookies else []

    def set_cookie(self, name: str, value: str, max_age: float | None = None, http_only: bool = True,
                   secure: bool = False, same_site: str = "Lax") -> None:
        """Ask the client to store a cookie (``max_age=0`` deletes it); see :class:`Cookie` for the checks."""
        self.cookies.append(Cookie(name, value, max_age, http_only, secure, same_site))

    def cookie(self, name: str) -> Cookie | None:
        """The last cookie named ``name`` set on this response, or None."""
        for c in reversed(self.cookies):
            if c.name == name:
                return c
        return None

    def __repr__(self) -> str:
        return f"Response(status={self.status}, cookies={[c.header() for c in self.cookies]!r})"


def _ids(name: str, value) -> tuple:
    """``value`` as a tuple of ids; a bare string or a non-iterable is a TypeError naming it."""
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be a list of instance ids, not one string: {name}={value!r} "
                        f"(write {name}=[{value!r}])")
    try:
        return tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a list of instance ids, got {name}={value!r}") from None


class Pool:
    """The instances behind the balancer, as a router may see them.

    ``healthy``, ``draining`` and ``members`` are each a list (any iterable) of instance
    ids; a bare string such as ``healthy="i0"`` is refused with a TypeError rather than
    read as the ids ``"i"`` and ``"0"``: write ``healthy=["i0"]``.

    Attributes:
        ids: every live instance (healthy or draining), in creation order.
        healthy: the instances that take new sessions, in creation order.
        draining: the instances that keep their sticky users but take no new ones.
        members: every configured instance, failed ones included (what nginx's
            ``ip_hash`` walks when it rehashes past a dead peer), in creation order.
        version: grows by one each time this pool object changes. It counts changes of
            one object only (two pools can both be at version 1), so a router that
            caches what it derives from a pool keys the cache on the membership tuples
            ``(healthy, draining, members)`` instead, which :meth:`update` replaces.
        is_up: ``is_up(iid)`` is True if ``iid`` is live (healthy or draining).
    """

    __slots__ = ("ids", "healthy", "draining", "members", "version", "is_up", "_load")

    def __init__(self, healthy: Iterable[str] = (), draining: Iterable[str] = (),
                 members: Iterable[str] | None = None,
                 load: Callable[[str], float] | Mapping[str, float] | None = None):
        self._load = load
        self.version = 0
        self.update(healthy, draining, members)

    def update(self, healthy: Iterable[str], draining: Iterable[str] = (),
               members: Iterable[str] | None = None) -> None:
        """Replace the pool's membership (the simulator and the live lab call this on events)."""
        healthy, draining = _ids("healthy", healthy), _ids("draining", draining)
        for iid in healthy + draining:
            if not isinstance(iid, str):
                raise TypeError(f"instance ids are strings, got {iid!r}")
        both = set(healthy) & set(draining)
        if both:
            raise ValueError(f"instance(s) {sorted(both)} cannot be both healthy and draining")
        members = _ids("members", members) if members is not None else healthy + draining
        order = {iid: n for n, iid in enumerate(members)}
        missing = [i for i in healthy + draining if i not in order]
        if missing:
            raise ValueError(f"live instance(s) {missing} are not members of the pool")
        self.healthy, self.draining, self.members = healthy, draining, members
        self.ids = tuple(sorted(healthy + draining, key=order.__getitem__))
        # is_up(iid): True if iid is live (healthy or draining), so it can still serve its
        # sticky users. A bound set lookup: routers call it on every request.
        self.is_up = frozenset(self.ids).__contains__
        self.version += 1

    def load(self, iid: str) -> float:
        """Requests in flight at the instance now (0 for an instance the pool does not know)."""
        load = self._load
        if load is None:
            return 0
        if callable(load):
            return load(iid)
        return load.get(iid, 0)

    def __repr__(self) -> str:
        return f"Pool(healthy={list(self.healthy)}, draining={list(self.draining)})"
