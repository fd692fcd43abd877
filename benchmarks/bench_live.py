"""Our proxy and HAProxy in front of the same backends, in one run: throughput and added latency.

    python benchmarks/bench_live.py [--seconds 3] [--clients 32]

Two backend processes (in-memory sessions) serve a logged-in page. Each client logs in
once, then sends GET /app as fast as it can over one keep-alive connection, carrying its
session and affinity cookies (the sticky case). Three targets, measured one after the
other with the same client code:

- the backends directly (the floor: no proxy at all);
- HAProxy with ``cookie SRV insert indirect nocache`` (stickylab.live.haproxy);
- our proxy running ``CookieInsert("SRV")`` in its own process (``python -m stickylab.live.proxy``).

Added latency is each proxy's p50 / p99 minus the direct p50 / p99, measured with one
client (no queueing); throughput is requests per second with ``--clients`` clients. The
target: our proxy reaches at least 1/3 of HAProxy's throughput. On a small machine the
client and the backends share the cores with the proxy, so HAProxy's figure is a floor of
what HAProxy can do, and the ratio is the ratio on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import stickylab as sl
from stickylab import children
from stickylab.live import haproxy, procs
from stickylab.live.traffic import client, exchange, take


def start(argv: list[str], log: Path) -> tuple:
    proc = procs.spawn(argv, log=str(log))
    line = proc.stdout.readline()
    if not line.startswith(b"READY "):
        raise RuntimeError(f"{argv[2]} did not start: {log.read_text()[-2000:]}")
    return proc, int(line.split()[1])


async def one_client(url: str, until: float, latencies: list[float], direct: str | None) -> None:
    browser = sl.Browser()
    async with client(None, limit=1) as session:
        login = await exchange(session, (direct or url) + "/login", browser.request("/login"))
        take(browser, login, 0.0, "u")
        while time.perf_counter() < until:
            reply = await exchange(session, (direct or url) + "/app", browser.request("/app"))
            if reply.status != 200:
                raise RuntimeError(f"{url}: {reply.status} {reply.text[:200]}")
            latencies.append(reply.latency)


async def load(url: str, clients: int, seconds: float, direct: list[str] | None = None) -> dict:
    latencies: list[float] = []
    until = time.perf_counter() + seconds
    start_t = time.perf_counter()
    targets = [direct[k % len(direct)] if direct else None for k in range(clients)]
    await asyncio.gather(*(one_client(url, until, latencies, t) for t in targets))
    elapsed = time.perf_counter() - start_t
    lat = np.array(latencies)
    return {"rps": len(lat) / elapsed, "p50": float(np.percentile(lat, 50)),
            "p99": float(np.percentile(lat, 99))}


def measure(url: str, via: list[str] | None, args) -> dict:
    asyncio.run(load(url, 4, 0.3, via))                       # warm up
    single = asyncio.run(load(url, 1, args.seconds, via))
    many = asyncio.run(load(url, args.clients, args.seconds, via))
    return {"rps": many["rps"], "p50": single["p50"], "p99": single["p99"]}


def median(rounds: list[dict]) -> dict:
    return {key: float(np.median([r[key] for r in rounds])) for key in rounds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    if not haproxy.available():
        sys.exit("bench_live: haproxy is not installed (apt install haproxy); nothing to compare with")
    tmp = Path(tempfile.mkdtemp(prefix="stickylab-bench-"))
    servers = []
    try:
        backends = {}
        for k in range(2):
            proc, port = start([sys.executable, "-m", "stickylab.live.backend", "--id", f"i{k}",
                                "--parent", str(os.getpid())], tmp / f"i{k}.log")
            servers.append(proc)
            backends[f"i{k}"] = f"127.0.0.1:{port}"
        ours, port = start([sys.executable, "-m", "stickylab.live.proxy", "--router", "CookieInsert",
                            *[f"--backend={i}={a}" for i, a in backends.items()]], tmp / "proxy.log")
        servers.append(ours)
        direct = [f"http://{a}" for a in backends.values()]
        with haproxy.HAProxy(backends) as hap:
            targets = {"direct": (direct[0], direct), "haproxy": (hap.url, None),
                       "stickylab": (f"http://127.0.0.1:{port}", None)}
            rounds = {name: [] for name in targets}
            for _ in range(args.rounds):          # interleaved, so a busy moment hits every target
                for name, (url, via) in targets.items():
                    rounds[name].append(measure(url, via, args))
        report({name: median(rs) for name, rs in rounds.items()}, args)
    finally:
        for proc in servers:
            children.stop(proc)


def report(rows: dict, args) -> None:
    print(f"median of {args.rounds} rounds; {args.clients} clients for {args.seconds:g} s each; "
          f"latency with 1 client; {os.cpu_count()} cores")
    print(f"{'target':10s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'added p50':>10s} {'added p99':>10s}")
    base = rows["direct"]
    for name, r in rows.items():
        print(f"{name:10s} {r['rps']:9.0f} {r['p50'] * 1e3:8.2f} {r['p99'] * 1e3:8.2f} "
              f"{(r['p50'] - base['p50']) * 1e3:10.2f} {(r['p99'] - base['p99']) * 1e3:10.2f}")
    ratio = rows["stickylab"]["rps"] / rows["haproxy"]["rps"]
    print(f"throughput ratio stickylab / haproxy: {ratio:.2f} (target >= 0.33: "
          f"{'met' if ratio >= 1 / 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
