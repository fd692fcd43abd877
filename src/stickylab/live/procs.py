"""The lab's servers as child processes, and what a child of the lab needs to serve.

Children are started by :mod:`stickylab.children`: in a session of their own, killed with
the lab's process even by SIGKILL (Linux), with stdin a pipe from us (a backend exits at its
EOF, on every system: :func:`stickylab.children.exit_with_parent`); they are stopped, with
whatever they started, by :func:`stickylab.children.stop` and :func:`~stickylab.children.kill`.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess

from .. import children

__all__ = ["free_port", "spawn", "until_stopped"]


def spawn(argv: list[str], *, log: str, env: dict | None = None) -> subprocess.Popen:
    """Start ``argv`` as a child that dies with us; stdout is a pipe, stderr goes to the file ``log``."""
    with open(log, "ab") as err:
        return children.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env)


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
