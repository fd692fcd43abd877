"""How fast the course's dashboards answer: one update = simulate + redraw + render, as a click does.

Builds the dashboards of the lessons on their default settings and calls ``update()``, the
method every widget callback calls, several times each (Agg backend, no browser). Prints the
median and 90th percentile of a full update, and of the redraw alone. The target is 250 ms.

    python benchmarks/bench_dashboard.py [repeats]
"""

import os
import statistics
import sys
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import stickylab as sl  # noqa: E402
from stickylab import viz  # noqa: E402
from stickylab import widgets as sw  # noqa: E402

TARGET_MS = 250.0
SC = sl.Scenario(users=1000, instances=4, duration=300.0, seed=1)


def lesson1():
    return sw.scenario_dashboard(
        SC, {n: n for n in ["RoundRobin", "Random", "LeastConnections", "CookieInsert"]},
        {"instances": sw.int_slider("instances", 4, 1, 12),
         "users": sw.int_slider("users", 1000, 100, 2000, 100)},
        panels=[sw.panel(viz.plot_request_sequence, users=6, until=150),
                sw.panel(viz.plot_losses_over_time, which=None)])


def lesson3_after_a_crash():
    dash = sw.scenario_dashboard(
        SC, {"redispatch": lambda: sl.routers.CookieInsert()},
        {"cookie_drop_fraction": sw.float_slider("clients without cookies", 0.0, 0.0, 1.0)},
        panels=[sw.panel(viz.plot_losses_over_time, which=None),
                sw.panel(viz.plot_losses_over_time, which=None, what="failed")], events=True)
    dash.fail_instance()
    return dash


def lesson6_skewed():
    return sw.scenario_dashboard(
        SC.replace(users=1500),
        {n: n for n in ["CookieInsert", "RoundRobin", "LeastConnections"]},
        {"skew": sw.float_slider("skew", 1.0, 0.0, 1.5, 0.1)},
        panels=[sw.panel(viz.plot_load_over_time), sw.panel(viz.plot_latency_cdf, which=None)],
        events=True)


def lesson9_hashing():
    return sw.hashing_dashboard()


def measure(dash, repeats):
    full, redraw = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        dash.update()
        full.append(time.perf_counter() - start)
        start = time.perf_counter()
        dash.redraw()
        redraw.append(time.perf_counter() - start)
    return full, redraw


def p90(values):
    return statistics.quantiles(values, n=10)[-1]


def main(repeats=15):
    print(f"dashboard update (simulate + redraw + PNG), {repeats} repeats, "
          f"target {TARGET_MS:.0f} ms")
    print(f"{'dashboard':28s} {'median':>8s} {'p90':>8s} {'redraw':>8s}  requests")
    dashboards = [("lesson 1 (stateless)", lesson1), ("lesson 3 (after a crash)", lesson3_after_a_crash),
                  ("lesson 6 (1500 skewed users)", lesson6_skewed), ("lesson 9 (50k keys)", lesson9_hashing)]
    for name, build in dashboards:
        dash = build()
        full, redraw = measure(dash, repeats)
        results = dash.results
        size = (sum(r.summary()["requests"] for r in results.values())
                if all(isinstance(r, sl.Result) for r in results.values()) else "-")
        flag = "" if statistics.median(full) * 1000 <= TARGET_MS else "  over target"
        print(f"{name:28s} {statistics.median(full) * 1000:6.0f} ms {p90(full) * 1000:6.0f} ms "
              f"{statistics.median(redraw) * 1000:6.0f} ms  {size}{flag}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
