"""A real HAProxy in front of the lab's backends: the reference our proxy is checked against.

The configuration is the classic sticky one, with the same health checks and retry
policy as :class:`~stickylab.live.Proxy`::

    balance roundrobin
    cookie SRV insert indirect nocache httponly attr "SameSite=Lax"
    option redispatch
    retries 1
    option httpchk GET /health
    server i0 127.0.0.1:PORT cookie i0 check inter 250ms fall 2 rise 1

``insert``: HAProxy adds the cookie; ``indirect``: only when the client has no valid one
(and it strips it before the backend sees it); ``nocache``: ``Cache-Control: private``
on responses that set it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import socket
from pathlib import Path

from .. import children
from . import procs

__all__ = ["HAProxy", "available", "config"]


def available() -> bool:
    """True if an ``haproxy`` binary is installed."""
    return shutil.which("haproxy") is not None


def config(backends: dict[str, str], port: int, *, cookie: str = "SRV", balance: str = "roundrobin",
           inter_ms: int = 250, maxconn: int = 4096, nbthread: int | None = None) -> str:
    """The configuration text for ``backends`` (id -> ``host:port``), listening on 127.0.0.1:``port``.

    ``nbthread``: HAProxy's threads (its default is one per core); 1 compares it with a
    single-threaded proxy.
    """
    servers = "\n".join(f"    server {iid} {addr} cookie {iid} check inter {inter_ms}ms fall 2 rise 1"
                        for iid, addr in backends.items())
    threads = f"\n    nbthread {nbthread}" if nbthread else ""
    return f"""global
    maxconn {maxconn}{threads}
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    retries 1
    option redispatch
frontend lab
    bind 127.0.0.1:{port}
    default_backend instances
backend instances
    balance {balance}
    cookie {cookie} insert indirect nocache httponly attr "SameSite=Lax"
    option httpchk GET /health
{servers}
"""


class HAProxy:
    """``haproxy`` running :func:`config` for ``backends``, as a context manager.

    ``url`` is where it listens; ``options`` go to :func:`config`.
    """

    def __init__(self, backends: dict[str, str], **options):
        if not available():
            raise RuntimeError("haproxy is not installed (apt install haproxy, brew install haproxy)")
        self.backends, self.options = dict(backends), options
        self.port = procs.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._dir: Path | None = None
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> HAProxy:
        self._dir = Path(tempfile.mkdtemp(prefix="stickylab-haproxy-"))
        cfg = self._dir / "haproxy.cfg"
        cfg.write_text(config(self.backends, self.port, **self.options))
        check = subprocess.run(["haproxy", "-c", "-q", "-f", str(cfg)], capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"haproxy refused its configuration: {check.stderr or check.stdout}")
        self._proc = procs.spawn(["haproxy", "-db", "-f", str(cfg)], log=str(self._dir / "haproxy.log"))
        self._wait()
        return self

    def _wait(self, timeout: float = 10.0) -> None:
        """Return once haproxy accepts connections."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"haproxy exited: {(self._dir / 'haproxy.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"haproxy did not listen on port {self.port} within {timeout:g} s")

    def __exit__(self, *exc) -> None:
        if self._proc is not None:
            children.stop(self._proc)
            self._proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
