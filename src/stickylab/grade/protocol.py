"""Every message that crosses a process boundary while a notebook is graded, and their one framing.

A notebook is graded by four kinds of process:

- **the host**: nbgrader's own process, running
  :class:`~stickylab.grade.execute.SandboxedExecute`;
- **the learner's kernel**, sandboxed, running the learner's cells (and, forked from it for each
  test cell, the child that answers the tests: :mod:`stickylab.grade.learner_side`);
- **fresh interpreters**, sandboxed, running the learner's cells again with another hash seed
  (:mod:`stickylab.grade.fresh`), which answer the tests as the kernel does;
- **the test process**, sandboxed and clean, running the test cells
  (:mod:`stickylab.grade.verdict`) and reaching the learner's objects only through
  :mod:`stickylab.grade.remote`.

They talk on three channels, all framed alike (:func:`send`, :func:`receive`): a 4-byte
big-endian length, then that many bytes of one JSON object, at most :data:`MAX_MESSAGE`.

**Host and test process** (the test process's stdin and stdout). The host sends
:func:`names`, :func:`setup`, :func:`run` or :func:`quit`; the test process answers each but
``quit`` with :func:`outputs`. While a test cell runs, it may first ask :func:`fresh`
interpreters, and the host answers with :func:`sockets`.

**Test process and learner** (a Unix socket in the grading's socket folder; the host makes
the kernel listen by running :data:`SERVE` in it, and starts fresh interpreters listening).
The test process sends requests with an ``id``: ``names`` (:func:`list_names`), the calls of
:data:`CALLS` (:func:`call`) and finally ``done`` (:func:`done`). Each is answered by a reply
with the same ``id`` and either ``ok`` (the answer, encoded by :mod:`stickylab.grade.wire`,
with ``changed``: arguments the call changed) or ``error`` (:func:`error`).

**Host and fresh interpreter**: the learner's cells, one JSON list on its stdin, unframed
(it is read to the end).
"""

from __future__ import annotations

import json
import os
import struct
import traceback

__all__ = ["CALLS", "DEFAULT_SECONDS", "MAX_MESSAGE", "SERVE", "ProtocolError", "call", "done", "error",
           "fresh", "list_names", "names", "outputs", "quit", "receive", "run", "send", "setup", "sockets",
           "take"]

#: Seconds of CPU a call of the learner's code may take when its request carries no bound
#: (``seconds``, ``wall``: what is left of the test's ``grading.time_bound``).
DEFAULT_SECONDS = 10.0
#: Largest message either side accepts (bytes of JSON).
MAX_MESSAGE = 32 * 1024 * 1024

#: Code the host runs in the learner's kernel to have it answer the test process on a socket.
SERVE = "__import__('stickylab.grade.learner_side', fromlist=['serve']).serve({path!r})"

#: Calls the test process may make of a learner's object (``target``):
#: ``call`` it (or its method ``name``), ``method`` (call method ``name``), read (``getattr``)
#: or set (``setattr``, with ``value``) an attribute, ``list`` it, call it over many argument
#: lists (``batch``; ``measured`` also counts its CPU seconds), call it traced for the library
#: functions it reaches (``traced``), or list what it reaches (``reach``).
CALLS = frozenset({"call", "method", "getattr", "setattr", "list", "batch", "measured", "traced", "reach"})

_LENGTH = struct.Struct("!I")


class ProtocolError(ValueError):
    """A message that is not one of these, or larger than :data:`MAX_MESSAGE`."""


# -- host -> test process -------------------------------------------------------------------------------
def names(wanted: list[str]) -> dict:
    """The names the assignment's solution cells define: the only ones the tests take from the learner."""
    return {"op": "names", "names": list(wanted)}


def setup(source: str) -> dict:
    """An instructor's locked cell (the imports), run in the tests' namespace."""
    return {"op": "setup", "source": source}


def run(source: str, socket_path: str | None, timeout: float, cells: list[str]) -> dict:
    """A test cell, with the learner's kernel serving on ``socket_path`` and the cells it ran so far."""
    return {"op": "run", "source": source, "socket": socket_path, "timeout": timeout, "cells": list(cells)}


def quit() -> dict:     # noqa: A001 - the message's name
    """The notebook is done: the test process exits."""
    return {"op": "quit"}


def sockets(paths: list[str]) -> dict:
    """The answer to :func:`fresh`: one socket per seed, each served by a fresh interpreter."""
    return {"sockets": list(paths)}


# -- test process -> host ---------------------------------------------------------------------------------
def outputs(cell_outputs: list[dict]) -> dict:
    """The answer to every message but ``quit``: the cell's outputs (nbformat output dicts)."""
    return {"outputs": list(cell_outputs)}


def fresh(seeds: list[int]) -> dict:
    """A request for fresh interpreters running the learner's cells, one per hash seed."""
    return {"op": "fresh", "seeds": [int(s) for s in seeds]}


# -- test process -> learner ------------------------------------------------------------------------------
def list_names(every: bool, only=None) -> dict:
    """The learner's names (those changed since the last visit, or ``every`` one; ``only`` these)."""
    message = {"op": "names", "every": every}
    if only is not None:
        message["only"] = sorted(only)
    return message


def call(op: str, target: int, args, kwargs, name: str | None = None) -> dict:
    """A call of :data:`CALLS` on the learner's object ``target`` (``args`` and ``kwargs`` encoded)."""
    if op not in CALLS:
        raise ProtocolError(f"unknown call {op!r} (one of {', '.join(sorted(CALLS))})")
    message = {"op": op, "target": target, "args": args, "kwargs": kwargs}
    if name is not None:
        message["name"] = name
    return message


def done() -> dict:
    """The tests are done with the learner for this cell: its child answers and exits."""
    return {"op": "done"}


# -- learner -> test process ------------------------------------------------------------------------------
def error(exc: BaseException) -> dict:
    """A reply's error: the exception's class, module, message and last three frames, bounded."""
    cls = type(exc)
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    where = [f"{f.name}, line {f.lineno}: {(f.line or '').strip()}"[:200] for f in frames]
    return {"error": [cls.__name__[:100], cls.__module__[:100], str(exc)[:2000], where]}


# -- the framing --------------------------------------------------------------------------------------------
def send(channel, message: dict) -> None:
    """Send one message on a connected socket or a file descriptor (an ``int``: a pipe's end)."""
    body = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
    if len(body) > MAX_MESSAGE:
        raise ProtocolError(f"a message of {len(body):,} bytes is larger than the limit of {MAX_MESSAGE:,}")
    data = _LENGTH.pack(len(body)) + body
    if isinstance(channel, int):
        view = memoryview(data)
        while view:
            view = view[os.write(channel, view):]
    else:
        channel.sendall(data)


def receive(channel) -> dict:
    """Receive one message; :class:`EOFError` if the other side closed the connection."""
    (size,) = _LENGTH.unpack(_read_exactly(channel, _LENGTH.size))
    return _parse(_read_exactly(channel, _checked(size)))


def take(buffer: bytearray) -> dict | None:
    """The first whole message in ``buffer`` (removed from it), or None while it is incomplete."""
    if len(buffer) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack_from(buffer)
    end = _LENGTH.size + _checked(size)
    if len(buffer) < end:
        return None
    body = bytes(buffer[_LENGTH.size:end])
    del buffer[:end]
    return _parse(body)


def _checked(size: int) -> int:
    if size > MAX_MESSAGE:
        raise ProtocolError(f"a message of {size:,} bytes is larger than the limit of {MAX_MESSAGE:,}")
    return size


def _parse(body: bytes) -> dict:
    try:
        message = json.loads(body)
    except ValueError as exc:
        raise ProtocolError(f"a message that is not JSON: {exc}") from None
    if type(message) is not dict:
        raise ProtocolError("a message must be a JSON object")
    return message


def _read_exactly(channel, size: int) -> bytes:
    chunks, left = [], size
    while left:
        want = min(left, 1 << 20)
        chunk = os.read(channel, want) if isinstance(channel, int) else channel.recv(want)
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
