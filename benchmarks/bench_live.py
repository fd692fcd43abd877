"""stickylab's proxy beside HAProxy and nginx on the same backends, driven by wrk: req/s, p50, p99.

    python benchmarks/bench_live.py [--seconds 5] [--rounds 3] [--connections 32] [--threads 2]

Two backend processes (in-memory sessions) serve a logged-in page. Before the rounds,
``--users`` users log in through each target and are kept once ``GET /app`` through that
target finds their session (so every measured request is the sticky case: a session and,
for the proxies that set one, an affinity cookie). wrk (``apt install wrk``) then sends
``GET /app`` over ``--connections`` keep-alive connections, each request carrying the
cookies of the next user in turn (a Lua script). The targets:

- ``direct``: one backend, no proxy (what one backend can serve);
- ``haproxy``: ``cookie SRV insert indirect nocache``, ``nbthread 1`` (stickylab.live.haproxy);
- ``nginx``: one worker, ``hash $cookie_SESSION consistent``, keep-alive to the backends;
- ``stickylab``: ``python -m stickylab.live.proxy --router CookieInsert`` (``--workers`` processes).

``--variants`` adds stickylab run other ways: ``isolated`` (the router called on a worker
thread, as a learner's router is), ``https`` (TLS with the lab's certificates; wrk does not
check them) and ``2workers`` (two processes on one port).

Rounds are interleaved (each round measures every target once), so a busy moment of a
shared machine hits every target; the table shows the best and the median round. The
client, the backends and the proxy share the machine's cores, so every figure is what this
machine gives, and the ratio is the ratio here.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from stickylab import children
from stickylab.live import haproxy, procs

NGINX = """daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}; proxy_temp_path {dir}; fastcgi_temp_path {dir};
    uwsgi_temp_path {dir}; scgi_temp_path {dir};
    upstream instances {{
        hash $cookie_SESSION consistent;
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://instances;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"""

LUA = """local users = {{{users}}}
local n = 0
request = function()
    n = n + 1
    return wrk.format("GET", "/app", {{["Cookie"] = users[n % #users + 1]}})
end
"""


def start(argv: list[str], log: Path) -> tuple[subprocess.Popen, int]:
    """A child that prints ``READY <port>``; it and its port."""
    proc = procs.spawn(argv, log=str(log))
    line = proc.stdout.readline()
    if not line.startswith(b"READY "):
        raise RuntimeError(f"{argv[2]} did not start: {log.read_text()[-2000:]}")
    return proc, int(line.split()[1])


def nginx(backends: dict[str, str], tmp: Path) -> tuple[subprocess.Popen, int]:
    """nginx with one worker in front of ``backends``; it and its port."""
    port = procs.free_port()
    servers = "\n".join(f"        server {addr};" for addr in backends.values())
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX.format(dir=tmp, servers=servers, port=port))
    proc = procs.spawn(["nginx", "-c", str(conf), "-p", str(tmp)], log=str(tmp / "nginx.out"))
    procs_wait(port)
    return proc, port


def procs_wait(port: int, timeout: float = 10.0) -> None:
    """Return once 127.0.0.1:``port`` accepts connections."""
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:g} s")


def fetch(port: int, path: str, cookie: str, tls: bool = False) -> tuple[int, list[str]]:
    """One GET; its status and Set-Cookie headers."""
    if tls:
        unchecked = ssl._create_unverified_context()        # the lab's own certificate: not checked here
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=unchecked)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        reply = conn.getresponse()
        reply.read()
        return reply.status, reply.headers.get_all("Set-Cookie") or []
    finally:
        conn.close()


def logged_in_users(port: int, users: int, tls: bool = False) -> list[str]:
    """The Cookie headers of ``users`` users logged in through 127.0.0.1:``port`` whose /app is served."""
    kept: list[str] = []
    for _ in range(users * 20):
        jar: dict[str, str] = {}
        status, cookies = fetch(port, "/login", "", tls)
        jar.update(c.split(";")[0].split("=", 1) for c in cookies)
        header = "; ".join(f"{k}={v}" for k, v in jar.items())
        if status == 200 and fetch(port, "/app", header, tls)[0] == 200:
            kept.append(header)
            if len(kept) == users:
                return kept
    raise RuntimeError(f"port {port}: only {len(kept)} of {users} users found their session")


def wrk(port: int, script: Path, args, scheme: str = "http", connections: int | None = None) -> dict:
    """One wrk run: req/s, p50 and p99 in ms, and the count of non-2xx answers."""
    load = [f"-t{args.threads}", f"-c{connections or args.connections}", f"-d{args.seconds:g}s"]
    if connections == 1:
        load = ["-t1", "-c1", f"-d{max(1, args.seconds // 2)}s"]
    out = subprocess.run(["wrk", *load, "--latency", "-s", str(script), f"{scheme}://127.0.0.1:{port}/app"],
                         capture_output=True, text=True, check=True).stdout
    if "Latency Distribution" not in out:
        raise RuntimeError(f"wrk on port {port} measured nothing:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50": _ms(re.search(r" 50%\s+(\S+)", out).group(1)),
            "p99": _ms(re.search(r" 99%\s+(\S+)", out).group(1)), "bad": int(bad.group(1)) if bad else 0}


def _ms(text: str) -> float:
    """wrk's ``812.00us``, ``1.52ms`` or ``1.01s`` in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def targets(tmp: Path, args, running: list) -> dict[str, int]:
    """Start the backends and every proxy; target name -> port."""
    backends = {}
    for k in range(2):
        proc, port = start([sys.executable, "-m", "stickylab.live.backend", "--id", f"i{k}",
                            "--parent", str(os.getpid())], tmp / f"i{k}.log")
        running.append(proc)
        backends[f"i{k}"] = f"127.0.0.1:{port}"
    found = {"direct": int(backends["i0"].rsplit(":", 1)[1])}
    if haproxy.available():
        hap = haproxy.HAProxy(backends, nbthread=1).__enter__()
        running.append(hap)
        found["haproxy"] = hap.port
    if shutil.which("nginx"):
        proc, found["nginx"] = nginx(backends, tmp)
        running.append(proc)
    argv = [sys.executable, "-m", "stickylab.live.proxy", "--router", "CookieInsert",
            *[f"--backend={i}={a}" for i, a in backends.items()]]
    variants = {"stickylab": ["--workers", str(args.workers)]}
    if args.variants:
        variants.update(isolated=["--isolate-router"], https=["--tls"], **{"2workers": ["--workers", "2"]})
    for name, extra in variants.items():
        proc, found[name] = start(argv + extra, tmp / f"{name}.log")
        running.append(proc)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="of each wrk run (whole seconds, as in wrk)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1, help="stickylab proxy processes")
    parser.add_argument("--variants", action="store_true", help="also stickylab isolated, https, 2 workers")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="stickylab-bench-"))
    running: list = []
    try:
        ports = targets(tmp, args, running)
        scripts = {}
        for name, port in ports.items():
            users = ", ".join(f'"{c}"' for c in logged_in_users(port, args.users, name == "https"))
            scripts[name] = tmp / f"{name}.lua"
            scripts[name].write_text(LUA.format(users=users))
        rounds: dict[str, list[dict]] = {name: [] for name in ports}
        for _ in range(args.rounds):             # interleaved: a busy moment hits every target
            for name, port in ports.items():
                scheme = "https" if name == "https" else "http"
                measured = wrk(port, scripts[name], args, scheme)
                one = wrk(port, scripts[name], args, scheme, connections=1)
                rounds[name].append({**measured, "p50_1": one["p50"], "p99_1": one["p99"]})
        report(rounds, args)
    finally:
        for proc in reversed(running):
            proc.__exit__(None, None, None) if isinstance(proc, haproxy.HAProxy) else children.stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def report(rounds: dict[str, list[dict]], args) -> None:
    """The table: best and median req/s, median p50 and p99 under load and with one connection, ratios."""
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s, then -t1 -c1, {args.rounds} "
          f"interleaved rounds, {os.cpu_count()} cores, stickylab with {args.workers} process(es)")
    print(f"{'target':10s} {'best req/s':>10s} {'median':>8s} {'p50 ms':>7s} {'p99 ms':>7s} "
          f"{'p50 @1':>7s} {'p99 @1':>7s} {'non-2xx':>7s}")
    best, mid = {}, {}
    for name, rs in rounds.items():
        best[name] = max(r["rps"] for r in rs)
        mid[name] = {key: statistics.median(r[key] for r in rs) for key in rs[0]}
        m = mid[name]
        print(f"{name:10s} {best[name]:10.0f} {m['rps']:8.0f} {m['p50']:7.2f} {m['p99']:7.2f} "
              f"{m['p50_1']:7.2f} {m['p99_1']:7.2f} {sum(r['bad'] for r in rs):7d}")
    for name in best:
        for peer in ("haproxy", "nginx", "direct"):
            if peer in best and name not in ("haproxy", "nginx", "direct"):
                print(f"{name} / {peer}: {best[name] / best[peer]:.2f} best, "
                      f"{mid[name]['rps'] / mid[peer]['rps']:.2f} median")
    if "haproxy" in best:
        ratio = best["stickylab"] / best["haproxy"]
        print(f"target >= 1/3 of HAProxy: {'met' if ratio >= 1 / 3 else 'NOT met'}; "
              f"goal 1/2: {'met' if ratio >= 1 / 2 else 'not met'}")


if __name__ == "__main__":
    main()
