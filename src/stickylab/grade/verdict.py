"""The clean process that runs a notebook's test cells while it is autograded.

Test cells never run in the learner's kernel. This process runs them, one at a time,
as the executor (:mod:`stickylab.grade.execute`) sends them, with the learner's names
bound to :mod:`~stickylab.grade.remote` handles: a test calls the learner's code across
the process boundary and gets plain data back, and decides here, where the learner's
code never ran. What it prints is kept (capped); an error becomes the cell's one error
output, with the message and no source line, so a hidden test's code never reaches
the feedback.

Protocol (one JSON object per line): the executor sends ``{"op": "setup", "source": ...}``
(an instructor's locked cell, such as the imports), ``{"op": "run", "source": ...,
"socket": ..., "timeout": ...}`` (a test cell) or ``{"op": "quit"}``, and reads back
``{"outputs": [...]}`` for each.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sys

from .remote import Connection, KernelGone

#: Bytes of printed output one test cell keeps.
MAX_PRINTED = 16_384


def _error(exc: BaseException) -> dict:
    name = type(exc).__name__
    text = str(exc)
    if len(text) > 4000:
        text = text[:4000] + " ... (cut)"
    return {"output_type": "error", "ename": name, "evalue": text, "traceback": [f"{name}: {text}"]}


def _cell_timeout(seconds: float):
    def expired(signum, frame):
        raise TimeoutError(f"the tests of this cell did not finish within {seconds:g} s")

    signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)


class Worker:
    """One notebook's test cells, run in order in one namespace."""

    def __init__(self, channel=None, requests=None):
        self.namespace: dict = {"__name__": "__main__"}
        self.conn = Connection()
        self.first = True
        self.channel, self.requests = channel, requests

    def probe(self, probe: str, seeds: list[int], seconds: float) -> dict[int, str]:
        """``repr(eval(probe))`` over the learner's names in fresh interpreters, one per hash seed.

        The grader starts each interpreter in a sandbox of its own (:mod:`stickylab.grade.fresh`);
        the probe is evaluated here, calling into it, so only its answers come back.
        """
        from .. import grading
        import stickylab

        self.channel.write(json.dumps({"op": "fresh", "seeds": list(seeds)}) + "\n")
        sockets = json.loads(self.requests.readline())["sockets"]
        answers = {}
        for seed, path in zip(seeds, sockets):
            conn = Connection()
            try:
                conn.connect(path, seconds)
                names = conn.names(every=True)
            except Exception as exc:
                raise AssertionError("your cells do not run on their own in a fresh Python process "
                                     f"({type(exc).__name__}: {exc})") from None
            try:
                with grading.time_bound(seconds, f"the check with PYTHONHASHSEED={seed}"):
                    value = eval(probe, {"sl": stickylab, "grading": grading, **names})
            except NameError as exc:
                raise AssertionError(f"run on their own in a fresh Python process, your cells do not "
                                     f"define what the check needs: {exc}") from None
            finally:
                conn.close()
            answers[seed] = repr(value)
        return answers

    def setup(self, source: str) -> list[dict]:
        """Run an instructor's locked cell (the imports); its outputs."""
        return self._exec(source, "<setup cell>")

    def run(self, source: str, socket_path: str | None, timeout: float) -> list[dict]:
        """Run a test cell with the learner's names from the kernel serving ``socket_path``; its outputs."""
        outputs: list[dict] = []
        try:
            if socket_path:
                self.conn.connect(socket_path)
                for name, value in self.conn.names(every=self.first).items():
                    if not isinstance(self.namespace.get(name), type(os)):
                        self.namespace[name] = value
                self.first = False
        except Exception as exc:
            outputs.append(_error(exc if isinstance(exc, KernelGone) else KernelGone(
                f"the tests could not read your notebook's names: {type(exc).__name__}: {exc}")))
            self.conn.close()
            return outputs
        try:
            _cell_timeout(timeout)
            outputs = self._exec(source, "<test cell>")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
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
    """Serve the executor on stdin/stdout until it says quit."""
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    sys.stdout = io.StringIO()          # stray prints never corrupt the channel
    worker = Worker(channel, sys.stdin)
    from .. import grading

    grading.FRESH_PROBE = worker.probe
    while line := sys.stdin.readline():
        message = json.loads(line)
        op = message.get("op")
        if op == "quit":
            break
        if op == "setup":
            outputs = worker.setup(message["source"])
        else:
            grading.NOTEBOOK_CELLS = [str(c) for c in message.get("cells", [])]
            outputs = worker.run(message["source"], message.get("socket"), float(message.get("timeout", 30)))
        channel.write(json.dumps({"outputs": outputs}) + "\n")


if __name__ == "__main__":
    main()
