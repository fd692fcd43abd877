"""The host's end of the test process, and the fresh interpreters it asks for.

Runs on the host, inside :class:`~stickylab.grade.execute.SandboxedExecute`.
:class:`VerdictClient` starts the test process (:mod:`stickylab.grade.verdict`) in its
sandbox and exchanges :mod:`~stickylab.grade.protocol` messages with it: the names it may
take, the setup cells, each test cell and its outputs. While a test cell runs, the test
process may ask for fresh interpreters (:func:`~stickylab.grade.protocol.fresh`):
:class:`FreshInterpreters` starts them, each in a sandbox of its own, running the learner's
cells again (:mod:`stickylab.grade.fresh`).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

from nbformat.v4 import new_output

from .. import children
from ..grading import WALL_SLACK
from . import protocol
from . import sandbox as sb

__all__ = ["FreshInterpreters", "VerdictClient", "error_output"]


def error_output(ename: str, evalue: str) -> dict:
    """An nbformat error output whose only line says ``ename: evalue`` (no source, no traceback)."""
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _spawn(box: sb.Sandbox, argv: list[str], stdout, stderr, **env) -> subprocess.Popen:
    """``argv`` started in ``box`` (its sandbox where enabled, its limits always), in its scratch folder.

    Started by :func:`stickylab.children.start`, so it dies with the grader even where no
    sandbox holds it (``--unsafe``).
    """
    environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg", **env)
    environment.pop("JPY_PARENT_PID", None)
    return children.start(box.launcher(box.command(argv)), stdin=subprocess.PIPE, stdout=stdout,
                          stderr=stderr, cwd=box.scratch, env=environment)


class VerdictClient:
    """The clean process that runs test cells (see :mod:`stickylab.grade.verdict`)."""

    def __init__(self, workspace: Path, box: sb.Sandbox, log, fresh=None):
        self.workspace, self.box, self.log = workspace, box, log
        self.proc: subprocess.Popen | None = None
        self.setup: list[str] = []
        self.fresh = fresh      # seed -> socket path of a fresh interpreter running the learner's cells
        self.names: list[str] = []

    def start(self) -> None:
        """Start the process; tell it the learner's names it may use; run the setup cells seen so far."""
        self.stderr = open(self.workspace / "verdict.log", "ab")
        self.proc = _spawn(self.box, [sys.executable, "-m", "stickylab.grade.verdict"], subprocess.PIPE,
                           self.stderr)
        self._ask(protocol.names(self.names), 120)
        for source in self.setup:
            self._ask(protocol.setup(source), 120)

    def add_setup(self, source: str) -> None:
        """An instructor's locked cell (the imports): run now and after any restart."""
        self.setup.append(source)
        if self.proc is not None:
            self._ask(protocol.setup(source), 120)

    def run(self, source: str, socket_path: str | None, timeout: float, idle=None, cells=()) -> list[dict]:
        """The outputs of one test cell; ``idle()`` is called every 50 ms while it runs.

        ``cells`` are the learner's code cells run so far (for checks that read their source).
        """
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        try:
            return self._ask(protocol.run(source, socket_path, timeout, cells), timeout * WALL_SLACK + 15,
                             idle)["outputs"]
        except (TimeoutError, OSError, EOFError, ValueError, KeyError) as exc:
            self.log.error("The test process failed on a test cell (%s); restarting it", exc)
            self.stop()
            return [error_output("GradingError", f"the tests of this cell could not finish ({exc})")]

    def _ask(self, message: dict, seconds: float, idle=None) -> dict:
        """Send ``message``; answer the process's requests for fresh interpreters until it replies."""
        self._send(message)
        deadline = time.monotonic() + seconds
        while True:
            with selectors.DefaultSelector() as sel:
                sel.register(self.proc.stdout, selectors.EVENT_READ)
                while not sel.select(min(0.05, max(0.0, deadline - time.monotonic()))):
                    if time.monotonic() >= deadline:
                        raise TimeoutError(f"no answer within {seconds:g} s")
                    if idle is not None:
                        idle()
            try:
                reply = protocol.receive(self.proc.stdout.fileno())
            except EOFError:
                raise OSError("the test process exited") from None
            if reply.get("op") != "fresh":
                return reply
            seeds = [int(s) for s in reply.get("seeds", [])][:8]
            self._send(protocol.sockets([self.fresh(seed) for seed in seeds]))

    def _send(self, message: dict) -> None:
        protocol.send(self.proc.stdin.fileno(), message)

    def stop(self) -> None:
        """Kill the process and everything it started."""
        if self.proc is not None:
            with contextlib.suppress(Exception):
                sb.kill_tree(self.proc)
            self.proc = None
            self.stderr.close()


class FreshInterpreters:
    """The learner's cells run again in fresh sandboxed interpreters, one per hash seed asked for.

    Args:
        workspace: the grading's workspace (each interpreter's scratch folder and log go there).
        sockets: the folder of sockets the sandboxes share with the grader.
        like: the learner kernel's sandbox, whose limits and forbidden paths each one gets.
    """

    def __init__(self, workspace: Path, sockets: Path, like: sb.Sandbox):
        self.workspace, self.sockets, self.like = workspace, sockets, like
        self.procs: list[subprocess.Popen] = []
        self.started = 0

    def start(self, seed: int, sources: list[str]) -> str:
        """Start ``sources`` in a fresh sandboxed interpreter with ``PYTHONHASHSEED=seed``; its socket."""
        n = self.started
        self.started += 1
        scratch = self.workspace / f"fresh-{n}"
        socket_path = str(self.sockets / f"fresh-{n}.sock")
        box = sb.Sandbox(scratch, self.like.forbidden, self.like.limits, extra_binds=[self.sockets],
                         enabled=self.like.enabled)
        box.prepare()
        with open(self.workspace / f"fresh-{n}.log", "ab") as log:
            proc = _spawn(box, [sys.executable, "-m", "stickylab.grade.fresh", socket_path], log, log,
                          PYTHONHASHSEED=str(seed))
        self.procs.append(proc)
        with contextlib.suppress(OSError):
            proc.stdin.write(json.dumps(list(sources)).encode())
            proc.stdin.close()
        return socket_path

    def stop_all(self) -> None:
        """Kill every interpreter started (and all they started)."""
        for proc in self.procs:
            with contextlib.suppress(Exception):
                sb.kill_tree(proc)
        self.procs.clear()
