"""Child processes: started so that they die with us, stopped with everything they started.

Every part of StickyLab that runs other programs (the live lab's backends, redis-server and
haproxy; the grader's sandboxes; the grading service's jobs) starts and stops them here:

- :func:`start` starts a child in a session of its own and, on Linux, through a small
  trampoline that asks the kernel for ``SIGKILL`` when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``) and then execs the program, so nothing outlives us even when
  we are killed with SIGKILL. No Python runs in the child between fork and exec
  (``preexec_fn`` can deadlock once threads exist). The kernel sends that signal when the
  *thread* that forked the child ends, not the process (Go documents the same trap for
  ``SysProcAttr.Pdeathsig``), so every child is forked by one thread of this module that
  lives as long as the process.
- :func:`exit_with_parent` is the child's half, for Python children on any system (macOS
  has no ``PR_SET_PDEATHSIG``): exit when stdin, a pipe from the parent, reaches EOF.
- :func:`stop` ends a whole tree as systemd stops a unit: SIGTERM then SIGCONT to every
  process (one stopped with SIGSTOP ends at once), SIGKILL to what is left after a grace
  period; :func:`kill` sends SIGKILL at once. The tree is the child, its process group, and
  every process below it that psutil finds (a process that starts a session of its own, as
  bubblewrap's sandboxes do, leaves the group but not the tree).
- :func:`wait_async`, :func:`stop_async` and :func:`kill_async` wait from an asyncio loop without
  blocking it.

Every wait is bounded: a process that survives SIGKILL for :data:`KILL_WAIT` seconds (stuck in
the kernel) is logged and left.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

import psutil

__all__ = ["KILL_WAIT", "descendants", "exit_with_parent", "kill", "kill_async", "start", "stop",
           "stop_async", "wait_async"]

logger = logging.getLogger(__name__)

#: Seconds to wait for processes to go after SIGKILL (they cannot refuse it; a bound all the same).
KILL_WAIT = 5.0
#: Seconds a start may wait for the forking thread (which is busy only while it forks).
_START_WAIT = 30.0
#: Whether the kernel offers a parent-death signal (``PR_SET_PDEATHSIG``).
_PDEATHSIG = sys.platform.startswith("linux")

#: Run as ``python -I -S -c _TRAMPOLINE PARENT PROGRAM ARGV...``: asks for SIGKILL on the
#: parent's death, gives up if the parent is already gone, then becomes PROGRAM.
_TRAMPOLINE = """\
import ctypes, os, sys
PR_SET_PDEATHSIG, SIGKILL = 1, 9
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, SIGKILL) != 0:
    sys.stderr.write(f"prctl(PR_SET_PDEATHSIG): {os.strerror(ctypes.get_errno())}\\n")
    os._exit(126)
if os.getppid() != int(sys.argv[1]):
    os._exit(1)
try:
    os.execv(sys.argv[2], sys.argv[3:])
except OSError as exc:
    sys.stderr.write(f"cannot run {sys.argv[2]}: {exc}\\n")
    os._exit(127)
"""


class _Forker:
    """The one thread that forks every child: it lives as long as the process (see the module's docstring)."""

    def __init__(self):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def call(self, fn):
        """``fn()`` run on the forking thread; its result (or its exception)."""
        if threading.current_thread() is self._thread:
            return fn()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="stickylab-children", daemon=True)
                self._thread.start()
        job: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((fn, job))
        try:
            return job.result(_START_WAIT)
        except TimeoutError:
            job.cancel()
            raise

    def _serve(self) -> None:
        while True:
            fn, job = self._jobs.get()
            if not job.set_running_or_notify_cancel():
                continue
            try:
                job.set_result(fn())
            except BaseException as exc:        # handed to the caller
                job.set_exception(exc)


_FORKER = _Forker()
os.register_at_fork(after_in_child=_FORKER.__init__)     # a forked copy of us has no forking thread


def _program(name: str, env: dict | None) -> str:
    """The file ``name`` runs: a path as given, else found on the ``PATH`` (``env``'s if given)."""
    if os.path.dirname(name):
        return name
    found = shutil.which(name, path=(os.environ if env is None else env).get("PATH", os.defpath))
    if found is None:
        raise FileNotFoundError(errno.ENOENT, f"no program {name!r} on the PATH", name)
    return found


def start(argv: list[str], *, stdin=None, stdout=None, stderr=None, env: dict | None = None,
          cwd=None, new_session: bool = True) -> subprocess.Popen:
    """Start ``argv`` as a child that dies with this process (SIGKILL, on Linux).

    Args:
        argv: the program and its arguments; the program is looked up on the ``PATH``.
        stdin: as :class:`subprocess.Popen`'s (``subprocess.PIPE`` lets a Python child
            :func:`exit_with_parent` on any system).
        stdout: as :class:`subprocess.Popen`'s.
        stderr: as :class:`subprocess.Popen`'s.
        env: its environment (ours if None).
        cwd: its working folder.
        new_session: start it in a session, and so a process group, of its own: signals
            meant for our terminal do not reach it, and :func:`stop` reaches what it starts.

    Returns:
        The child, a :class:`subprocess.Popen`.

    Raises:
        FileNotFoundError: the program is not on the ``PATH``.
    """
    argv = [os.fspath(a) for a in argv]
    program = _program(argv[0], env)
    command = argv
    if _PDEATHSIG:
        command = [sys.executable, "-I", "-S", "-c", _TRAMPOLINE, str(os.getpid()), program, *argv]

    def fork() -> subprocess.Popen:
        return subprocess.Popen(command, stdin=stdin, stdout=stdout, stderr=stderr, env=env, cwd=cwd,
                                start_new_session=new_session)

    return _FORKER.call(fork)


def exit_with_parent(parent: int | None = None) -> None:
    """In a child: exit when the parent goes, on any system (the child's half of :func:`start`).

    Exits at once if ``parent`` is given and is no longer our parent; otherwise a thread
    reads stdin, a pipe whose other end only the parent holds, and exits at its EOF.
    """
    if parent is not None and os.getppid() != parent:
        os._exit(0)

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch, daemon=True, name="stickylab-exit-with-parent").start()


def descendants(pid: int) -> list[psutil.Process]:
    """Every process below ``pid`` (its children, theirs, ...), each after its parent; [] if none or gone."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _alive(process: psutil.Process) -> bool:
    """True while ``process`` runs (a zombie no longer does; a reused pid is another process)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class _Tree:
    """A child and every process of its tree: those below it and those of its process group.

    Signals go by pid only while the child is not reaped (until then its pid, and the number
    of the process group it leads, name no other process); every other process is one of
    psutil's, which checks that a pid still names the same process before signalling it.
    """

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.leads = proc.poll() is None and _leads_group(proc.pid)
        self.below: list[psutil.Process] = []
        self._find()

    def _find(self) -> None:
        """Add the processes now below the child and in its group (while it is not reaped)."""
        if self.proc.poll() is not None:
            return
        found = descendants(self.proc.pid) + (_members(self.proc.pid) if self.leads else [])
        known = set(self.below)
        new = [p for p in dict.fromkeys(found) if p not in known]       # parents come before children
        self.below[:0] = new[::-1]

    def signal(self, sig: int, *, root: bool = True) -> None:
        """Send ``sig`` to every process of the tree, deepest first, and (if ``root``) to the child."""
        self._find()
        for process in self.below:
            with contextlib.suppress(psutil.Error):
                process.send_signal(sig)
        if root and self.proc.poll() is None:
            if self.leads:
                with contextlib.suppress(OSError):
                    os.killpg(self.proc.pid, sig)
            with contextlib.suppress(OSError):
                self.proc.send_signal(sig)

    def wait(self, seconds: float, *, root_only: bool = False) -> bool:
        """True once the child and (unless ``root_only``) every process below are gone, within ``seconds``."""
        deadline = time.monotonic() + seconds
        try:
            self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            return False
        if root_only:
            return True
        delay = 0.001
        while any(_alive(p) for p in self.below):
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 0.05)
        return True


def _leads_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except OSError:
        return False


def _members(pgid: int) -> list[psutil.Process]:
    """The processes of process group ``pgid`` but its leader (those that left the tree by forking twice)."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(OSError, psutil.Error):
            if process.pid != pgid and os.getpgid(process.pid) == pgid:
                found.append(process)
    return found


def _close_pipes(proc: subprocess.Popen) -> None:
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


def _reaped(tree: _Tree) -> None:
    """Wait :data:`KILL_WAIT` for a tree sent SIGKILL; log what is still there after it."""
    if not tree.wait(KILL_WAIT):
        logger.warning("process %d or one below it survived SIGKILL for %g s", tree.proc.pid, KILL_WAIT)


def stop(proc: subprocess.Popen, grace: float = 1.0, *, close_pipes: bool = True) -> None:
    """Stop ``proc`` and every process it started: SIGTERM, then SIGKILL to what is left after ``grace`` s.

    A SIGCONT follows the SIGTERM, as systemd sends one: a process stopped with SIGSTOP then
    ends at once instead of waiting out the grace period.

    Args:
        proc: a child of ours (from :func:`start` or elsewhere), running or not.
        grace: seconds the tree has to exit after SIGTERM.
        close_pipes: close ``proc``'s pipes afterwards.
    """
    tree = _Tree(proc)
    tree.signal(signal.SIGTERM)
    tree.signal(signal.SIGCONT)
    tree.wait(grace)
    tree.signal(signal.SIGKILL)           # what is left, stragglers of the process group included
    _reaped(tree)
    if close_pipes:
        _close_pipes(proc)


def kill(proc: subprocess.Popen, grace: float = 0.0, *, close_pipes: bool = True) -> None:
    """SIGKILL every process below ``proc``, then ``proc`` itself unless it exits within ``grace`` s.

    ``grace`` lets a parent such as bubblewrap reap the processes killed below it and exit by
    itself; with 0 the whole tree is killed at once (a crash, as the live lab's ``kill`` shows).

    Args:
        proc: a child of ours, running or not.
        grace: seconds ``proc`` has to exit once every process below it is killed.
        close_pipes: close ``proc``'s pipes afterwards.
    """
    tree = _Tree(proc)
    tree.signal(signal.SIGKILL, root=False)
    if grace > 0 and tree.below:
        tree.wait(grace, root_only=True)
    tree.signal(signal.SIGKILL)
    _reaped(tree)
    if close_pipes:
        _close_pipes(proc)


def _pidfd(pid: int) -> int | None:
    """A file descriptor that becomes readable when ``pid`` exits (Linux 5.3+), else None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


async def _exited(proc: subprocess.Popen) -> None:
    """Return once ``proc`` has exited, without blocking the running loop (pidfd, else polling)."""
    fd = _pidfd(proc.pid)
    if fd is not None:
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        try:
            loop.add_reader(fd, lambda: readable.done() or readable.set_result(None))
        except NotImplementedError:           # a loop without readers (Windows' proactor)
            pass
        else:
            try:
                if proc.poll() is None:
                    await readable
            finally:
                loop.remove_reader(fd)
        finally:
            os.close(fd)
    delay = 0.001
    while proc.poll() is None:
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


async def wait_async(proc: subprocess.Popen, timeout: float) -> int:
    """``proc``'s exit status once it exits, awaited without blocking the running loop.

    Raises:
        TimeoutError: ``proc`` still runs after ``timeout`` seconds (it is left running).
    """
    if proc.poll() is not None:
        return proc.returncode
    async with asyncio.timeout(timeout):
        await _exited(proc)
    return proc.returncode


async def stop_async(proc: subprocess.Popen, grace: float = 1.0, *, close_pipes: bool = True) -> None:
    """:func:`stop`, awaited from a running loop without blocking it (its waits run in a worker thread)."""
    await asyncio.to_thread(stop, proc, grace, close_pipes=close_pipes)


async def kill_async(proc: subprocess.Popen, grace: float = 0.0, *, close_pipes: bool = True) -> None:
    """:func:`kill`, awaited from a running loop without blocking it (its waits run in a worker thread)."""
    await asyncio.to_thread(kill, proc, grace, close_pipes=close_pipes)
