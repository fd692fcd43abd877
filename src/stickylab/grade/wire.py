"""Plain data across the boundary between a learner's kernel and the process that grades it.

Values cross as JSON with a one-key tag for anything JSON cannot say exactly (a tuple, a
set, bytes, a dict with non-string keys, a float that is not finite). The stickylab
objects a router meets travel as their fields and are built again, through their own
constructors, on the other side: :class:`~stickylab.Request`, :class:`~stickylab.Pool`,
:class:`~stickylab.Response`, :class:`~stickylab.Cookie`, :class:`~stickylab.Scenario`
and the events. Anything else stays where it lives and crosses as a handle.

Decoding builds only built-in types and those stickylab classes: a ``str`` that arrives
is a real ``str``, whatever the sender's object was (a subclass that claims to equal
everything arrives as its characters), so a check on the receiving side sees the value,
never the sender's behaviour.
"""

from __future__ import annotations

import base64
import dataclasses
import math

from .. import events as _events
from ..builtin_values import builtin_value
from ..model import Cookie, Headers, Pool, Request, Response
from ..scenario import Scenario

__all__ = ["WireError", "decode", "decode_pool", "encode", "pool_key"]

#: Deepest nesting of lists and dicts a value may have.
MAX_DEPTH = 64

_DATACLASSES = {cls.__name__: cls for cls in (
    Scenario, Cookie, _events.Fail, _events.Recover, _events.ScaleIn, _events.Drain, _events.ScaleOut)}


class WireError(ValueError):
    """A value that cannot cross the boundary, or a message that is not one of ours."""


def encode(value, handle=None, depth: int = 0):
    """``value`` as JSON-ready data; ``handle(obj)`` gives the tag of anything not plain data.

    Without ``handle``, such a value raises :class:`WireError` naming its type.
    """
    if depth > MAX_DEPTH:
        raise WireError(f"a value nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if -(1 << 63) <= value < (1 << 64) else {"int": str(value)}
    if kind is float:
        return value if math.isfinite(value) else {"float": repr(value)}
    d = depth + 1
    if kind is list:
        return {"list": [encode(v, handle, d) for v in value]}
    if kind is tuple:
        return {"tuple": [encode(v, handle, d) for v in value]}
    if kind is dict:
        return {"dict": [[encode(k, handle, d), encode(v, handle, d)] for k, v in value.items()]}
    if kind is set or kind is frozenset:
        return {kind.__name__: [encode(v, handle, d) for v in value]}
    if kind is bytes:
        return {"bytes": base64.b64encode(value).decode()}
    if kind is Request:
        return {"Request": [value.client_ip, dict(value.headers), dict(value.cookies), value.path,
                            value.time]}
    if kind is Headers:
        return {"Headers": [[k, v] for k, v in value.items()]}
    if kind is Pool:
        return {"Pool": [list(value.healthy), list(value.draining), list(value.members),
                         {iid: value.load(iid) for iid in value.ids}, id(value), value.version]}
    if kind is Response:
        return {"Response": [value.status, value.headers,
                             [list(dataclasses.astuple(c)) for c in value.cookies]]}
    if kind.__name__ in _DATACLASSES and _DATACLASSES[kind.__name__] is kind:
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {"data": [kind.__name__, encode(fields, handle, d)]}
    if handle is not None and isinstance(value, (dict, list, set)) and _has_methods(kind):
        return handle(value)        # an object built on a container (a table on OrderedDict), not data
    plain = builtin_value(value)
    if plain is not None:
        return encode(plain, handle, depth)
    if handle is not None:
        return handle(value)
    raise WireError(f"a {kind.__name__} cannot be sent to the other process")


#: Modules whose container subclasses are data (``OrderedDict``, ``defaultdict``, ``Counter``).
_DATA_MODULES = frozenset({"builtins", "collections", "typing", "abc"})


def _has_methods(kind: type) -> bool:
    """Whether a container class adds methods of its own (not dunders).

    A learner's ``class StickTable(OrderedDict)`` with ``get``/``put`` is an object to call,
    so it crosses as a handle; a subclass that only changes ``==`` or ``__missing__`` is still data.
    """
    for cls in kind.__mro__:
        if cls.__module__ in _DATA_MODULES:
            continue
        for name, attr in vars(cls).items():
            if not (name.startswith("__") and name.endswith("__")) and (
                    callable(attr) or isinstance(attr, (classmethod, staticmethod, property))):
                return True
    return False


def decode(data, resolve=None, depth: int = 0):
    """The value ``data`` encodes; ``resolve(tag)`` turns a handle tag into an object."""
    if depth > MAX_DEPTH:
        raise WireError(f"a value nested more than {MAX_DEPTH} levels deep")
    if data is None or type(data) in (bool, str, int, float):
        return data
    if type(data) is not dict or len(data) != 1:
        raise WireError(f"not an encoded value: {str(data)[:80]}")
    (tag, body), = data.items()
    d = depth + 1
    if tag == "list":
        return [decode(v, resolve, d) for v in _list(body)]
    if tag == "tuple":
        return tuple(decode(v, resolve, d) for v in _list(body))
    if tag == "dict":
        return {decode(k, resolve, d): decode(v, resolve, d) for k, v in _pairs(body)}
    if tag in ("set", "frozenset"):
        items = (decode(v, resolve, d) for v in _list(body))
        return set(items) if tag == "set" else frozenset(items)
    if tag == "bytes":
        return base64.b64decode(_str(body), validate=True)
    if tag == "int":
        return int(_str(body))
    if tag == "float":
        return float(_str(body))
    if tag == "Request":
        ip, headers, cookies, path, time = _list(body, 5)
        return Request(_str(ip), headers=_str_map(headers), cookies=_str_map(cookies), path=_str(path),
                       time=_number(time))
    if tag == "Headers":
        return Headers((_str(k), _str(v)) for k, v in _pairs(body))
    if tag == "Pool":
        return resolve(tag, body) if resolve is not None else decode_pool(body)
    if tag == "Response":
        status, headers, cookies = _list(body, 3)
        response = Response(status=int(_number(status)), headers=_str_map(headers))
        for c in _list(cookies):
            name, value, max_age, http_only, secure, same_site = _list(c, 6)
            response.set_cookie(name, value, max_age, bool(http_only), bool(secure), same_site)
        return response
    if tag == "data":
        name, fields = _list(body, 2)
        cls = _DATACLASSES.get(name) if type(name) is str else None
        if cls is None:
            raise WireError(f"unknown data class {name!r}")
        values = decode(fields, None, d)
        if type(values) is not dict or not all(type(k) is str for k in values):
            raise WireError(f"bad fields for {name}")
        return cls(**values)
    if resolve is not None:
        return resolve(tag, body)
    raise WireError(f"unknown tag {tag!r}")


def decode_pool(body, into: Pool | None = None) -> Pool:
    """The :class:`~stickylab.Pool` an encoded pool describes; ``into`` is updated instead if given.

    Updating the same object keeps what a router may cache on it (its identity, its
    ``version``, which grows by one on each change), as in the process that sent it.
    """
    healthy, draining, members, loads, _, _ = _list(body, 6)
    healthy, draining, members = ([_str(i) for i in _list(x)] for x in (healthy, draining, members))
    loads = {_str(k): _number(v) for k, v in _str_map(loads, values=None).items()}
    if into is None:
        return Pool(healthy=healthy, draining=draining, members=members, load=loads)
    if (list(into.healthy), list(into.draining), list(into.members)) != (healthy, draining, members):
        into.update(healthy, draining, members)
    into._load = loads
    return into


def pool_key(body) -> int:
    """Which pool object of the sender an encoded pool is (the same key for the same object)."""
    return _list(body, 6)[4]


def _list(body, length: int | None = None) -> list:
    if type(body) is not list or (length is not None and len(body) != length):
        raise WireError(f"expected a list{f' of {length}' if length else ''}, got {str(body)[:80]}")
    return body


def _pairs(body) -> list:
    pairs = _list(body)
    for pair in pairs:
        _list(pair, 2)
    return pairs


def _str(value) -> str:
    if type(value) is not str:
        raise WireError(f"expected a string, got {str(value)[:80]}")
    return value


def _number(value) -> float:
    if type(value) not in (int, float):
        raise WireError(f"expected a number, got {str(value)[:80]}")
    return value


def _str_map(value, values=str) -> dict:
    if type(value) is not dict or not all(type(k) is str for k in value):
        raise WireError(f"expected a mapping of strings, got {str(value)[:80]}")
    if values is str and not all(type(v) is str for v in value.values()):
        raise WireError(f"expected string values, got {str(value)[:80]}")
    return value


# -- messages: a 4-byte length, then JSON ------------------------------------------------------------
