"""Child processes that never outlive the lab: their own process group, killed with their parent.

Every child is started with ``PR_SET_PDEATHSIG`` (Linux: the kernel sends it SIGKILL when
the thread that started it ends, so when the lab's process dies, even by SIGKILL), with
its stdin a pipe from us (a backend exits at EOF, on every system), and in a session of
its own, so stopping it stops whatever it started too.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys

__all__ = ["free_port", "kill", "spawn", "stop", "until_stopped"]


def _prctl():
    """libc's ``prctl`` on Linux, looked up once here: the child must not load libraries after fork."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    return ctypes.CDLL(None).prctl


_PRCTL = _prctl()
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:       # runs in the child, between fork and exec
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL))


def spawn(argv: list[str], *, log: str, env: dict | None = None) -> subprocess.Popen:
    """Start ``argv`` as a child that dies with us; stdout is a pipe, stderr goes to the file ``log``."""
    with open(log, "ab") as err:
        return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                env=env, start_new_session=True, preexec_fn=_die_with_parent)


def stop(proc: subprocess.Popen, grace: float = 1.0) -> None:
    """Stop ``proc`` and its process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            try:
                pipe.close()
            except OSError:
                pass


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc``'s process group at once (a crash, as the lab's ``kill`` shows)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(5.0)
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` now (for servers that cannot report the one they bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


async def until_stopped() -> None:
    """Return when SIGTERM or SIGINT arrives: how a child of the lab (a backend, a proxy) serves."""
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
