"""grade/protocol.py: the one framing of every grading channel, and the messages it carries."""

from __future__ import annotations

import os
import socket
import struct

import pytest

from stickylab.grade import protocol


@pytest.mark.parametrize("kind", ["socket", "pipe"])
def test_a_message_arrives_whole_on_a_socket_and_on_a_pipe(kind):
    if kind == "socket":
        a, b = socket.socketpair()
        ends, close = (a, b), (a.close, b.close)
    else:
        r, w = os.pipe()
        ends, close = (w, r), (lambda: os.close(w), lambda: os.close(r))
    try:
        sent = protocol.run("assert f(1) == 2", "/tmp/k.sock", 2.5, ["def f(x):\n    return 2 * x"])
        protocol.send(ends[0], sent)
        protocol.send(ends[0], protocol.quit())
        assert protocol.receive(ends[1]) == sent
        assert protocol.receive(ends[1]) == {"op": "quit"}
    finally:
        for c in close:
            c()


def test_a_closed_channel_is_an_eof_not_a_half_message():
    r, w = os.pipe()
    os.write(w, struct.pack("!I", 10) + b'{"op"')
    os.close(w)
    with pytest.raises(EOFError):
        protocol.receive(r)
    os.close(r)


def test_messages_are_taken_from_a_buffer_only_when_whole():
    a, b = socket.socketpair()
    with a, b:
        protocol.send(a, protocol.fresh([1, 2]))
        protocol.send(a, protocol.outputs([]))
        data = b.recv(1 << 16)
    buffer = bytearray(data[:7])
    assert protocol.take(buffer) is None and len(buffer) == 7
    buffer += data[7:]
    assert protocol.take(buffer) == {"op": "fresh", "seeds": [1, 2]}
    assert protocol.take(buffer) == {"outputs": []}
    assert protocol.take(buffer) is None and not buffer


@pytest.mark.parametrize(("body", "why"), [(b"[1, 2]", "JSON object"), (b"{nope", "not JSON")])
def test_a_message_that_is_not_a_json_object_is_refused(body, why):
    buffer = bytearray(struct.pack("!I", len(body)) + body)
    with pytest.raises(protocol.ProtocolError, match=why):
        protocol.take(buffer)


def test_a_message_past_the_limit_is_refused_before_it_is_read():
    buffer = bytearray(struct.pack("!I", protocol.MAX_MESSAGE + 1))
    with pytest.raises(protocol.ProtocolError, match="larger than the limit"):
        protocol.take(buffer)
    with pytest.raises(protocol.ProtocolError, match="larger than the limit"):
        protocol.send(socket.socket(), {"x": "y" * (protocol.MAX_MESSAGE + 1)})


def test_a_call_outside_the_vocabulary_is_refused_by_name():
    assert protocol.call("method", 3, {"list": []}, {"dict": []}, "route")["name"] == "route"
    with pytest.raises(protocol.ProtocolError, match="'exec'"):
        protocol.call("exec", 3, {"list": []}, {"dict": []})


def test_an_error_reply_is_bounded_and_names_the_exception():
    try:
        raise KeyError("x" * 5000)
    except KeyError as exc:
        reply = protocol.error(exc)
    name, module, text, where = reply["error"]
    assert (name, module) == ("KeyError", "builtins")
    assert len(text) <= 2000 and where and "raise KeyError" in where[-1]


def test_the_code_that_makes_a_kernel_serve_names_the_learner_side():
    code = protocol.SERVE.format(path="/run/x.sock")
    assert "stickylab.grade.learner_side" in code and "'/run/x.sock'" in code
    compile(code, "<serve>", "eval")
