"""How fast the simulator runs: simulated requests per second, against a bare Python loop.

    python benchmarks/bench_engine.py [--users 20000] [--duration 3600] [--repeat 3]

The engine with CookieInsert on the default scenario scaled to 20,000 users and an hour,
timed end to end (workload generation included), and a bare loop over the same requests
that only builds a Request and calls a dict-based sticky router: the floor any engine
pays in Python. Prints both rates and their ratio.
"""

from __future__ import annotations

import argparse
import time

import stickylab as sl


class DictSticky(sl.Router):
    """The simplest sticky router there is: a key (cookie or address) -> instance, in a dict."""

    def __init__(self):
        self.table = {}
        self.next = 0

    def route(self, request, pool):
        key = request.cookies.get("STICKY") or request.client_ip
        iid = self.table.get(key)
        if iid is None:
            healthy = pool.healthy
            iid = self.table[key] = healthy[self.next % len(healthy)]
            self.next += 1
        return iid


def bare_loop(workload, pool) -> float:
    """Seconds for the bare loop: per request, build a Request from the client's own cookies and
    headers, route it with a dict-based sticky router, and remember the client's cookie.

    No sessions, cache, queue, events, responses or metrics: what any per-request
    simulator of sticky clients pays at least.
    """
    router = DictSticky()
    route, addresses = router.route, workload.addresses
    users = workload.keeps_cookies.size
    jars = [sl.Cookies() for _ in range(users)]     # read-only, as every request's cookies are
    headers = [sl.Headers({"x-user-id": f"u{u}"}) for u in range(users)]
    start = time.perf_counter()
    for t, u, a in zip(workload.times.tolist(), workload.users.tolist(), workload.addr.tolist()):
        jar = jars[u]
        route(sl.Request(addresses[a], headers[u], jar, "/app", t), pool)
        if "STICKY" not in jar:
            jars[u] = sl.Cookies({"STICKY": f"c{u}"})
    return time.perf_counter() - start


def floor_loop(workload, pool) -> float:
    """Seconds for the barest loop: one shared headers and cookie object, a dict keyed by address."""
    table, addresses, headers, cookies = {}, workload.addresses, sl.Headers(), sl.Cookies()
    healthy = pool.healthy
    start = time.perf_counter()
    for t, a in zip(workload.times.tolist(), workload.addr.tolist()):
        request = sl.Request(addresses[a], headers, cookies, "/app", t)
        if table.get(request.client_ip) is None:
            table[request.client_ip] = healthy[len(table) % len(healthy)]
    return time.perf_counter() - start


def best_of(repeat, fn):
    """The fastest of ``repeat`` timings of ``fn()`` (seconds) and its last return value."""
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--instances", type=int, default=None,
                        help="default: scaled with users, as many users per instance as the default scenario")
    parser.add_argument("--duration", type=float, default=3600.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = sl.Scenario()
    instances = args.instances or max(1, round(base.instances * args.users / base.users))
    sc = base.replace(users=args.users, instances=instances, duration=args.duration)

    gen_s, workload = best_of(args.repeat, lambda: sl.generate(sc))
    n = len(workload)
    sim_s, res = best_of(args.repeat, lambda: sl.simulate(sc, sl.routers.CookieInsert()))
    pool = sl.Pool(healthy=[f"i{k}" for k in range(sc.instances)])
    bare_s = min(bare_loop(workload, pool) for _ in range(args.repeat))
    floor_s = min(floor_loop(workload, pool) for _ in range(args.repeat))

    engine_rate, bare_rate, floor_rate = n / sim_s, n / bare_s, n / floor_s
    print(f"scenario: {sc.users} users, {sc.instances} instances, {sc.duration:g} s -> {n:,} requests")
    print(f"workload generation:          {gen_s * 1000:8.1f} ms")
    print(f"engine, CookieInsert:         {sim_s:8.2f} s   {engine_rate / 1e3:8.0f}k requests/s "
          "(end to end, workload included)")
    print(f"bare loop (Request + dict):   {bare_s:8.2f} s   {bare_rate / 1e3:8.0f}k requests/s "
          "(per-client cookies and headers, dict-based sticky router)")
    print(f"floor (no per-client state):  {floor_s:8.2f} s   {floor_rate / 1e3:8.0f}k requests/s")
    print(f"engine / bare loop speed:     {engine_rate / bare_rate:8.2f}   (target >= 0.35)")
    print(f"engine / floor speed:         {engine_rate / floor_rate:8.2f}")
    print(f"target 250k requests/s:       {'met' if engine_rate >= 250e3 else 'NOT met'}")
    print("summary:", {k: round(v, 4) for k, v in res.summary().items()})


if __name__ == "__main__":
    main()
