"""The clean process that runs a notebook's test cells while it is autograded.

Test cells never run in the learner's kernel. This process runs them, one at a time,
as the executor (:mod:`stickylab.grade.execute`) sends them, with the learner's names
bound to :mod:`~stickylab.grade.remote` handles: a test calls the learner's code across
the process boundary and gets plain data back, and decides here, where the learner's
code never ran. What it prints is kept (capped); an error becomes the cell's one error
output, with the message and no source line, so a hidden test's code never reaches
the feedback.

Only the names the assignment's solution cells define are taken from the learner, and
never one a setup cell binds or one of Python's built-ins: a learner's ``len`` or
``range`` never replaces the real one inside a test.

Runs in the test process, sandboxed, started by the host for each notebook; its messages
(on its stdin and stdout) are those of :mod:`stickylab.grade.protocol`.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import signal
import sys

from . import protocol
from .remote import Connection, KernelGone

#: Bytes of printed output one test cell keeps.
MAX_PRINTED = 16_384


def _error(exc: BaseException) -> dict:
    name = type(exc).__name__
    text = str(exc)
    if len(text) > 4000:
        text = text[:4000] + " ... (cut)"
    return {"output_type": "error", "ename": name, "evalue": text, "traceback": [f"{name}: {text}"]}


def _cell_timeout(seconds: float) -> None:
    """Bound a test cell: ``seconds`` of this process's CPU, and ``WALL_SLACK`` times that of wall clock.

    The learner's code is bounded where it runs, call by call; this bounds the test's own work.
    """
    from ..grading import WALL_SLACK

    def expired(signum, frame):
        raise TimeoutError(f"the tests of this cell did not finish within {seconds:g} s")

    signal.signal(signal.SIGPROF, expired)
    signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, seconds * WALL_SLACK)


def _stop_timers() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.setitimer(signal.ITIMER_PROF, 0)


class Worker:
    """One notebook's test cells, run in order in one namespace.

    Args:
        channel: the file descriptor its requests to the host go out on (fresh interpreters).
        requests: the file descriptor the host's answers to them come in on.
    """

    def __init__(self, channel: int | None = None, requests: int | None = None):
        self.namespace: dict = {"__name__": "__main__"}
        self.conn = Connection()
        self.channel, self.requests = channel, requests
        self.protected = set(dir(builtins))     # never bound to a learner's value
        self.wanted: set[str] = set()           # the learner's names the tests may see
        self.cells: list[str] = []              # the learner's code cells run so far

    def want(self, names) -> None:
        """The names the assignment's solution cells define: the only ones taken from the learner."""
        self.wanted = {str(n) for n in names} - self.protected

    def learner_names(self, conn: Connection) -> dict:
        """The learner's values of the wanted names, as data or handles (a built-in's name never)."""
        return {name: value for name, value in conn.names(every=True, only=self.wanted).items()
                if name in self.wanted}

    def probe(self, probe: str, seeds: list[int], seconds: float) -> dict[int, str]:
        """``repr(eval(probe))`` over the learner's names in fresh interpreters, one per hash seed.

        The grader starts each interpreter in a sandbox of its own (:mod:`stickylab.grade.fresh`);
        the probe is evaluated here, calling into it, so only its answers come back.
        """
        from .. import grading
        import stickylab

        protocol.send(self.channel, protocol.fresh(seeds))
        sockets = protocol.receive(self.requests)["sockets"]
        answers = {}
        for seed, path in zip(seeds, sockets):
            conn = Connection()
            try:
                conn.connect(path, seconds)
                names = self.learner_names(conn)
            except Exception as exc:
                raise AssertionError("your cells do not run on their own in a fresh Python process "
                                     f"({type(exc).__name__}: {exc})") from None
            try:
                with grading.time_bound(seconds, f"the check with PYTHONHASHSEED={seed}"):
                    value = eval(probe, {**names, "__builtins__": builtins, "sl": stickylab,
                                         "grading": grading})
            except NameError as exc:
                raise AssertionError(f"run on their own in a fresh Python process, your cells do not "
                                     f"define what the check needs: {exc}") from None
            finally:
                conn.close()
            answers[seed] = repr(value)
        return answers

    def setup(self, source: str) -> list[dict]:
        """Run an instructor's locked cell (the imports); its outputs. Its names stay the tests' own."""
        before = set(self.namespace)
        outputs = self._exec(source, "<setup cell>")
        self.protected |= set(self.namespace) - before
        self.wanted -= self.protected
        return outputs

    def run(self, source: str, socket_path: str | None, timeout: float) -> list[dict]:
        """Run a test cell with the learner's names from the kernel serving ``socket_path``; its outputs."""
        outputs: list[dict] = []
        try:
            if socket_path:
                self.conn.connect(socket_path)
                self.namespace.update(self.learner_names(self.conn))
        except Exception as exc:
            outputs.append(_error(exc if isinstance(exc, KernelGone) else KernelGone(
                f"the tests could not read your notebook's names: {type(exc).__name__}: {exc}")))
            self.conn.close()
            return outputs
        try:
            _cell_timeout(timeout)
            outputs = self._exec(source, "<test cell>")
        finally:
            _stop_timers()
            self.conn.close()
        return outputs

    def _exec(self, source: str, filename: str) -> list[dict]:
        printed, errors = io.StringIO(), io.StringIO()
        outputs = []
        try:
            code = compile(source, filename, "exec")
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
                exec(code, self.namespace)
        except BaseException as exc:     # the test failed (or timed out): that is its verdict
            error = _error(exc)
        else:
            error = None
        text = printed.getvalue()
        if text:
            if len(text) > MAX_PRINTED:
                text = text[:MAX_PRINTED] + f"\n... ({len(text) - MAX_PRINTED:,} more characters cut)\n"
            outputs.append({"output_type": "stream", "name": "stdout", "text": text})
        if error:
            outputs.append(error)
        return outputs


def main() -> None:
    """Serve the host on stdin and stdout until it says quit."""
    channel = os.dup(1)
    sys.stdout = io.StringIO()          # stray prints never corrupt the channel
    worker = Worker(channel, 0)
    from .. import grading

    with grading.autograding(worker.probe, lambda: worker.cells):
        while True:
            try:
                message = protocol.receive(0)
            except EOFError:
                break
            op = message.get("op")
            if op == "quit":
                break
            if op == "names":
                worker.want(message.get("names", []))
                outputs = []
            elif op == "setup":
                outputs = worker.setup(message["source"])
            elif op == "run":
                worker.cells = [str(c) for c in message.get("cells", [])]
                outputs = worker.run(message["source"], message.get("socket"),
                                     float(message.get("timeout", 30)))
            else:
                raise protocol.ProtocolError(f"unknown message {op!r} from the host")
            protocol.send(channel, protocol.outputs(outputs))


if __name__ == "__main__":
    main()
